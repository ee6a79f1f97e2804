package automations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/builtins"
	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Templates are the Jinja syntax Prefect users write in notification
// subjects and bodies, webhook payloads and run-deployment parameters
// ("{{ flow_run.name }}", "{{ event.resource.id }}", filters). They are
// rendered by gonja, a maintained Go implementation of Jinja, inside a
// sandbox:
//
//   - the context holds only plain data (maps, lists, strings, numbers,
//     booleans) built from JSON, so no Go method is reachable;
//   - no template can load another (include, import, extends, from) and
//     none can recurse (macro, call) or mutate state across iterations
//     (do, namespace);
//   - as in Prefect, at most 10 for loops nested at most 2 deep, and
//     range() yields at most 100 numbers;
//   - the operators and arguments that multiply output are bounded: no
//     "**", at most one "*", integer literals up to 1000, templates up to
//     10,000 characters; rendering stops after a second and its output is
//     cut at 1 MB.
//
// Undefined names and attributes render as "" and chain (Prefect uses
// Jinja's ChainableUndefined): "{{ flow_run.missing.deeper }}" is "".

// Template limits (the loop limits are Prefect's).
const (
	maxTemplateRange     = 100
	maxTemplateLoops     = 10
	maxTemplateLoopDepth = 2
	maxTemplateLength    = 10000
	maxTemplateInteger   = 1000
	maxTemplateOutput    = 1 << 20
	templateRenderLimit  = time.Second
)

// TemplateError is a template that does not parse or breaks a sandbox rule.
type TemplateError struct {
	// Line is 1-based (0 when unknown).
	Line    int
	Message string
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

// MaybeTemplate reports whether s contains template syntax; strings without
// it are used as they are.
func MaybeTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

var templateConfig = func() *config.Config {
	c := config.New()
	c.KeepTrailingNewline = true
	return c
}()

// allowedControl is every gonja control structure a template may use.
var allowedControl = []string{"autoescape", "filter", "for", "if", "raw", "set", "with", "break", "continue"}

var templateEnv = func() *exec.Environment {
	ctl := map[string]parser.ControlStructureParser{}
	for _, name := range allowedControl {
		if p, ok := controlStructures.All.Get(name); ok {
			ctl[name] = p
		}
	}
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{})
	filters.Update(builtins.Filters)
	for name, fn := range map[string]exec.FilterFunction{
		"default":                filterDefault,
		"d":                      filterDefault,
		"ui_url":                 filterUIURL,
		"ui_resource_events_url": filterUIResourceEventsURL,
		"flow_run_id":            filterFlowRunID,
	} {
		if filters.Exists(name) {
			_ = filters.Replace(name, fn)
		} else {
			_ = filters.Register(name, fn)
		}
	}
	tests := exec.NewTestSet(map[string]exec.TestFunction{})
	tests.Update(builtins.Tests)
	_ = tests.Replace("defined", testDefined)
	_ = tests.Replace("undefined", testUndefined)
	globals := exec.EmptyContext()
	for _, name := range []string{"cycler", "dict", "joiner"} {
		if v, ok := builtins.GlobalFunctions.Get(name); ok {
			globals.Set(name, v)
		}
	}
	globals.Set("range", limitedRange)
	return &exec.Environment{
		Context:           globals,
		Filters:           filters,
		Tests:             tests,
		ControlStructures: exec.NewControlStructureSet(ctl),
		Methods:           builtins.Methods,
	}
}()

// rootLoader serves the one template being compiled and refuses every
// other name, so nothing can be included or imported.
type rootLoader struct{ src string }

func (l rootLoader) Read(path string) (io.Reader, error) {
	if path != "template" {
		return nil, errors.New("templates cannot load other templates")
	}
	return strings.NewReader(l.src), nil
}
func (l rootLoader) Resolve(path string) (string, error) { return path, nil }
func (l rootLoader) Inherit(string) (loaders.Loader, error) {
	return l, nil
}

var syntaxErrorLine = regexp.MustCompile(`\(Line: (\d+) Col: \d+`)

// ValidateTemplate parses src and checks the sandbox's rules.
func ValidateTemplate(src string) error {
	_, err := compile(src)
	return err
}

