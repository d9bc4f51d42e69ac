package acl

import (
	"errors"
	"slices"
	"strings"
)

// Rule errors, worded as Redis's; ACL SETUSER prefixes them with the rule.
var (
	ErrSyntax         = errors.New("Syntax error")
	ErrUnknownCommand = errors.New("Unknown command or category name in ACL")
	ErrNoSuchPassword = errors.New("The password you are trying to remove from the user does not exist")
	ErrBadHash        = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	ErrKeyAfterAll    = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	ErrChanAfterAll   = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	ErrSelectors      = errors.New("Selectors are not supported by cached")
)

// RuleError is a rule that could not be applied, and why.
type RuleError struct {
	Rule string
	Err  error
}

// Error implements error.
func (e *RuleError) Error() string {
	return "Error in ACL SETUSER modifier '" + e.Rule + "': " + e.Err.Error()
}

// Unwrap returns the rule's own error.
func (e *RuleError) Unwrap() error { return e.Err }

// apply applies one rule to p (a clone being built).
func (p *Perms) apply(cat *Catalog, rule string) error {
	lower := strings.ToLower(rule)
	switch lower {
	case "on":
		p.enabled = true
	case "off":
		p.enabled = false
	case "nopass":
		p.nopass, p.passwords = true, nil
	case "resetpass":
		p.nopass, p.passwords = false, nil
	case "allkeys":
		p.allKeys, p.keys = true, nil
	case "resetkeys":
		p.allKeys, p.keys = false, nil
	case "allchannels":
		p.allChannels, p.channels = true, nil
	case "resetchannels":
		p.allChannels, p.channels = false, nil
	case "allcommands":
		return p.apply(cat, "+@all")
	case "nocommands":
		return p.apply(cat, "-@all")
	case "reset":
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels", "off", "-@all"} {
			p.apply(cat, r)
		}
	case "sanitize-payload", "skip-sanitize-payload", "clearselectors":
		// Accepted so that Redis's ACL files load: cached has no
		// RESTORE payloads to sanitise and no selectors to clear.
	default:
		return p.applyPrefixed(cat, rule)
	}
	return nil
}

// applyPrefixed applies the rules that start with a sigil.
func (p *Perms) applyPrefixed(cat *Catalog, rule string) error {
	switch {
	case rule == "":
		return ErrSyntax
	case rule[0] == '>':
		h := hashPassword(rule[1:])
		p.nopass = false
		if !slices.Contains(p.passwords, h) {
			p.passwords = append(p.passwords, h)
		}
	case rule[0] == '<':
		return p.removePassword(hashPassword(rule[1:]))
	case rule[0] == '#':
		if !validHash(rule[1:]) {
			return ErrBadHash
		}
		p.nopass = false
		if !slices.Contains(p.passwords, rule[1:]) {
			p.passwords = append(p.passwords, rule[1:])
		}
	case rule[0] == '!':
		if !validHash(rule[1:]) {
			return ErrBadHash
		}
		return p.removePassword(rule[1:])
	case rule[0] == '~' || rule[0] == '%':
		return p.addKeyPattern(rule)
	case rule[0] == '&':
		if rule == "&*" {
			p.allChannels, p.channels = true, nil
			return nil
		}
		if p.allChannels {
			return ErrChanAfterAll
		}
		if !slices.Contains(p.channels, rule[1:]) {
			p.channels = append(p.channels, rule[1:])
		}
	case rule[0] == '+' || rule[0] == '-':
		return p.applyCommandRule(cat, rule)
	case rule[0] == '(':
		return ErrSelectors
	default:
		return ErrSyntax
	}
	return nil
}

func (p *Perms) removePassword(h string) error {
	i := slices.Index(p.passwords, h)
	if i < 0 {
		return ErrNoSuchPassword
	}
	p.passwords = slices.Delete(p.passwords, i, i+1)
	return nil
}

// validHash reports whether h is 64 lower-case hex digits.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := range len(h) {
		if !('0' <= h[i] && h[i] <= '9' || 'a' <= h[i] && h[i] <= 'f') {
			return false
		}
	}
	return true
}

// addKeyPattern applies ~pattern, %R~pattern, %W~pattern or %RW~pattern.
func (p *Perms) addKeyPattern(rule string) error {
	k := KeyPattern{Read: true, Write: true}
	pattern := rule[1:]
	if rule[0] == '%' {
		flags, pat, ok := strings.Cut(rule[1:], "~")
		if !ok || flags == "" {
			return ErrSyntax
		}
		k = KeyPattern{}
		for _, f := range strings.ToUpper(flags) {
			switch f {
			case 'R':
				k.Read = true
			case 'W':
				k.Write = true
			default:
				return ErrSyntax
			}
		}
		pattern = pat
	}
	k.Pattern = pattern
	if p.allKeys {
		return ErrKeyAfterAll
	}
	if pattern == "*" && k.Read && k.Write {
		p.allKeys, p.keys = true, nil
		return nil
	}
	if !slices.Contains(p.keys, k) {
		p.keys = append(p.keys, k)
	}
	return nil
}

// applyCommandRule applies +cmd, -cmd, +cmd|sub, -cmd|sub, +@cat, -@cat.
func (p *Perms) applyCommandRule(cat *Catalog, rule string) error {
	allow := rule[0] == '+'
	name := strings.ToLower(rule[1:])
	var ids []int
	switch {
	case name == "@all":
		for i := range p.commands {
			p.commands[i] = 0
			if allow {
				p.commands[i] = ^uint64(0)
			}
		}
		p.cmdRules = []string{strings.ToLower(rule)}
		return nil
	case strings.HasPrefix(name, "@"):
		var ok bool
		if ids, ok = cat.category[name[1:]]; !ok {
			return ErrUnknownCommand
		}
	case strings.Contains(name, "|"):
		id, ok := cat.ID(name)
		if !ok {
			return ErrUnknownCommand
		}
		ids = []int{id}
	default:
		var ok bool
		if ids, ok = cat.family[name]; !ok {
			return ErrUnknownCommand
		}
	}
	for _, id := range ids {
		if allow {
			p.commands[id/64] |= 1 << (id % 64)
		} else {
			p.commands[id/64] &^= 1 << (id % 64)
		}
	}
	p.cmdRules = append(p.cmdRules, rule[:1]+name)
	return nil
}
