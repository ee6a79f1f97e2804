package api

import (
	"net/http"
	"slices"
	"strings"
)

// CORS says which cross-origin browser requests the server accepts, with the
// semantics of the Prefect server's CORS middleware, so a browser app on
// another origin can use Baton's API exactly as it uses Prefect's. Each list
// holds exact values or "*" (anything). A nil list means "*", Prefect's
// default (PREFECT_SERVER_CORS_ALLOWED_ORIGINS/METHODS/HEADERS); an empty,
// non-nil one allows nothing (for headers: only the CORS-safelisted ones).
//
// Credentials are never allowed cross-origin (no
// Access-Control-Allow-Credentials), as in Prefect: a browser does not send
// Baton's session cookie to another origin's script, so a cross-origin app
// authenticates with an API key.
type CORS struct {
	// AllowedOrigins are the origins ("https://app.example.com") that may
	// make cross-origin requests.
	AllowedOrigins []string
	// AllowedMethods are the methods a preflight may ask for.
	AllowedMethods []string
	// AllowedHeaders are the request headers a preflight may ask for,
	// besides the CORS-safelisted ones.
	AllowedHeaders []string
}

// corsAllMethods is what "*" allows in Access-Control-Allow-Methods.
var corsAllMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// corsSafelisted are the request headers a browser may always send.
var corsSafelisted = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "600"

// corsPolicy is a CORS configuration resolved for serving.
type corsPolicy struct {
	anyOrigin  bool
	origins    []string
	methods    []string
	anyHeader  bool
	headers    []string // lower case, safelisted included
	allowHdr   string   // Access-Control-Allow-Headers when not mirroring
	allowMeths string
}

// splitCORS trims a configured list and drops empty entries; a nil list
// means "*".
func splitCORS(in []string) []string {
	if in == nil {
		return []string{"*"}
	}
	out := []string{}
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func newCORSPolicy(c CORS) *corsPolicy {
	p := &corsPolicy{}
	origins := splitCORS(c.AllowedOrigins)
	p.anyOrigin = slices.Contains(origins, "*")
	p.origins = origins
	methods := splitCORS(c.AllowedMethods)
	if slices.Contains(methods, "*") {
		methods = corsAllMethods
	}
	p.methods = methods
	p.allowMeths = strings.Join(methods, ", ")
	headers := splitCORS(c.AllowedHeaders)
	p.anyHeader = slices.Contains(headers, "*")
	all := append(slices.Clone(corsSafelisted), headers...)
	slices.Sort(all)
	all = slices.Compact(all)
	p.allowHdr = strings.Join(all, ", ")
	for _, h := range all {
		p.headers = append(p.headers, strings.ToLower(h))
	}
	return p
}

func (p *corsPolicy) originAllowed(o string) bool {
	return p.anyOrigin || slices.Contains(p.origins, o)
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a CORS preflight, whatever the path: 200 "OK" when the
// origin, method and headers asked for are allowed, else 400 naming what is
// not (the browser enforces the policy; the status only informs).
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
	h.Set("Access-Control-Allow-Methods", p.allowMeths)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	var failures []string
	origin := r.Header.Get("Origin")
	switch {
	case !p.originAllowed(origin):
		failures = append(failures, "origin")
	case p.anyOrigin:
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if !slices.Contains(p.methods, r.Header.Get("Access-Control-Request-Method")) {
		failures = append(failures, "method")
	}
	requested, asked := r.Header.Get("Access-Control-Request-Headers"), r.Header.Values("Access-Control-Request-Headers") != nil
	switch {
	case p.anyHeader && asked:
		h.Set("Access-Control-Allow-Headers", requested)
	case asked:
		for _, name := range strings.Split(requested, ",") {
			if !slices.Contains(p.headers, strings.ToLower(strings.TrimSpace(name))) {
				failures = append(failures, "headers")
				break
			}
		}
	}
	if !p.anyHeader {
		h.Set("Access-Control-Allow-Headers", p.allowHdr)
	}
	if r.Header.Get("Access-Control-Request-Private-Network") != "" {
		// Prefect does not let public sites reach a private-network server.
		failures = append(failures, "private-network")
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if len(failures) > 0 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("Disallowed CORS " + strings.Join(failures, ", ")))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("OK"))
}

// simple sets the headers of an actual (non-preflight) cross-origin
// response before the handler writes it.
func (p *corsPolicy) simple(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h := w.Header()
	switch {
	case p.anyOrigin:
		h.Set("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
	case p.originAllowed(origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	default:
		h.Add("Vary", "Origin")
	}
}
