package main

import "strings"

// oneLine returns err's text on one line: a parser's multi-line message
// (the YAML decoder lists one error per line) joined with "; ", so that
// start-up errors stay one log line.
func oneLine(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}
