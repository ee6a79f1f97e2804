package automations

import (
	"encoding/json"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// fnmatch reports whether s matches the shell-style pattern p as Python's
// fnmatch.fnmatchcase does: '*' any run of characters, '?' one character,
// '[seq]' / '[!seq]' a character (not) in seq, everything else literally.
func fnmatch(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	// Iterative matching with backtracking to the last '*'.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			switch pr[pi] {
			case '*':
				star, mark = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				if end, ok, matched := matchClass(pr, pi, sr[si]); ok {
					if matched {
						pi = end
						si++
						continue
					}
				} else if sr[si] == '[' {
					pi++
					si++
					continue
				}
			default:
				if pr[pi] == sr[si] {
					pi++
					si++
					continue
				}
			}
		}
		if star >= 0 {
			pi = star + 1
			mark++
			si = mark
			continue
		}
		return false
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// matchClass reads the character class starting at p[i] == '['. It returns
// the index after the class, whether it is a well-formed class, and whether
// c is in it.
func matchClass(p []rune, i int, c rune) (int, bool, bool) {
	j := i + 1
	negate := false
	if j < len(p) && p[j] == '!' {
		negate = true
		j++
	}
	start := j
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		j++
	}
	if j >= len(p) {
		return 0, false, false
	}
	set := p[start:j]
	in := false
	for k := 0; k < len(set); k++ {
		if k+2 < len(set) && set[k+1] == '-' {
			if set[k] <= c && c <= set[k+2] {
				in = true
			}
			k += 2
			continue
		}
		if set[k] == c {
			in = true
		}
	}
	return j + 1, true, in != negate
}

// labelMatches is Prefect's events.schemas.events.matches: a pattern, or
// its negation when it starts with '!'; an absent label matches nothing.
func labelMatches(pattern string, value string, present bool) bool {
	if !present {
		return false
	}
	if rest, ok := strings.CutPrefix(pattern, "!"); ok {
		return !fnmatch(rest, value)
	}
	return fnmatch(pattern, value)
}

// specMatches reports whether a resource carries every label of spec with
// a matching value.
func specMatches(spec model.ResourceSpec, res map[string]string) bool {
	for label, lv := range spec {
		v, ok := res[label]
		hit := false
		for _, p := range lv.Values {
			if labelMatches(p, v, ok) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// specIncludes reports whether spec matches any of the resources (an empty
// spec matches even none).
func specIncludes(spec model.ResourceSpec, resources []map[string]string) bool {
	if len(spec) == 0 {
		return true
	}
	for _, r := range resources {
		if specMatches(spec, r) {
			return true
		}
	}
	return false
}

// coversResources is Prefect's ResourceTrigger.covers_resources.
func coversResources(t *model.Trigger, e *model.Event) bool {
	if !specIncludes(t.Match, []map[string]string{e.Resource}) {
		return false
	}
	for _, spec := range t.MatchRelated.Specs {
		if !specIncludes(spec, e.Related) {
			return false
		}
	}
	return true
}

// expects is EventTrigger.expects: an empty expect matches every event.
func expects(t *model.Trigger, name string) bool {
	if len(t.Expect) == 0 {
		return true
	}
	for _, p := range t.Expect {
		if fnmatch(p, name) {
			return true
		}
	}
	return false
}

// startsAfter is EventTrigger.starts_after.
func startsAfter(t *model.Trigger, name string) bool {
	for _, p := range t.After {
		if fnmatch(p, name) {
			return true
		}
	}
	return false
}

// eventPatternMatches is EventTrigger.event_pattern: any event when expect
// is empty, otherwise an event of expect or after ('*' matching one or
// more characters).
func eventPatternMatches(t *model.Trigger, name string) bool {
	if len(t.Expect) == 0 {
		return name != ""
	}
	for _, list := range [][]string{t.Expect, t.After} {
		for _, p := range list {
			if wildcardPlus(p, name) {
				return true
			}
		}
	}
	return false
}

// wildcardPlus matches Prefect's event_pattern regex: the pattern escaped
// with each '*' turned into ".+", searched from the start of the name (a
// Python re.match, so a longer name matches a shorter pattern's prefix).
func wildcardPlus(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return strings.HasPrefix(s, p)
	}
	var try func(i int, rest string) bool
	try = func(i int, rest string) bool {
		if i == len(parts)-1 {
			return strings.HasPrefix(rest, parts[i])
		}
		if !strings.HasPrefix(rest, parts[i]) {
			return false
		}
		rest = rest[len(parts[i]):]
		// ".+" consumes at least one character.
		for k := 1; k <= len(rest); k++ {
			if try(i+1, rest[k:]) {
				return true
			}
		}
		return false
	}
	return try(0, s)
}

// covers is EventTrigger.covers.
func covers(t *model.Trigger, e *model.Event) bool {
	return eventPatternMatches(t, e.Event) && coversResources(t, e)
}

// findResourceLabel is ReceivedEvent.find_resource_label: a label of the
// primary resource, or "related:<role>:<label>" of the first related
// resource in that role.
func findResourceLabel(e *model.Event, label string) string {
	directive, relatedLabel := "", label
	if i := strings.LastIndexByte(label, ':'); i >= 0 {
		directive, relatedLabel = label[:i], label[i+1:]
	}
	kind, role, _ := strings.Cut(directive, ":")
	if kind == "related" {
		for _, r := range e.Related {
			if r["prefect.resource.role"] == role {
				return r[relatedLabel]
			}
		}
	}
	return e.Resource[label]
}

// bucketingKey is EventTrigger.bucketing_key: the values of the for_each
// labels, in sorted label order.
func bucketingKey(t *model.Trigger, e *model.Event) []string {
	labels := sortedForEach(t)
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = findResourceLabel(e, l)
	}
	return out
}

func sortedForEach(t *model.Trigger) []string {
	labels := append([]string(nil), t.ForEach...)
	for i := 1; i < len(labels); i++ {
		for j := i; j > 0 && labels[j] < labels[j-1]; j-- {
			labels[j], labels[j-1] = labels[j-1], labels[j]
		}
	}
	return labels
}

// encodeKey is a bucketing key as the store keeps it (a JSON list).
func encodeKey(k []string) string {
	if k == nil {
		k = []string{}
	}
	b, _ := json.Marshal(k)
	return string(b)
}

func decodeKey(s string) []string {
	var k []string
	_ = json.Unmarshal([]byte(s), &k)
	return k
}