func compile(src string) (*exec.Template, error) {
	if len(src) > maxTemplateLength {
		return nil, &TemplateError{Message: fmt.Sprintf("templates are limited to %d characters", maxTemplateLength)}
	}
	if err := checkTokens(src); err != nil {
		return nil, err
	}
	t, err := exec.NewTemplate("template", templateConfig, rootLoader{src: src}, templateEnv)
	if err != nil {
		msg := err.Error()
		var se *parser.SyntaxError
		if errors.As(err, &se) {
			return nil, &TemplateError{Line: se.Line, Message: se.Message}
		}
		// gonja prefixes the message with the whole source; keep the cause.
		if i := strings.Index(msg, "': "); i >= 0 && strings.HasPrefix(msg, "failed to parse template '") {
			msg = msg[i+3:]
		}
		line := 0
		if m := syntaxErrorLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, &TemplateError{Line: line, Message: msg}
	}
	return t, nil
}

// checkTokens enforces the limits that can be read off the token stream:
// loop count and nesting, and the output-multiplying operators.
func checkTokens(src string) error {
	stream := tokens.LexAll(src, templateConfig)
	loops, depth, maxDepth, multiplies := 0, 0, 0, 0
	var prev tokens.Token
	afterBlockStart := false
	for !stream.End() {
		tok := stream.Next()
		switch tok.Type {
		case tokens.Error:
			return &TemplateError{Line: tok.Line, Message: tok.Val}
		case tokens.BlockBegin:
			afterBlockStart = true
			prev = *tok
			continue
		case tokens.Whitespace:
			continue
		case tokens.Name:
			if afterBlockStart {
				switch tok.Val {
				case "for":
					loops++
					depth++
					maxDepth = max(maxDepth, depth)
				case "endfor":
					depth--
				}
			}
		case tokens.Power:
			return &TemplateError{Line: tok.Line, Message: "the ** operator is not allowed in templates"}
		case tokens.Multiply:
			multiplies++
			if multiplies > 1 {
				return &TemplateError{Line: tok.Line, Message: "templates may use the * operator at most once"}
			}
		case tokens.Integer:
			if n, err := strconv.Atoi(tok.Val); err != nil || n > maxTemplateInteger {
				return &TemplateError{Line: tok.Line, Message: fmt.Sprintf("integer %s is larger than the %d templates allow", tok.Val, maxTemplateInteger)}
			}
		}
		afterBlockStart = false
		prev = *tok
	}
	_ = prev
	if loops > maxTemplateLoops {
		return &TemplateError{Message: fmt.Sprintf("Contains %d for loops. Templates can contain no more than %d for loops.", loops, maxTemplateLoops)}
	}
	if maxDepth > maxTemplateLoopDepth {
		return &TemplateError{Message: fmt.Sprintf("Contains nested for loops at a depth of %d. Templates can nest for loops no more than %d loops deep.", maxDepth, maxTemplateLoopDepth)}
	}
	return nil
}

// TemplateNames returns the top-level names a template reads (to fetch only
// the objects it uses: flow_run, deployment, variables...).
func TemplateNames(src string) map[string]bool {
	out := map[string]bool{}
	stream := tokens.LexAll(src, templateConfig)
	var prev *tokens.Token
	for !stream.End() {
		tok := stream.Next()
		if tok.Type == tokens.Whitespace {
			continue
		}
		if tok.Type == tokens.Name && (prev == nil || prev.Type != tokens.Dot) {
			out[tok.Val] = true
		}
		prev = tok
	}
	return out
}

// RenderTemplate renders src with data (JSON-shaped values only). A string
// without template syntax is returned as it is.
func RenderTemplate(ctx context.Context, src string, data map[string]any) (string, error) {
	if !MaybeTemplate(src) {
		return src, nil
	}
	t, err := compile(src)
	if err != nil {
		return "", err
	}
	vars := map[string]any{}
	for k, v := range data {
		vars[k] = wrapValue(v)
	}
	// Names the template reads but the context lacks are undefined, not
	// errors (global functions keep their meaning).
	for name := range TemplateNames(src) {
		if _, ok := vars[name]; ok || templateEnv.Context.Has(name) {
			continue
		}
		vars[name] = undefined("")
	}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("template rendering failed: %v", p)}
			}
		}()
		var buf limitedBuffer
		err := t.Execute(&buf, exec.NewContext(vars))
		done <- result{buf.String(), err}
	}()
	ctx, cancel := context.WithTimeout(ctx, templateRenderLimit)
	defer cancel()
	select {
	case r := <-done:
		if r.err != nil {
			return "", fmt.Errorf("template rendering failed: %s", cleanRenderError(r.err))
		}
		return r.out, nil
	case <-ctx.Done():
		return "", fmt.Errorf("template rendering took longer than %s", templateRenderLimit)
	}
}

