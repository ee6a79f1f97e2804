package sqlite

import (
	"encoding/json"
	"slices"

	"github.com/batonhq/baton/internal/model"
)

// appendEventJSON appends ev encoded exactly as json.Marshal(ev) would
// (TestAppendEventJSONMatchesMarshal), without reflection: encoding is a
// good share of what storing an event costs. Strings that are not plain
// printable ASCII, and payloads, go through encoding/json itself, so the
// escaping rules are the standard library's, not a copy of them.
func appendEventJSON(b []byte, ev *model.Event) ([]byte, error) {
	b = append(b, `{"id":"`...)
	b = append(b, ev.ID.String()...)
	b = append(b, `","occurred":"`...)
	b = ev.Occurred.UTC().AppendFormat(b, model.TimeLayout)
	b = append(b, `","event":`...)
	var err error
	if b, err = appendJSONString(b, ev.Event); err != nil {
		return nil, err
	}
	b = append(b, `,"resource":`...)
	if b, err = appendStringMap(b, ev.Resource); err != nil {
		return nil, err
	}
	b = append(b, `,"related":`...)
	if ev.Related == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range ev.Related {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendStringMap(b, r); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"payload":`...)
	if ev.Payload == nil {
		b = append(b, "null"...)
	} else {
		p, err := json.Marshal(ev.Payload)
		if err != nil {
			return nil, err
		}
		b = append(b, p...)
	}
	b = append(b, `,"follows":`...)
	if ev.Follows == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = append(b, ev.Follows.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"received":"`...)
	b = ev.Received.UTC().AppendFormat(b, model.TimeLayout)
	return append(b, `"}`...), nil
}

// appendStringMap appends m as a JSON object with sorted keys (null when
// nil), as encoding/json writes a map[string]string.
func appendStringMap(b []byte, m map[string]string) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendJSONString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendJSONString(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted: directly when every byte is printable
// ASCII that encoding/json leaves alone, else through json.Marshal.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				return nil, err
			}
			return append(b, q...), nil
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}
