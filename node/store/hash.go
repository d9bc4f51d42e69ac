package store

// Hash is a hash value: fields to values. Its methods run under the shard
// lock of its key (see Store.ViewObject and Store.UpdateObject); values it
// returns are only valid until the lock is released.
type Hash struct {
	fields map[string][]byte
	bytes  int64
}

// hashFieldOverhead estimates a field's map slot and headers beyond the
// allocation sizes of its name and value.
const hashFieldOverhead = 48

// NewHash returns an empty hash.
func NewHash() Collection { return &Hash{fields: make(map[string][]byte)} }

// Kind implements Collection.
func (h *Hash) Kind() Kind { return KindHash }

// Encoding implements Collection. Redis names small hashes "listpack".
func (h *Hash) Encoding() string {
	if len(h.fields) <= 128 {
		return "listpack"
	}
	return "hashtable"
}

// Len implements Collection.
func (h *Hash) Len() int { return len(h.fields) }

// Bytes implements Collection.
func (h *Hash) Bytes() int64 { return 64 + h.bytes }

// Clone implements Collection.
func (h *Hash) Clone() Collection {
	c := &Hash{fields: make(map[string][]byte, len(h.fields)), bytes: h.bytes}
	for f, v := range h.fields {
		c.fields[f] = append([]byte(nil), v...)
	}
	return c
}

func fieldBytes(f string, v []byte) int64 {
	return int64(hashFieldOverhead + allocSize(len(f)) + allocSize(len(v)))
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	v, ok := h.fields[string(field)]
	return v, ok
}

// Set sets field to a copy of val and reports whether the field is new.
func (h *Hash) Set(field, val []byte) bool {
	old, ok := h.fields[string(field)]
	if ok {
		h.bytes -= fieldBytes(string(field), old)
	}
	f := string(field)
	v := append([]byte(nil), val...)
	h.fields[f] = v
	h.bytes += fieldBytes(f, v)
	return !ok
}

// Del deletes field and reports whether it existed.
func (h *Hash) Del(field []byte) bool {
	old, ok := h.fields[string(field)]
	if ok {
		h.bytes -= fieldBytes(string(field), old)
		delete(h.fields, string(field))
	}
	return ok
}

// All yields every field and value, in no particular order.
func (h *Hash) All(yield func(field string, val []byte) bool) {
	for f, v := range h.fields {
		if !yield(f, v) {
			return
		}
	}
}
