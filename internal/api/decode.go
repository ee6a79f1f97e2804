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

// maxBodyBytes bounds every JSON request body (log batches are the largest
// legitimate bodies, at about 4 MB).
const maxBodyBytes = 16 << 20

// decodeBody reads and validates r's JSON body into dst. Every failure is a
// 4xx naming the problem: 413 for an oversize body, 422 for malformed JSON, a
// value of the wrong type (with the field's path) or a missing required
// field.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
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
	return checkUnknown(body, reflect.TypeOf(dst).Elem(), "")
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
