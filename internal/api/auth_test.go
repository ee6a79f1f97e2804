package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
)

// TestServerModeKey: server mode is open on loopback; with a server key,
// callers from other machines must present it as a bearer key or as the
// password of Prefect's Basic auth string, over HTTP and in a websocket's
// auth message alike.
func TestServerModeKey(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	service := func(key string) *tenancy.Service {
		s, err := tenancy.New(tenancy.Config{Store: st, ServerKey: key, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	open, locked := service(""), service("s3cret-server-key")
	req := func(remote, auth string) *http.Request {
		r := httptest.NewRequest("GET", "/api/flows", nil)
		r.RemoteAddr = remote
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		s    *tenancy.Service
		r    *http.Request
		ok   bool
	}{
		{"open, remote", open, req("10.0.0.2:5000", ""), true},
		{"locked, loopback", locked, req("127.0.0.1:5000", ""), true},
		{"locked, ipv6 loopback", locked, req("[::1]:5000", ""), true},
		{"locked, remote without key", locked, req("10.0.0.2:5000", ""), false},
		{"locked, remote wrong key", locked, req("10.0.0.2:5000", "Bearer nope"), false},
		{"locked, remote bearer", locked, req("10.0.0.2:5000", "Bearer s3cret-server-key"), true},
		{"locked, remote basic auth string", locked, req("10.0.0.2:5000", "Basic dXNlcjpzM2NyZXQtc2VydmVyLWtleQ=="), true},
	} {
		p, err := authenticateRequest(context.Background(), tc.s, tc.r)
		if (err == nil) != tc.ok || (tc.ok && !p.Server) {
			t.Errorf("%s: %+v %v", tc.name, p, err)
		}
	}
	r := req("10.0.0.2:5000", "")
	if _, err := authenticateToken(context.Background(), locked, r, "user:s3cret-server-key"); err != nil {
		t.Errorf("websocket auth string: %v", err)
	}
	if _, err := authenticateToken(context.Background(), locked, r, ""); err == nil {
		t.Error("websocket without token accepted")
	}
}
