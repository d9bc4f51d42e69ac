package store

import "errors"

// Errors returned by store operations. Front ends map them to protocol
// replies (RESP error prefixes, gRPC codes); match them with errors.Is.
var (
	// ErrWrongType: the key holds a value of another type.
	ErrWrongType = errors.New("operation against a key holding the wrong kind of value")
	// ErrNotInteger: the value or argument is not a 64-bit integer.
	ErrNotInteger = errors.New("value is not an integer or out of range")
	// ErrNotFloat: the value or argument is not a valid float.
	ErrNotFloat = errors.New("value is not a valid float")
	// ErrOverflow: an increment would overflow a 64-bit integer.
	ErrOverflow = errors.New("increment or decrement would overflow")
	// ErrNaN: a float increment would give NaN or an infinity.
	ErrNaN = errors.New("increment would produce NaN or Infinity")
	// ErrNoSuchKey: the command needs an existing key.
	ErrNoSuchKey = errors.New("no such key")
	// ErrTooLarge: a string would grow past MaxStringLen.
	ErrTooLarge = errors.New("string exceeds maximum allowed size (proto-max-bulk-len)")
	// ErrOOM: maxmemory is reached and the policy cannot free memory.
	ErrOOM = errors.New("command not allowed when used memory > 'maxmemory'")
)
