package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/memberlist"
)

// gossipKeys is the keyring that encrypts gossip, from gossip-key or from
// gossip-key-file. The file holds one base64 key per line (blank lines and
// # comments are skipped): the first encrypts, all decrypt. The file is
// re-read by poll, so keys rotate without downtime: add the new key as a
// second line on every node, then move it first on every node, then drop
// the old one.
type gossipKeys struct {
	file    string // empty: a fixed key from gossip-key
	keyring *memberlist.Keyring
	seen    []byte // the file's contents last installed or rejected
}

// newGossipKeys returns the keyring of gossip-key or gossip-key-file, or
// nil when neither is set.
func newGossipKeys(key, file string) (*gossipKeys, error) {
	switch {
	case key != "" && file != "":
		return nil, errors.New("invalid gossip-key: set gossip-key or gossip-key-file, not both")
	case key != "":
		k, err := parseGossipKey(key)
		if err != nil {
			return nil, fmt.Errorf("invalid gossip-key: %w", err)
		}
		ring, err := memberlist.NewKeyring(nil, k)
		if err != nil {
			return nil, fmt.Errorf("invalid gossip-key: %w", err)
		}
		return &gossipKeys{keyring: ring}, nil
	case file != "":
		g := &gossipKeys{file: file}
		if _, err := g.reload(); err != nil {
			return nil, fmt.Errorf("invalid gossip-key-file %q: %w", file, err)
		}
		return g, nil
	}
	return nil, nil
}

// reload re-reads the key file and, if it changed, installs its keys: the
// new ones first, then the primary, then it removes the keys no longer
// listed. It reports whether the keys changed. On an error the keyring is
// left as it was and the same contents are not tried again. reload is
// called from one goroutine at a time.
func (g *gossipKeys) reload() (bool, error) {
	if g.file == "" {
		return false, nil
	}
	b, err := os.ReadFile(g.file)
	if err != nil {
		return false, err
	}
	if g.keyring != nil && bytes.Equal(b, g.seen) {
		return false, nil
	}
	g.seen = b
	keys, err := parseGossipKeyFile(b)
	if err != nil {
		return false, err
	}
	if g.keyring == nil {
		g.keyring, err = memberlist.NewKeyring(keys, keys[0])
		return err == nil, err
	}
	for _, k := range keys {
		if err := g.keyring.AddKey(k); err != nil {
			return false, err
		}
	}
	if err := g.keyring.UseKey(keys[0]); err != nil {
		return false, err
	}
	for _, old := range g.keyring.GetKeys() {
		if !containsKey(keys, old) {
			if err := g.keyring.RemoveKey(old); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// parseGossipKeyFile returns the keys of a gossip key file, primary first.
func parseGossipKeyFile(b []byte) ([][]byte, error) {
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseGossipKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if !containsKey(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no key in the file")
	}
	return keys, nil
}

// parseGossipKey decodes a base64 AES key of 16, 24 or 32 bytes.
func parseGossipKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(k) != 16 && len(k) != 24 && len(k) != 32 {
		return nil, fmt.Errorf("a key must be 16, 24 or 32 bytes, got %d", len(k))
	}
	return k, nil
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}
