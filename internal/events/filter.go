package events

import (
	"strings"
	"unicode"

	"github.com/batonhq/baton/internal/model"
)

// Resource label keys the filters and the recorder read.
const (
	labelResourceID   = "prefect.resource.id"
	labelResourceRole = "prefect.resource.role"
)

// Matches reports whether e satisfies every constraint of f, evaluated in
// memory. It decides what live /events/out subscribers receive, so it must
// agree with the store's SQL evaluation of the same filter; a nil filter or
// a nil sub-filter matches everything.
//
// Semantics (following Prefect's EventFilter):
//   - occurred: since ≤ occurred ≤ until (both inclusive).
//   - event: the name starts with one of prefix, is not under any
//     exclude_prefix, equals one of name, equals none of exclude_name.
//   - resource: the primary resource has one of id, an id starting with one
//     of id_prefix, and satisfies labels.
//   - related: for each filter of the list, some single related resource
//     satisfies all of its criteria (id, id_prefix, role, labels,
//     resources_in_roles).
//   - any_resource: for each filter of the list, the primary resource or some
//     related resource satisfies id, id_prefix and labels.
//   - id: the event id is in the list.
//   - text: Prefect's query syntax (see matchText).
//
// A label constraint maps a key to values; a value ending in '*' matches by
// prefix and a value starting with '!' excludes. A resource satisfies the key
// when it matches one of the positive values (if there are any) and none of
// the negated ones.
func Matches(f *model.EventFilter, e *model.Event) bool {
	if f == nil {
		return true
	}
	if o := f.Occurred; o != nil {
		if o.Since != nil && e.Occurred.Before(o.Since.Time) {
			return false
		}
		if o.Until != nil && e.Occurred.After(o.Until.Time) {
			return false
		}
	}
	if n := f.Event; n != nil {
		if len(n.Prefix) > 0 && !hasAnyPrefix(e.Event, n.Prefix) {
			return false
		}
		if hasAnyPrefix(e.Event, n.ExcludePrefix) {
			return false
		}
		if len(n.Name) > 0 && !contains(n.Name, e.Event) {
			return false
		}
		if contains(n.ExcludeName, e.Event) {
			return false
		}
	}
	if r := f.Resource; r != nil && !matchResource(r, e.Resource, false) {
		return false
	}
	for i := range f.Related {
		if !matchSomeRelated(&f.Related[i], e.Related) {
			return false
		}
	}
	for i := range f.AnyResource {
		r := &f.AnyResource[i]
		if !matchResource(r, e.Resource, false) && !matchSomeResource(r, e.Related) {
			return false
		}
	}
	if f.ID != nil && len(f.ID.ID) > 0 {
		found := false
		for _, id := range f.ID.ID {
			if id == e.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if f.Text != nil && !matchText(f.Text.Query, e) {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// matchResource checks one resource map against id, id_prefix and labels,
// and, when withRole is set, against role and resources_in_roles too.
func matchResource(f *model.ResourceFilter, res map[string]string, withRole bool) bool {
	id := res[labelResourceID]
	if len(f.ID) > 0 && !contains(f.ID, id) {
		return false
	}
	if len(f.IDPrefix) > 0 && !hasAnyPrefix(id, f.IDPrefix) {
		return false
	}
	if withRole {
		role := res[labelResourceRole]
		if len(f.Role) > 0 && !contains(f.Role, role) {
			return false
		}
		if len(f.ResourcesInRoles) > 0 {
			found := false
			for _, pair := range f.ResourcesInRoles {
				if len(pair) == 2 && pair[0] == id && pair[1] == role {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	for key, values := range f.Labels {
		v, ok := res[key]
		if !matchLabel(values, v, ok) {
			return false
		}
	}
	return true
}

func matchSomeRelated(f *model.ResourceFilter, related []map[string]string) bool {
	for _, r := range related {
		if matchResource(f, r, true) {
			return true
		}
	}
	return false
}

func matchSomeResource(f *model.ResourceFilter, related []map[string]string) bool {
	for _, r := range related {
		if matchResource(f, r, false) {
			return true
		}
	}
	return false
}

// matchLabel applies one label constraint to a value (present reports
// whether the resource has the label at all). An empty value list is no
// constraint.
func matchLabel(values []string, v string, present bool) bool {
	positive, hit := false, false
	for _, want := range values {
		if neg, ok := strings.CutPrefix(want, "!"); ok {
			if present && matchValue(neg, v) {
				return false
			}
			continue
		}
		positive = true
		if present && matchValue(want, v) {
			hit = true
		}
	}
	return !positive || hit
}

func matchValue(want, v string) bool {
	if p, ok := strings.CutSuffix(want, "*"); ok {
		return strings.HasPrefix(v, p)
	}
	return want == v
}

// textQuery is a parsed Prefect text search: any of include (when there are
// some), all of required, none of exclude; case-insensitive substrings.
type textQuery struct {
	include, required, exclude []string
}

// parseTextQuery splits on whitespace, honours double-quoted phrases (with
// \" escapes), and reads a leading '-' or '!' as exclude and '+' as
// required.
func parseTextQuery(q string) textQuery {
	var out textQuery
	rs := []rune(q)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		kind := byte(0)
		if rs[i] == '-' || rs[i] == '!' || rs[i] == '+' {
			kind = byte(rs[i])
			i++
		}
		var term strings.Builder
		if i < len(rs) && rs[i] == '"' {
			i++
			for i < len(rs) && rs[i] != '"' {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				term.WriteRune(rs[i])
				i++
			}
			i++ // closing quote (or end)
		} else {
			for i < len(rs) && !unicode.IsSpace(rs[i]) {
				term.WriteRune(rs[i])
				i++
			}
		}
		t := strings.ToLower(term.String())
		if t == "" {
			continue
		}
		switch kind {
		case '-', '!':
			out.exclude = append(out.exclude, t)
		case '+':
			out.required = append(out.required, t)
		default:
			out.include = append(out.include, t)
		}
	}
	return out
}

// matchText searches the event name, every resource and related label value
// and the payload text.
func matchText(q string, e *model.Event) bool {
	tq := parseTextQuery(q)
	if len(tq.include)+len(tq.required)+len(tq.exclude) == 0 {
		return true
	}
	var b strings.Builder
	b.WriteString(e.Event)
	for _, v := range e.Resource {
		b.WriteByte(' ')
		b.WriteString(v)
	}
	for _, r := range e.Related {
		for _, v := range r {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	b.WriteByte(' ')
	b.Write(e.Payload)
	hay := strings.ToLower(b.String())
	for _, t := range tq.exclude {
		if strings.Contains(hay, t) {
			return false
		}
	}
	for _, t := range tq.required {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	if len(tq.include) == 0 {
		return true
	}
	for _, t := range tq.include {
		if strings.Contains(hay, t) {
			return true
		}
	}
	return false
}
