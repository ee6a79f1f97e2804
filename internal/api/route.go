package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// noBody marks an operation without a request body.
type noBody struct{}

// noContent marks an operation that answers with an empty body.
type noContent struct{}

// param declares a path or query parameter for validation and OpenAPI.
type param struct {
	name     string
	in       string // "path" or "query"
	typ      string // "uuid", "string", "integer", "boolean"
	required bool
	doc      string
}

// access is the permission a route demands of its caller. Every route
// declares one (it is op's first argument, and raw routes set the field);
// Server.authorize enforces it in one place, before the handler runs, so
// no handler guesses or re-checks what its caller may do.
type access uint8

const (
	// undeclared is the zero value: a route that forgot to declare its
	// access is refused (and fails TestEveryRouteDeclaresAccess).
	undeclared access = iota
	// anyone needs no credential (health, version, sign-in).
	anyone
	// authenticated needs a valid credential but no particular workspace:
	// the caller's own resources (/me/...) and account creation.
	authenticated
	// wsRead needs a role on the routed workspace that may read.
	wsRead
	// wsWrite needs a role on the routed workspace that may write.
	wsWrite
	// wsReadSecrets is wsRead, except that a request asking for secrets
	// in clear (include_secrets=true in the query or the JSON body) needs
	// wsWrite: a viewer may list blocks but never read their secrets.
	wsReadSecrets
	// accountRead needs membership of the path's {account_id}.
	accountRead
	// accountManage needs an admin role on the path's {account_id}.
	accountManage
	// accountOwn needs the owner role on the path's {account_id}.
	accountOwn
)

// String names the access level for logs, tests and the OpenAPI document.
func (a access) String() string {
	switch a {
	case anyone:
		return "anyone"
	case authenticated:
		return "authenticated"
	case wsRead:
		return "workspace:read"
	case wsWrite:
		return "workspace:write"
	case wsReadSecrets:
		return "workspace:read (workspace:write with include_secrets)"
	case accountRead:
		return "account:read"
	case accountManage:
		return "account:manage"
	case accountOwn:
		return "account:own"
	}
	return "undeclared"
}

// route is one declared operation. The same declaration registers the
// handler, validates requests (body type, parameters), names the permission
// the caller needs and produces the OpenAPI document, so none of them can
// drift apart.
type route struct {
	access   access
	method   string
	path     string // relative to /api, without trailing slash
	tag      string
	summary  string
	status   int
	body     reflect.Type // nil when the operation takes no body
	optional bool         // the body may be omitted
	response reflect.Type // nil for an empty response
	params   []param
	serve    func(*call) (any, error)
	raw      http.HandlerFunc // websocket and other non-JSON routes
	// muxVia, when set, is the ServeMux pattern under which this route is
	// served together with others whose paths the mux cannot tell apart
	// (GET /work_queues/name/{name} and GET /work_queues/{id}/status both
	// match /work_queues/name/status); the route with the most literal
	// segments matching the request wins.
	muxVia string
	// lifetime says whether the exchange may outlive the server's read
	// and write timeouts (long polls, websockets); see limits.go.
	lifetime lifetime
	// maxBody is the request-body limit; 0 means defaultBodyLimit.
	maxBody int64
	// alsoStatus lists the other success statuses the handler may set
	// with setStatus (an upsert's 200); the document declares them.
	alsoStatus []int
}

// alsoOK declares that a 201 route answers 200 when it returns an existing
// object instead of creating one (Prefect's upserts do the same).
func alsoOK(rt route) route { rt.alsoStatus = append(rt.alsoStatus, http.StatusOK); return rt }

// answers reports whether the route declared status as a success answer.
func (rt route) answers(status int) bool {
	return status == rt.status || slices.Contains(rt.alsoStatus, status)
}

// via marks rt as served through the shared mux pattern.
func via(pattern string, rt route) route { rt.muxVia = pattern; return rt }

