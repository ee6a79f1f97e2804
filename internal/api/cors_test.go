package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/tenancy"
)

// newCORSServer is a server-mode API with the given cross-origin policy.
func newCORSServer(t *testing.T, cors CORS, mode tenancy.Mode) *httptest.Server {
	t.Helper()
	_, hs := newCORSServerWithRoutes(t, cors, mode)
	return hs
}

func newCORSServerWithRoutes(t *testing.T, cors CORS, mode tenancy.Mode) (*Server, *httptest.Server) {
	t.Helper()
	cfg := testConfig(t, filepath.Join(t.TempDir(), "baton.db"), mode, slog.New(slog.DiscardHandler))
	cfg.CORS = cors
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs
}

// corsRequest sends one request with the given headers and returns the
// response (body read).
func corsRequest(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// pathParam fills a route's path parameters with plausible values.
var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestCORSPreflightOnEveryRoute: with Prefect's default policy (any origin,
// method and header), a browser's preflight for every declared route and
// method is answered 200 before routing and authorization, in server mode
// and in cloud mode (where the actual request needs a key), with the
// headers a browser needs to go ahead.
func TestCORSPreflightOnEveryRoute(t *testing.T) {
	t.Parallel()
	for _, mode := range []tenancy.Mode{tenancy.ModeServer, tenancy.ModeCloud} {
		srv, hs := newCORSServerWithRoutes(t, CORS{}, mode)
		prefix := "/api"
		if mode == tenancy.ModeCloud {
			prefix = "/api/accounts/00000000-0000-4000-8000-00000000a001/workspaces/00000000-0000-4000-8000-00000000b001"
		}
		n := 0
		for _, rt := range srv.routes {
			path := pathParam.ReplaceAllString(rt.path, "6b1b5d8e-5e0c-4c3a-9d6e-0b3f1f0c2a11")
			resp, body := corsRequest(t, "OPTIONS", hs.URL+prefix+path, map[string]string{
				"Origin":                         "https://app.example.com",
				"Access-Control-Request-Method":  rt.method,
				"Access-Control-Request-Headers": "authorization, content-type, x-prefect-api-version",
			})
			if resp.StatusCode != 200 || body != "OK" {
				t.Fatalf("%s: preflight %s %s: %d %q", mode, rt.method, rt.path, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Fatalf("%s %s: Access-Control-Allow-Origin %q", rt.method, rt.path, got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, rt.method) {
				t.Fatalf("%s %s: Access-Control-Allow-Methods %q", rt.method, rt.path, got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "authorization, content-type, x-prefect-api-version" {
				t.Fatalf("%s %s: Access-Control-Allow-Headers %q (any header: the requested ones are mirrored)", rt.method, rt.path, got)
			}
			if resp.Header.Get("Access-Control-Max-Age") != "600" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("%s %s: max-age/credentials headers %v", rt.method, rt.path, resp.Header)
			}
			n++
		}
		if n < 150 {
			t.Fatalf("only %d routes checked", n)
		}
	}
}

// TestCORSActualResponses: a cross-origin response carries the headers the
// browser checks (any origin: "*"; a listed origin: echoed, with Vary); a
// request without Origin gets none, and an OPTIONS that is not a preflight
// is routed like any request.
func TestCORSActualResponses(t *testing.T) {
	t.Parallel()
	hs := newCORSServer(t, CORS{}, tenancy.ModeServer)
	resp, _ := corsRequest(t, "GET", hs.URL+"/api/health", map[string]string{"Origin": "https://app.example.com"})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("any origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = corsRequest(t, "GET", hs.URL+"/api/health", nil)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("same-origin request got CORS headers: %v", resp.Header)
	}
	// An error response is labelled too, so the browser shows the app the detail.
	resp, _ = corsRequest(t, "GET", hs.URL+"/api/flows/6b1b5d8e-5e0c-4c3a-9d6e-0b3f1f0c2a11", map[string]string{"Origin": "https://app.example.com"})
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("404 without CORS headers: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = corsRequest(t, "OPTIONS", hs.URL+"/api/health", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("OPTIONS without a preflight's headers: %d, want 405 like any unrouted method", resp.StatusCode)
	}
}

// TestCORSRestrictedPolicy: BATON_CORS_ALLOWED_* narrow what preflights
// allow, as Prefect's settings do: an unlisted origin, method or header is a
// 400 naming each failure; a listed origin is echoed (not "*"), and the
// allowed headers are the safelisted ones plus the configured ones.
func TestCORSRestrictedPolicy(t *testing.T) {
	t.Parallel()
	hs := newCORSServer(t, CORS{
		AllowedOrigins: []string{"https://ui.example.com"},
		AllowedMethods: []string{"GET", "POST"},
		AllowedHeaders: []string{"Authorization"},
	}, tenancy.ModeServer)
	pre := func(origin, method, headers string) (*http.Response, string) {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return corsRequest(t, "OPTIONS", hs.URL+"/api/flows/filter", h)
	}
	resp, body := pre("https://ui.example.com", "POST", "authorization, content-type")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://ui.example.com" {
		t.Fatalf("allowed preflight: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "Accept, Accept-Language, Authorization, Content-Language, Content-Type" {
		t.Fatalf("Access-Control-Allow-Headers %q", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "GET, POST" {
		t.Fatalf("Access-Control-Allow-Methods %q", got)
	}
	for _, c := range []struct{ origin, method, headers, want string }{
		{"https://evil.example.com", "POST", "", "Disallowed CORS origin"},
		{"https://ui.example.com", "DELETE", "", "Disallowed CORS method"},
		{"https://ui.example.com", "POST", "x-secret", "Disallowed CORS headers"},
		{"https://evil.example.com", "PUT", "x-secret", "Disallowed CORS origin, method, headers"},
	} {
		resp, body := pre(c.origin, c.method, c.headers)
		if resp.StatusCode != 400 || body != c.want {
			t.Fatalf("%+v: %d %q", c, resp.StatusCode, body)
		}
		if c.origin != "https://ui.example.com" && resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%+v: disallowed origin was allowed: %v", c, resp.Header)
		}
	}
	resp, _ = corsRequest(t, "GET", hs.URL+"/api/health", map[string]string{"Origin": "https://ui.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://ui.example.com" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
		t.Fatalf("listed origin: %v", resp.Header)
	}
	resp, _ = corsRequest(t, "GET", hs.URL+"/api/health", map[string]string{"Origin": "https://evil.example.com"})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unlisted origin: %d %v", resp.StatusCode, resp.Header)
	}
}
