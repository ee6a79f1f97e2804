package api

import (
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/store"
)

// fillPath substitutes every {param} of a route path.
func fillPath(path string, value func(name string) string) string {
	var b strings.Builder
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		b.WriteByte('/')
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			b.WriteString(value(strings.Trim(seg, "{}")))
		} else {
			b.WriteString(seg)
		}
	}
	return b.String()
}

func uuidParams(rt route) map[string]bool {
	out := map[string]bool{}
	for _, p := range rt.params {
		if p.in == "path" && p.typ == "uuid" {
			out[p.name] = true
		}
	}
	return out
}

// TestEveryRouteRejectsBadInput walks every declared JSON route, so a route
// added later is covered without editing this test: malformed and oversize
// bodies, malformed UUIDs in the path and unknown ids all get a 4xx with a
// detail, never a 5xx.
func TestEveryRouteRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	srv := s.Config.Handler.(*Server)
	unknown := "00000000-0000-4000-8000-00000000abcd"
	// Account routes pass the authorizer only for an account that exists
	// (server mode's principal owns every existing one); any other id is a
	// 404 before the body is read, as for a foreign account in cloud mode.
	known := map[string]string{"account_id": store.DefaultAccountID.String()}
	idFor := func(name string) string {
		if v, ok := known[name]; ok {
			return v
		}
		return unknown
	}
	big := `{"x": "` + strings.Repeat("y", maxRouteBody+1) + `"}`
	for _, rt := range srv.routes {
		if rt.raw != nil {
			continue
		}
		uuids := uuidParams(rt)
		valid := fillPath(rt.path, func(name string) string {
			if uuids[name] {
				return idFor(name)
			}
			return "no-such-" + name
		})
		unknownIDs := false
		for p := range uuids {
			_, isKnown := known[p]
			unknownIDs = unknownIDs || !isKnown
		}
		name := rt.method + " " + rt.path
		t.Run(name, func(t *testing.T) {
			check := func(what string, code int, body any, want ...int) {
				t.Helper()
				if code >= 500 {
					t.Fatalf("%s: server error %d (%v)", what, code, body)
				}
				ok := false
				for _, w := range want {
					ok = ok || code == w
				}
				if !ok {
					t.Fatalf("%s: status %d, want one of %v (%v)", what, code, want, body)
				}
				if code >= 400 {
					m, isObj := body.(map[string]any)
					if !isObj || m["detail"] == nil || m["detail"] == "" {
						t.Fatalf("%s: a 4xx must carry a detail, got %v", what, body)
					}
				}
			}
			if rt.body != nil {
				code, body := s.do(rt.method, "/api"+valid, `{"oops": `)
				check("malformed JSON", code, body, 422)
				code, body = s.do(rt.method, "/api"+valid, big)
				check("oversize body", code, body, 413)
				code, body = s.do(rt.method, "/api"+valid, `"a string"`)
				check("wrong JSON type", code, body, 422)
			}
			for p := range uuids {
				bad := fillPath(rt.path, func(name string) string {
					if name == p {
						return "not-a-uuid"
					}
					if uuids[name] {
						return idFor(name)
					}
					return "x"
				})
				code, body := s.do(rt.method, "/api"+bad, "{}")
				check("bad uuid "+p, code, body, 422)
				if !strings.Contains(body.(map[string]any)["detail"].(string), p) {
					t.Fatalf("bad uuid: detail %v does not name %q", body, p)
				}
			}
			if unknownIDs && (rt.method == "GET" || rt.method == "DELETE") {
				code, body := s.do(rt.method, "/api"+valid, nil)
				check("unknown id", code, body, 404)
			}
		})
	}
}
