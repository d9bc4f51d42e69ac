package acl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrFileNotSet is returned by ACL LOAD and SAVE without an aclfile.
var ErrFileNotSet = errors.New("This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")

// Load replaces the users with those of the aclfile at path: one
// "user <name> <rules...>" per line, as ACL SAVE writes; blank lines and
// lines starting with '#' are skipped. Any error leaves the users as they
// were. A file without a default user keeps the current one (with its
// requirepass password).
func (r *Users) Load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defs, err := r.parseFile(path, b)
	if err != nil {
		return err
	}
	r.replace(defs)
	return nil
}

// parseFile parses an aclfile's contents; errors name the file and line.
func (r *Users) parseFile(path string, b []byte) (map[string]*Perms, error) {
	defs := map[string]*Perms{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		fail := func(msg string) error {
			return fmt.Errorf("%s:%d: %s. WARNING: ACL errors detected, no change to the previously active ACL rules was performed", path, line, msg)
		}
		if f[0] != "user" || len(f) < 2 {
			return nil, fail("should start with user keyword followed by the username")
		}
		if _, dup := defs[f[1]]; dup {
			return nil, fail("Duplicate user '" + f[1] + "' found")
		}
		if !validName(f[1]) {
			return nil, fail("Usernames can't contain spaces or null characters")
		}
		p, err := r.build(newPerms(r.catalog), f[2:])
		if err != nil {
			var re *RuleError
			if errors.As(err, &re) {
				return nil, fail(re.Err.Error())
			}
			return nil, fail(err.Error())
		}
		defs[f[1]] = p
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return defs, nil
}

// validName reports whether name can be a user's name.
func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\x00")
}

// Save writes the users to path atomically: a temporary file in the same
// directory, synced, then renamed over path, and the directory synced.
func (r *Users) Save(path string) error {
	var b bytes.Buffer
	for _, l := range r.List() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
