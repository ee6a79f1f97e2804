package api

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// TestRateLimits: with limits set, an API key over its rate and a
// workspace over its rate are answered 429 with Retry-After (which the
// Prefect client retries), each scope on its own bucket: another workspace
// and unauthenticated routes are not affected.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, filepath.Join(t.TempDir(), "baton.db"), tenancy.ModeCloud, slog.New(slog.DiscardHandler))
	cfg.Limits.KeyRate = RateLimit{PerSecond: 0.1, Burst: 2}
	cfg.Limits.WorkspaceRate = RateLimit{PerSecond: 0.1, Burst: 4}
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &cloudServer{Server: hs, t: t, srv: srv, ten: cfg.Tenancy}
	a := s.bootstrap("a@example.com", "acme", "prod")
	b := s.bootstrap("b@example.com", "other", "prod")
	keys := []string{a.key}
	for range 2 {
		k, err := s.ten.CreateAPIKey(context.Background(), a.user.ID, "more", nil)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.Key)
	}
	path := a.base() + "/flows/filter"
	status := func(key, path string) (int, string) {
		code, body := s.call(key, "POST", path, map[string]any{})
		return code, string(body)
	}
	for i := range 2 {
		if code, body := status(keys[0], path); code != 200 {
			t.Fatalf("key 1, request %d: %d %s", i+1, code, body)
		}
	}
	if code, body := status(keys[0], path); code != 429 || !strings.Contains(body, "API key") {
		t.Fatalf("key 1 past its burst: %d %s, want 429 naming the API key", code, body)
	}
	for i := range 2 {
		if code, body := status(keys[1], path); code != 200 {
			t.Fatalf("key 2, request %d: %d %s (its own bucket)", i+1, code, body)
		}
	}
	// The workspace has served its burst of 4.
	req := httptest.NewRequest("POST", path, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+keys[2])
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "workspace") {
		t.Fatalf("key 3 in the busy workspace: %d %s, want 429 naming the workspace", rec.Code, rec.Body.String())
	}
	if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra < 1 || ra > 10 {
		t.Fatalf("Retry-After %q, want the seconds until a token (1 to 10)", rec.Header().Get("Retry-After"))
	}
	if code, body := status(b.key, b.base()+"/flows/filter"); code != 200 {
		t.Fatalf("another tenant: %d %s", code, body)
	}
	if code, _ := s.call("", "GET", "/api/health", nil); code != 200 {
		t.Fatalf("health: %d", code)
	}
}

// TestRateLimiterRefillsAndForgets: a bucket refills at its rate, and the
// buckets of callers gone quiet are dropped once the map is large, so the
// limiter's memory is bounded by its active callers.
func TestRateLimiterRefillsAndForgets(t *testing.T) {
	t.Parallel()
	rl := newRateLimiter(RateLimit{PerSecond: 10, Burst: 1}, "test")
	k := model.NewID()
	t0 := time.Now()
	if ok, _ := rl.take(k, t0); !ok {
		t.Fatal("the first request was refused")
	}
	ok, wait := rl.take(k, t0)
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("second at once: ok %v, wait %v (want about 100 ms)", ok, wait)
	}
	if ok, _ := rl.take(k, t0.Add(100*time.Millisecond)); !ok {
		t.Fatal("refused after the refill time")
	}
	for i := range maxBuckets {
		rl.take(model.NewID(), t0.Add(time.Duration(i)*time.Microsecond))
	}
	rl.take(model.NewID(), t0.Add(time.Hour))
	if n := len(rl.buckets); n > 2 {
		t.Fatalf("%d buckets after the sweep, want the quiet ones gone", n)
	}
}
