package blocks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

// Checksum computes a block schema's checksum exactly as the Prefect
// client does (Block._calculate_schema_checksum): the fields without any
// "secret_fields" key, with "definitions" narrowed to the definitions that
// are not blocks themselves, dumped by Python's json module with sorted
// keys inside the ((fields,), {}) tuple hash_objects builds, then SHA-256.
// The client looks schemas up by this value, so it must match to the byte.
func Checksum(fields json.RawMessage) (string, error) {
	var v any
	if len(bytes.TrimSpace(fields)) == 0 {
		v = map[string]any{}
	} else {
		dec := json.NewDecoder(bytes.NewReader(fields))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("block schema fields: %w", err)
		}
	}
	obj, ok := removeKey(v, "secret_fields").(map[string]any)
	if !ok {
		return "", fmt.Errorf("block schema fields must be a JSON object")
	}
	if defs, ok := obj["definitions"].(map[string]any); ok && len(defs) > 0 {
		nonBlock := nonBlockDefinitions(obj, defs, 0)
		if len(nonBlock) > 0 {
			obj["definitions"] = nonBlock
		} else {
			delete(obj, "definitions")
		}
	}
	var buf bytes.Buffer
	buf.WriteString("[[")
	pyDump(&buf, obj)
	buf.WriteString("], {}]")
	sum := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// removeKey returns a copy of v without key at any depth of nested objects
// (lists are left as they are, as Prefect's remove_nested_keys does).
func removeKey(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k != key {
			out[k] = removeKey(x, key)
		}
	}
	return out
}

// refStrings collects every "$ref" value under v.
func refStrings(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			*out = append(*out, r)
		}
		for _, c := range x {
			refStrings(c, out)
		}
	case []any:
		for _, c := range x {
			refStrings(c, out)
		}
	}
}

// nonBlockDefinitions mirrors _get_non_block_reference_definitions: the
// definitions reachable from obj that carry no block_type_slug.
func nonBlockDefinitions(obj any, defs map[string]any, depth int) map[string]any {
	out := map[string]any{}
	if depth > 64 {
		return out
	}
	var refs []string
	refStrings(obj, &refs)
	for _, r := range refs {
		key := strings.ReplaceAll(r, "#/definitions/", "")
		d, ok := defs[key].(map[string]any)
		if !ok || len(d) == 0 {
			continue
		}
		if slug, has := d["block_type_slug"]; has && slug != nil {
			continue
		}
		out[key] = d
		for k, x := range nonBlockDefinitions(d, defs, depth+1) {
			out[k] = x
		}
	}
	return out
}

// pyDump writes v as Python's json.dumps(v, sort_keys=True) would: ", "
// and ": " separators, non-ASCII escaped as \uXXXX, numbers as sent.
func pyDump(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(x.String())
	case string:
		pyString(b, x)
	case []any:
		b.WriteByte('[')
		for i, c := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyDump(b, c)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return pyLess(keys[i], keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, k)
			b.WriteString(": ")
			pyDump(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

// pyLess orders strings by code point, as Python sorts str keys.
func pyLess(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] != rb[i] {
			return ra[i] < rb[i]
		}
	}
	return len(ra) < len(rb)
}

// pyString writes s with Python's ensure_ascii escaping.
func pyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}
