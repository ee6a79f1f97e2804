package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Time is a UTC instant with microsecond precision, the resolution Prefect
// stores. It parses every form the Prefect client sends: a 'T' or space
// separator, 'Z' or a numeric offset, 0 to 9 fractional digits, and naive
// values (taken as UTC).
type Time struct{ time.Time }

// TimeLayout is how Baton writes instants: RFC 3339 with six fractional
// digits in UTC, the shape Pydantic produces.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// NewTime truncates t to microseconds and converts it to UTC.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Microsecond)} }

// TimePtr is NewTime returning a pointer, for optional fields.
func TimePtr(t time.Time) *Time { v := NewTime(t); return &v }

// ParseTime parses an instant in any of the accepted forms.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02"}
	var err error
	for _, l := range layouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return NewTime(t), nil
		}
	}
	return Time{}, err
}

// MarshalJSON writes the instant in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 30)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts any form ParseTime does; anything else is a
// *json.UnmarshalTypeError naming the field.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if v, err := ParseTime(s); err == nil {
			*t = v
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: describe(b), Type: reflect.TypeFor[Time]()}
}

// Micros returns the instant as microseconds since the Unix epoch, the form
// the store indexes.
func (t Time) Micros() int64 { return t.UnixMicro() }

// TimeFromMicros is the inverse of Micros.
func TimeFromMicros(us int64) Time { return Time{time.UnixMicro(us).UTC()} }

// Duration is a time span written as float seconds, as Prefect writes
// timedelta fields.
type Duration float64

// Seconds returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(float64(d) * float64(time.Second)) }

// DurationOf converts a time.Duration.
func DurationOf(d time.Duration) Duration { return Duration(d.Seconds()) }
