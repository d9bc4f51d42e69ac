package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/cached/cached/protocol/acl"
	"github.com/cached/cached/protocol/resp"
)

// maxPasswordFile bounds a requirepass-file: a password, not a data file.
const maxPasswordFile = 4096

// readPasswordFile reads a password from path, as mounted from a
// Kubernetes Secret: the whole file but one trailing newline ("\n" or
// "\r\n"). An empty password is an error, not "no password".
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, maxPasswordFile+1)
	n, err := f.Read(b)
	if err != nil && n == 0 {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if n > maxPasswordFile {
		return "", fmt.Errorf("%s: longer than %d bytes", path, maxPasswordFile)
	}
	pass := strings.TrimSuffix(strings.TrimSuffix(string(b[:n]), "\n"), "\r")
	if pass == "" {
		return "", fmt.Errorf("%s: empty password", path)
	}
	return pass, nil
}

// newUsers builds the ACL users every front end shares: the default user
// with requirepass, then the aclfile's users (its default user, if it has
// one, wins).
func newUsers(cfg *config) (*acl.Users, error) {
	users := acl.NewUsers(resp.ACLCatalog())
	users.SetDefaultPassword(cfg.resp.RequirePass)
	if cfg.resp.ACLFile != "" {
		if err := users.Load(cfg.resp.ACLFile); err != nil {
			return nil, fmt.Errorf("aclfile: %w", err)
		}
	}
	return users, nil
}

// errProtected is why a node in protected mode does not start.
var errProtected = errors.New("protected mode")

// checkProtectedMode refuses, as Redis's protected mode does for clients,
// to serve a non-loopback address while anyone may connect without a
// password (the default user is on and nopass).
func checkProtectedMode(cfg *config, users *acl.Users) error {
	bind := cfg.settings["bind"]
	if !cfg.protectedMode || loopback(bind) || !users.AnonymousAccess() {
		return nil
	}
	return fmt.Errorf("%w: refusing to listen on %q, which is not a loopback address, while clients need no password. "+
		"Set requirepass or requirepass-file (or an aclfile whose default user has a password or is off), "+
		"or bind 127.0.0.1, or, if the network is protected otherwise, set protected-mode no", errProtected, bind)
}

// loopback reports whether bind is a loopback address.
func loopback(bind string) bool {
	if bind == "localhost" {
		return true
	}
	ip := net.ParseIP(bind)
	return ip != nil && ip.IsLoopback()
}
