package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// openAPI builds the OpenAPI 3.1 document from the route declarations and
// the Go types they decode and encode.
func openAPI(routes []route, version string) map[string]any {
	g := &schemaGen{components: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		if rt.raw != nil && rt.serve == nil && rt.response == nil && rt.tag == "" {
			continue
		}
		opObj := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
			// Who may call it: anyone, authenticated, workspace:read|write,
			// account:read|manage (see route.go's access levels).
			"x-baton-access": rt.access.String(),
		}
		if rt.tag != "" {
			opObj["tags"] = []string{rt.tag}
		}
		var params []map[string]any
		for _, p := range rt.params {
			params = append(params, map[string]any{"name": p.name, "in": p.in, "required": p.required || p.in == "path", "description": p.doc, "schema": paramSchema(p.typ)})
		}
		for _, name := range pathParams(rt.path) {
			if !hasParam(rt.params, name) {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": paramSchema("uuid")})
			}
		}
		if len(params) > 0 {
			opObj["parameters"] = params
		}
		if rt.body != nil {
			opObj["requestBody"] = map[string]any{
				"required": !rt.optional,
				"content":  map[string]any{"application/json": map[string]any{"schema": g.schema(rt.body)}},
			}
		}
		opObj["responses"] = responses(g, rt)
		p := rt.path
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.method)] = opObj
	}
	g.components["HTTPError"] = map[string]any{"type": "object", "properties": map[string]any{"detail": map[string]any{}}, "required": []string{"detail"}}
	addLinks(paths, g)
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Baton", "version": version, "description": "Baton's API: the Prefect 3 REST contract plus Baton's own endpoints."},
		"servers": []map[string]any{{"url": "/api"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.components,
		},
	}
}

// httpError is the document's entry for an error answer.
func httpError(description string) map[string]any {
	return map[string]any{"description": description, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/HTTPError"}}}}
}

// responses declares every answer the route gives: its success status (and
// the others it declared), every client error, the 503 of a full decode
// budget for routes that read a body, and for websocket routes the upgrade
// and the 426 a plain request gets.
func responses(g *schemaGen, rt route) map[string]any {
	out := map[string]any{"4XX": httpError("Client error: the detail names the problem")}
	if rt.lifetime == socket {
		out["101"] = map[string]any{"description": "Switching Protocols: the websocket is open"}
		out["426"] = httpError("Upgrade Required: the request is not a websocket upgrade")
		return out
	}
	status := rt.status
	if status == 0 {
		status = 200
	}
	for _, st := range append([]int{status}, rt.alsoStatus...) {
		resp := map[string]any{"description": http.StatusText(st)}
		if rt.response != nil && st != http.StatusNoContent && st < 400 {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(rt.response)}}
		} else if st >= 400 {
			resp = httpError(http.StatusText(st))
		}
		out[strconv.Itoa(st)] = resp
	}
	// Routes that read a body may find the decode budget full; routes that
	// write may find the database's disk full: both answer 503 with
	// Retry-After, which Prefect's client retries.
	if rt.body != nil || rt.method != http.MethodGet {
		unavailable := httpError("Service Unavailable: the server is busy or its disk is full; retry after the Retry-After header's seconds")
		unavailable["headers"] = map[string]any{"Retry-After": map[string]any{"schema": map[string]any{"type": "integer"}}}
		out["503"] = unavailable
	}
	// With rate limits set (BATON_RATE_LIMIT_WORKSPACE, _KEY), a caller
	// over its rate is answered 429 with Retry-After, which the client
	// retries.
	if rt.access != anyone {
		limited := httpError("Too Many Requests: over this workspace's or API key's rate limit; retry after the Retry-After header's seconds")
		limited["headers"] = map[string]any{"Retry-After": map[string]any{"schema": map[string]any{"type": "integer"}}}
		out["429"] = limited
	}
	return out
}

func hasParam(ps []param, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return out
}

func operationID(rt route) string {
	s := strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(rt.path)
	return strings.TrimSuffix(s, "_")
}

func paramSchema(typ string) map[string]any {
	switch typ {
	case "uuid":
		return map[string]any{"type": "string", "format": "uuid"}
	case "integer":
		return map[string]any{"type": "integer"}
	case "boolean":
		return map[string]any{"type": "boolean"}
	default:
		return map[string]any{"type": "string"}
	}
}

type schemaGen struct {
	components map[string]any
}