func cleanRenderError(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "unable to execute template: ")
}

// limitedBuffer keeps the first maxTemplateOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxTemplateOutput - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return 0, errors.New("template output is larger than 1 MB")
	}
	return b.Buffer.Write(p)
}

// undefined is what a missing name, key or attribute evaluates to: it
// renders as "", is false, and any attribute or item of it is undefined too.
type undefined string

// GetAttribute implements exec.AttributeGetter.
func (undefined) GetAttribute(string) (*exec.Value, bool) { return exec.AsValue(undefined("")), true }

// GetItem implements exec.ItemGetter.
func (undefined) GetItem(any) (*exec.Value, bool) { return exec.AsValue(undefined("")), true }

// dict is a JSON object in a template: attribute and item access both read
// keys, and missing keys are undefined.
type dict map[string]any

// GetAttribute implements exec.AttributeGetter.
func (d dict) GetAttribute(name string) (*exec.Value, bool) { return d.GetItem(name) }

// GetItem implements exec.ItemGetter.
func (d dict) GetItem(key any) (*exec.Value, bool) {
	s, ok := key.(string)
	if !ok {
		return exec.AsValue(undefined("")), true
	}
	v, ok := d[s]
	if !ok {
		return exec.AsValue(undefined("")), true
	}
	return exec.AsValue(wrapValue(v)), true
}

// resource is an event's resource or related resource: besides its labels
// it answers .id, .name and .role as Prefect's Resource does.
type resource map[string]any

var resourceAliases = map[string]string{"id": "prefect.resource.id", "name": "prefect.resource.name", "role": "prefect.resource.role"}

// GetAttribute implements exec.AttributeGetter.
func (r resource) GetAttribute(name string) (*exec.Value, bool) {
	if label, ok := resourceAliases[name]; ok {
		if v, ok := r[label]; ok {
			return exec.AsValue(v), true
		}
	}
	return dict(r).GetItem(name)
}

// GetItem implements exec.ItemGetter.
func (r resource) GetItem(key any) (*exec.Value, bool) { return dict(r).GetItem(key) }

// MarshalJSON keeps tojson working on a resource.
func (r resource) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]any(r)) }

// AsResource marks a JSON object as a resource for templates.
func AsResource(m map[string]any) any { return resource(m) }

func wrapValue(v any) any {
	switch t := v.(type) {
	case float64:
		// JSON has one number type; a whole number is an int to a template,
		// as it is to Prefect's Python ({{ 42 }} renders 42, not 42.0).
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return int(t)
		}
		return t
	case map[string]any:
		return dict(t)
	case []any:
		out := make([]any, len(t))
		for i := range t {
			out[i] = wrapValue(t[i])
		}
		return out
	}
	return v
}

func isUndefined(v *exec.Value) bool {
	if v == nil || v.IsNil() || v.IsError() {
		return true
	}
	_, ok := v.Interface().(undefined)
	return ok
}

func filterDefault(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	def := exec.AsValue("")
	if len(params.Args) > 0 {
		def = params.Args[0]
	}
	boolean := false
	if b, ok := params.KwArgs["boolean"]; ok {
		boolean = b.IsTrue()
	} else if len(params.Args) > 1 {
		boolean = params.Args[1].IsTrue()
	}
	if isUndefined(in) || (boolean && !in.IsTrue()) {
		return def
	}
	return in
}

func testDefined(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !isUndefined(in), nil
}

func testUndefined(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return isUndefined(in), nil
}

