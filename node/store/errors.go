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
	// ErrHashNotInteger: HINCRBY found a field value that is not a 64-bit
	// integer.
	ErrHashNotInteger = errors.New("hash value is not an integer")
	// ErrHashNotFloat: HINCRBYFLOAT found a field value that is not a number.
	ErrHashNotFloat = errors.New("hash value is not a float")
	// ErrIncrNaN: HINCRBYFLOAT's increment is itself NaN or infinite.
	ErrIncrNaN = errors.New("value is NaN or Infinity")
	// ErrIndexOutOfRange: a list index is outside the list (LSET).
	ErrIndexOutOfRange = errors.New("index out of range")
	// ErrScoreNaN: a sorted-set increment would make a score NaN (inf + -inf).
	ErrScoreNaN = errors.New("resulting score is not a number (NaN)")
	// ErrBadRecord: a record (see DecodeRecord) is malformed; the wrapping
	// error says where and what.
	ErrBadRecord = errors.New("bad record")
)