var (
	idType       = reflect.TypeFor[model.ID]()
	timeType     = reflect.TypeFor[model.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	rawJSONType  = reflect.TypeFor[rawJSON]()
	stateType    = reflect.TypeFor[model.StateType]()
	durationType = reflect.TypeFor[model.Duration]()
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case idType:
		return map[string]any{"type": "string", "format": "uuid"}
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType, rawJSONType:
		return map[string]any{}
	case durationType:
		return map[string]any{"type": "number", "description": "seconds"}
	case stateType:
		enum := make([]string, len(model.StateTypes))
		for i, s := range model.StateTypes {
			enum[i] = string(s)
		}
		return map[string]any{"type": "string", "enum": enum}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.schema(t.Elem())
		return map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := componentName(t)
		if name == "" {
			return g.structSchema(t)
		}
		if _, ok := g.components[name]; !ok {
			g.components[name] = map[string]any{} // placeholder breaks recursion
			g.components[name] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	sort.Strings(required)
	required = slices.Compact(required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// fields adds t's JSON fields to props, flattening embedded structs as
// encoding/json does (an outer field of the same name wins).
func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			embedded = append(embedded, f.Type)
			continue
		}
		name := jsonName(f)
		if name == "" {
			continue
		}
		ps := g.schema(f.Type)
		// A map or slice the server may leave nil is encoded as null: the
		// field says so with a nullable:"true" tag.
		if f.Tag.Get("nullable") == "true" && f.Type.Kind() != reflect.Pointer {
			ps = map[string]any{"anyOf": []any{ps, map[string]any{"type": "null"}}}
		}
		props[name] = ps
		if f.Tag.Get("required") == "true" {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		inner := map[string]any{}
		var innerReq []string
		g.fields(et, inner, &innerReq)
		for k, v := range inner {
			if _, taken := props[k]; !taken {
				props[k] = v
				if slices.Contains(innerReq, k) {
					*required = append(*required, k)
				}
			}
		}
	}
}

// componentName names a schema component: the Go type name, with a generic
// instance such as page[.../model.Flow] written as PageFlow ($ref values may
// not contain the package path's slashes).
func componentName(t reflect.Type) string {
	n := t.Name()
	i := strings.IndexByte(n, '[')
	if i < 0 {
		return n
	}
	inner := strings.TrimSuffix(n[i+1:], "]")
	inner = inner[strings.LastIndexByte(inner, '.')+1:]
	return strings.ToUpper(n[:1]) + n[1:i] + inner
}

// addLinks adds OpenAPI links from each creating operation to the
// operations under the path it creates into, so that a client of the
// document (schemathesis's stateful phase, in Baton's own suite) can follow
// a created object's id or name into its deeper routes instead of guessing
// ids that do not exist. A POST to P that answers an object (or a list of
// them) links to every operation on P/{x}/..., passing P's own path
// parameters through and taking x from the answer: its "id" for an x named
// id or *_id, its "name" for an x named name or *_name.
func addLinks(paths map[string]map[string]any, g *schemaGen) {
	for srcPath, ops := range paths {
		src, ok := ops["post"].(map[string]any)
		if !ok {
			continue
		}
		responses, _ := src["responses"].(map[string]any)
		for status, r := range responses {
			if !strings.HasPrefix(status, "2") {
				continue
			}
			resp, _ := r.(map[string]any)
			props, list := g.responseProps(resp)
			if props == nil {
				continue
			}
			links := map[string]any{}
			for dstPath, dstOps := range paths {
				rest, ok := strings.CutPrefix(dstPath, srcPath+"/{")
				if !ok {
					continue
				}
				param, _, _ := strings.Cut(rest, "}")
				if param == "" {
					continue
				}
				field := ""
				switch {
				case (param == "id" || strings.HasSuffix(param, "_id")) && props["id"] != nil:
					field = "id"
				case (param == "name" || strings.HasSuffix(param, "_name")) && props["name"] != nil:
					field = "name"
				}
				if field == "" {
					continue
				}
				pointer := "$response.body#/" + field
				if list {
					pointer = "$response.body#/0/" + field
				}
				params := map[string]any{param: pointer}
				for _, p := range pathParams(srcPath) {
					params[p] = "$request.path." + p
				}
				for method, o := range dstOps {
					dst, _ := o.(map[string]any)
					id, _ := dst["operationId"].(string)
					if id == "" || !hasAllParams(dst, params) {
						continue
					}
					links[strings.ToUpper(method)+" "+dstPath] = map[string]any{"operationId": id, "parameters": params}
				}
			}
			if len(links) > 0 {
				resp["links"] = links
			}
		}
	}
}

// hasAllParams reports whether a link's parameters are exactly the target
// operation's path parameters: a link may not invent one, nor leave one to
// be guessed.
func hasAllParams(op map[string]any, params map[string]any) bool {
	declared := map[string]bool{}
	ps, _ := op["parameters"].([]map[string]any)
	for _, p := range ps {
		if p["in"] == "path" {
			name, _ := p["name"].(string)
			declared[name] = true
		}
	}
	for name := range params {
		if !declared[name] {
			return false
		}
	}
	return len(declared) == len(params)
}

// responseProps returns the properties of a JSON response's object schema
// (following one $ref), and whether the response is a list of such objects.
func (g *schemaGen) responseProps(resp map[string]any) (map[string]any, bool) {
	content, _ := resp["content"].(map[string]any)
	js, _ := content["application/json"].(map[string]any)
	schema, _ := js["schema"].(map[string]any)
	list := false
	if schema["type"] == "array" {
		schema, _ = schema["items"].(map[string]any)
		list = true
	}
	if ref, ok := schema["$ref"].(string); ok {
		schema, _ = g.components[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	props, _ := schema["properties"].(map[string]any)
	return props, list
}
