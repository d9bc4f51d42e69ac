package ring

import "errors"

// Errors returned by New and Config.Validate. Match them with errors.Is; the
// wrapped message names the offending field or member.
var (
	// ErrInvalidConfig means a Config field is out of range.
	ErrInvalidConfig = errors.New("ring: invalid config")
	// ErrNoMembers means New was given no members.
	ErrNoMembers = errors.New("ring: no members")
	// ErrEmptyMember means a member name is the empty string.
	ErrEmptyMember = errors.New("ring: empty member name")
	// ErrDuplicateMember means a member name appears more than once.
	ErrDuplicateMember = errors.New("ring: duplicate member")
	// ErrTooManyMembers means the members cannot share SlotCount slots under
	// the configured load bound (in practice: more members than slots).
	ErrTooManyMembers = errors.New("ring: too many members")
	// ErrBuild means the consistent-hashing library failed in a way New's
	// validation should have ruled out; it indicates a bug, not bad input.
	ErrBuild = errors.New("ring: build failed")
)
