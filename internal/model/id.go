package model

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"time"
)

// ID is a UUID. It is its own type (rather than a library's) so that a
// malformed value in a request body becomes a json.UnmarshalTypeError, which
// the decoder reports together with the path of the offending field.
type ID [16]byte

// Nil is the zero ID.
var Nil ID

var errBadID = errors.New("not a valid UUID")

// NewID returns a random (version 4) ID.
func NewID() ID {
	var id ID
	_, _ = rand.Read(id[:])
	id[6] = (id[6] & 0x0f) | 0x40
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

var v7mu sync.Mutex
var v7last int64

// NewIDv7 returns a time-ordered (version 7) ID, which keeps index inserts
// append-mostly for high-volume tables such as events, logs, runs and their
// states (a random id dirties a random index page on every insert).
func NewIDv7() ID {
	var id ID
	_, _ = rand.Read(id[:])
	v7mu.Lock()
	ms := time.Now().UnixMilli()
	if ms <= v7last {
		ms = v7last
	}
	v7last = ms
	v7mu.Unlock()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ms))
	copy(id[0:6], b[2:8])
	id[6] = (id[6] & 0x0f) | 0x70
	id[8] = (id[8] & 0x3f) | 0x80
	return id
}

// ParseID parses the canonical 8-4-4-4-12 form, with or without hyphens and
// braces, in either case.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return id, errBadID
		}
		s = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 32:
	default:
		return id, errBadID
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, errBadID
	}
	return id, nil
}

// MustID parses s and panics if it is not a UUID. For tests and constants.
func MustID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// IsNil reports whether id is the zero ID.
func (id ID) IsNil() bool { return id == Nil }

// String returns the canonical lower-case hyphenated form.
func (id ID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:])
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler (also used for map keys).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// MarshalJSON writes the ID as a JSON string.
func (id ID) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 38)
	b = append(b, '"')
	b = append(b, id.String()...)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON string holding a UUID. A wrong value is reported
// as a *json.UnmarshalTypeError so the decoder adds the field's path.
func (id *ID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if v, err := ParseID(s); err == nil {
			*id = v
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: describe(b), Type: reflect.TypeFor[ID]()}
}

func describe(b []byte) string {
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	switch {
	case len(b) > 0 && b[0] == '"':
		return "string " + s
	case len(b) > 0 && (b[0] == '{'):
		return "object"
	case len(b) > 0 && (b[0] == '['):
		return "array"
	default:
		return s
	}
}
