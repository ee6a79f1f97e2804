package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// decodeBody reads and validates r's JSON body into dst. Every failure is a
// 4xx naming the problem: 413 for a body over limit, 422 for malformed JSON,
// JSON nested too deeply, a value of the wrong type (with the field's path),
// a missing required field or a string over its length limit.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, optional bool, limit int64) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return errorf(http.StatusBadRequest, "could not read request body: %v", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || string(body) == "null" {
		if optional {
			return nil
		}
		return errorf(http.StatusUnprocessableEntity, "request body is required")
	}
	if err := model.CheckJSONDepth(body, model.MaxJSONDepth); err != nil {
		return errorf(http.StatusUnprocessableEntity, "request body: %v", err)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	if err := checkRequired(body, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return err
	}
	if err := checkUnknown(body, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return err
	}
	return checkStrings(reflect.ValueOf(dst).Elem(), "", false)
}

// strictType reports whether unknown keys in objects of t are refused.
// Prefect's filter models forbid extra keys, so a misspelt or unsupported
// filter is a 422 instead of a filter that silently matches everything;
// Baton's filter types are the named types ending in "Filter".
func strictType(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && strings.HasSuffix(t.Name(), "Filter") && t.PkgPath() == modelPkg
}

// modelPkg is the import path of the package that holds the filter types.
var modelPkg = reflect.TypeFor[model.IDFilter]().PkgPath()

// checkUnknown walks the raw JSON alongside the Go type and answers 422
// for the first key of a strict (filter) object that its type does not
// have.
func checkUnknown(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !hasStrict(t, map[reflect.Type]bool{}) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := checkUnknown(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		for k, v := range m {
			if err := checkUnknown(v, t.Elem(), joinPath(path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		strict := strictType(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				if strict {
					return errorf(http.StatusUnprocessableEntity, "field %q: unknown filter key (known: %s)", joinPath(path, k), strings.Join(sortedKeys(fields), ", "))
				}
				continue
			}
			if err := checkUnknown(obj[k], ft, joinPath(path, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// collectFields maps t's JSON keys to their types, embedded structs
// flattened (outer fields win, as in encoding/json).
func collectFields(t reflect.Type, into map[string]reflect.Type) {
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			embedded = append(embedded, f.Type)
			continue
		}
		if name := jsonName(f); name != "" {
			into[name] = f.Type
		}
	}
	for _, et := range embedded {
		inner := map[string]reflect.Type{}
		collectFields(et, inner)
		for k, v := range inner {
			if _, taken := into[k]; !taken {
				into[k] = v
			}
		}
	}
}

// hasStrict reports whether t is or contains a strict (filter) type.
func hasStrict(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	if strictType(t) {
		return true
	}
	for i := 0; i < t.NumField(); i++ {
		if hasStrict(t.Field(i).Type, seen) {
			return true
		}
	}
	return false
}

// jsonError turns an encoding/json error into a 422 that names the field.
func jsonError(err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errorf(http.StatusUnprocessableEntity, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errorf(http.StatusUnprocessableEntity, "request body: expected %s, got %s", typeName(te.Type), te.Value)
		}
		return errorf(http.StatusUnprocessableEntity, "field %q: expected %s, got %s", field, typeName(te.Type), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusUnprocessableEntity, "malformed JSON: unexpected end of input")
	default:
		return errorf(http.StatusUnprocessableEntity, "invalid request body: %v", err)
	}
}

func typeName(t reflect.Type) string {
	switch t.Name() {
	case "ID":
		return "a UUID"
	case "Time":
		return "an ISO 8601 datetime"
	case "StateType":
		return "a state type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// checkRequired walks the raw JSON alongside the Go type and reports the
// first field tagged `required:"true"` that is absent or null.
func checkRequired(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Struct && !(t.Elem().Kind() == reflect.Pointer && t.Elem().Elem().Kind() == reflect.Struct) {
			return nil
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := checkRequired(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if !hasRequired(t) {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
				// An embedded struct's fields live in the same object.
				if err := checkRequired(raw, f.Type, path); err != nil {
					return err
				}
				continue
			}
			name := jsonName(f)
			if name == "" {
				continue
			}
			v, ok := obj[name]
			p := name
			if path != "" {
				p = path + "." + name
			}
			if !ok || string(v) == "null" {
				if f.Tag.Get("required") == "true" {
					return errorf(http.StatusUnprocessableEntity, "field %q is required", p)
				}
				continue
			}
			if err := checkRequired(v, f.Type, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasRequired(t reflect.Type) bool {
	return hasRequiredSeen(t, map[reflect.Type]bool{})
}

func hasRequiredSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("required") == "true" || hasRequiredSeen(f.Type, seen) {
			return true
		}
	}
	return false
}

// jsonName returns the JSON key of a struct field ("" if not serialised).
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return f.Name
	}
	return name
}

// readBody reads at most limit bytes of r's body. A declared length is read
// into a buffer of exactly that size (no doubling as the buffer grows: the
// body is all the memory a request costs before decoding).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, n)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(rd)
}

// checkStrings walks a decoded value and refuses strings over their limit:
// names, keys, handles, slugs, tags and map keys at maxNameLength, any other
// string at maxStringLength. It names the field, so the client sees which.
func checkStrings(v reflect.Value, path string, nameLike bool) error {
	switch v.Kind() {
	case reflect.String:
		limit := maxStringLength
		if nameLike {
			limit = maxNameLength
		}
		if n := v.Len(); n > limit {
			return errorf(http.StatusUnprocessableEntity, "field %q is %d bytes long; at most %d are allowed", path, n, limit)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkStrings(v.Elem(), path, nameLike)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // raw JSON or bytes: bounded by the body limit
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), nameLike); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			p := fmt.Sprintf("%s[%v]", path, k)
			if k.Kind() == reflect.String && k.Len() > maxNameLength {
				return errorf(http.StatusUnprocessableEntity, "a key of field %q is %d bytes long; at most %d are allowed", path, k.Len(), maxNameLength)
			}
			if err := checkStrings(it.Value(), p, false); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "" {
				continue
			}
			p := name
			if f.Anonymous && f.Tag.Get("json") == "" {
				p = path // embedded: its fields are the parent's
			} else if path != "" {
				p = path + "." + name
			}
			if err := checkStrings(v.Field(i), p, isNameField(name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// isNameField reports whether a JSON field holds a name-like string (or a
// list of them) that deserves the short limit.
func isNameField(name string) bool {
	switch name {
	case "name", "key", "slug", "handle", "tags", "any_", "not_any_", "like_", "startswith_":
		return true
	}
	return strings.HasSuffix(name, "_name") || strings.HasSuffix(name, "_key") || strings.HasSuffix(name, "_names")
}