// matchLiteral reports whether path fits rt.path segment by segment and
// how many literal segments it matched (-1: no fit). It also returns the
// path parameters the route's wildcards capture.
func (rt route) matchLiteral(path string) (int, map[string]string) {
	want := strings.Split(strings.Trim(rt.path, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	if len(want) != len(got) {
		return -1, nil
	}
	n, vals := 0, map[string]string{}
	for i, w := range want {
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			vals[strings.Trim(w, "{}")] = got[i]
			continue
		}
		if w != got[i] {
			return -1, nil
		}
		n++
	}
	return n, vals
}

// bodyLimitOrDefault is the route's body limit.
func (rt route) bodyLimitOrDefault() int64 {
	if rt.maxBody > 0 {
		return rt.maxBody
	}
	return defaultBodyLimit
}

// call is the per-request context handed to handlers.
type call struct {
	ctx context.Context
	w   http.ResponseWriter
	r   *http.Request
	ws  model.ID
	srv *Server
	// optional is true when the route accepts an empty body.
	optional bool
	// maxBody is the route's request-body limit.
	maxBody int64
	// status overrides the route's success status (e.g. 200 for an upsert
	// that found an existing row).
	status int
	// ids are the route's UUID path parameters, parsed before the handler
	// runs (see id).
	ids map[string]model.ID
}

// op declares a JSON operation whose handler receives the decoded body; acc
// is what the caller must be allowed to do.
func op[B any, R any](acc access, method, path, tag, summary string, status int, fn func(c *call, body *B) (R, error), params ...param) route {
	rt := route{access: acc, method: method, path: path, tag: tag, summary: summary, status: status, params: params}
	if reflect.TypeFor[B]() != reflect.TypeFor[noBody]() {
		rt.body = reflect.TypeFor[B]()
	}
	if reflect.TypeFor[R]() != reflect.TypeFor[noContent]() {
		rt.response = reflect.TypeFor[R]()
	}
	rt.serve = func(c *call) (any, error) {
		var b B
		if rt.body != nil {
			// The body's bytes are held against the server's decode
			// budget until the handler is done with what they decoded to.
			n, err := c.srv.reserveBody(c.ctx, c.r, c.maxBody)
			if err != nil {
				return nil, err
			}
			defer c.srv.budget.release(n)
			if err := decodeBody(c.w, c.r, &b, c.optional, c.maxBody); err != nil {
				return nil, err
			}
		}
		return fn(c, &b)
	}
	return rt
}

// optionalBody marks a route's body as optional (filters default to
// everything when the body is empty).
func optionalBody(rt route) route { rt.optional = true; return rt }

// parsePathID parses a UUID path parameter, answering 422 naming it if
// invalid. adapt calls it for every declared UUID path parameter before the
// handler runs; handlers read the result with id.
func parsePathID(r *http.Request, name string) (model.ID, error) {
	v := r.PathValue(name)
	id, err := model.ParseID(v)
	if err != nil {
		return model.Nil, errorf(http.StatusUnprocessableEntity, "path parameter %q: %q is not a valid UUID", name, v)
	}
	return id, nil
}

// id returns a UUID path parameter the route declares, already parsed (a
// bad value never reaches the handler: adapt answers 422). Asking for one
// the route does not declare is a programming error; it panics, which the
// route walk of TestTenantIsolationEveryRoute turns into a failure.
func (c *call) id(name string) model.ID {
	id, ok := c.ids[name]
	if !ok {
		panic(fmt.Sprintf("api: path parameter %q is not declared as a uuid by %s", name, c.r.Pattern))
	}
	return id
}

// queryID parses a required UUID query parameter.
func (c *call) queryID(name string) (model.ID, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return model.Nil, errorf(http.StatusUnprocessableEntity, "query parameter %q is required", name)
	}
	id, err := model.ParseID(v)
	if err != nil {
		return model.Nil, errorf(http.StatusUnprocessableEntity, "query parameter %q: %q is not a valid UUID", name, v)
	}
	return id, nil
}

// queryInt parses an optional integer query parameter.
func (c *call) queryInt(name string, def int) (int, error) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errorf(http.StatusUnprocessableEntity, "query parameter %q: %q is not an integer", name, v)
	}
	return n, nil
}

// setStatus overrides the success status of this response.
func (c *call) setStatus(s int) { c.status = s }

// muxPattern turns a route into a ServeMux pattern.
func (rt route) muxPattern() string {
	p := rt.path
	if p != "/" {
		p = strings.TrimSuffix(p, "/")
	}
	return rt.method + " " + p
}