// limitedRange is range() yielding at most maxTemplateRange numbers.
func limitedRange(_ *exec.Evaluator, params *exec.VarArgs) ([]int, error) {
	var args []int
	for _, a := range params.Args {
		if !a.IsInteger() {
			return nil, exec.ErrInvalidCall(errors.New("expected signature is [start, ]stop[, step] where all arguments are integers"))
		}
		args = append(args, a.Integer())
	}
	start, stop, step := 0, 0, 1
	switch len(args) {
	case 1:
		stop = args[0]
	case 2:
		start, stop = args[0], args[1]
	case 3:
		start, stop, step = args[0], args[1], args[2]
	default:
		return nil, exec.ErrInvalidCall(errors.New("expected signature is [start, ]stop[, step] where all arguments are integers"))
	}
	if step == 0 {
		return nil, exec.ErrInvalidCall(errors.New("step cannot be 0"))
	}
	var out []int
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out) == maxTemplateRange {
			//lint:ignore ST1005 Jinja's sandbox message, verbatim (templates show it)
			return nil, exec.ErrInvalidCall(fmt.Errorf("Range too big. The sandbox blocks ranges larger than MAX_TEMPLATE_RANGE=%d.", maxTemplateRange))
		}
		out = append(out, i)
	}
	return out, nil
}

// uiBase is the UI's address for ui_url and ui_resource_events_url,
// injected by the engine from its configuration (empty: no links).
var uiBase = func(e *exec.Evaluator) string {
	if v, ok := e.Environment.Context.Get("__ui_url__"); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

// kindPaths are the UI pages of each object kind, as the Prefect UI names
// them.
var kindPaths = map[string]string{
	"prefect.flow-run":   "runs/flow-run/",
	"prefect.task-run":   "runs/task-run/",
	"prefect.flow":       "flows/flow/",
	"prefect.deployment": "deployments/deployment/",
	"prefect.work-pool":  "work-pools/work-pool/",
	"prefect.work-queue": "work-queues/work-queue/",
	"prefect.automation": "automations/automation/",
}

// objectKind reads what kind of object a template value is: a resource
// (by its id) or an object fetched for the context (by its marker key).
func objectKind(v *exec.Value) (kind, id, name string) {
	var m map[string]any
	switch t := v.Interface().(type) {
	case resource:
		m = t
		rid, _ := m["prefect.resource.id"].(string)
		i := strings.LastIndexByte(rid, '.')
		if i < 0 {
			return "", "", ""
		}
		return rid[:i], rid[i+1:], ""
	case object:
		m = t
	default:
		return "", "", ""
	}
	kind, _ = m[kindKey].(string)
	id, _ = m["id"].(string)
	name, _ = m["name"].(string)
	return kind, id, name
}

// kindKey marks the objects the engine puts in a template's context with
// their Prefect kind; it is not shown by tojson (see contextObject).
const kindKey = "__kind__"

func filterUIURL(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	base := uiBase(e)
	kind, id, name := objectKind(in)
	path, ok := kindPaths[kind]
	if base == "" || !ok || id == "" {
		return exec.AsValue(nil)
	}
	if kind == "prefect.work-pool" {
		id = name
	}
	if kind == "prefect.work-queue" {
		id = url.PathEscape(id)
	}
	return exec.AsValue(strings.TrimRight(base, "/") + "/" + path + id)
}

func filterUIResourceEventsURL(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	base := uiBase(e)
	kind, id, _ := objectKind(in)
	if base == "" || kind == "" || id == "" {
		return exec.AsValue(nil)
	}
	return exec.AsValue(strings.TrimRight(base, "/") + "/events?resource=" + url.QueryEscape(kind+"."+id))
}

var flowRunIDPattern = regexp.MustCompile(`flow-run/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`)

func filterFlowRunID(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if isUndefined(in) {
		return exec.AsValue(nil)
	}
	if m := flowRunIDPattern.FindStringSubmatch(in.String()); m != nil {
		return exec.AsValue(m[1])
	}
	return exec.AsValue(nil)
}

// object is an API object in a template (a flow run, a deployment...): a
// dict that also knows its kind, for ui_url. The kind is not one of its
// keys to the template.
type object map[string]any

// GetAttribute implements exec.AttributeGetter.
func (o object) GetAttribute(name string) (*exec.Value, bool) { return o.GetItem(name) }

// GetItem implements exec.ItemGetter.
func (o object) GetItem(key any) (*exec.Value, bool) {
	if key == kindKey {
		return exec.AsValue(undefined("")), true
	}
	return dict(o).GetItem(key)
}

// MarshalJSON keeps tojson to the object's own fields.
func (o object) MarshalJSON() ([]byte, error) {
	m := maps.Clone(map[string]any(o))
	delete(m, kindKey)
	return json.Marshal(m)
}

// contextObject turns an API object into a template value: JSON-shaped,
// marked with its kind for ui_url.
func contextObject(kind string, v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, nil
	}
	m[kindKey] = kind
	return object(m), nil
}
