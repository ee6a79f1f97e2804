package api

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// TestRetentionSettings: GET /admin/retention shows the server's periods;
// PUT gives the workspace its own (0 keeps for ever, null takes the
// server's), refusing periods that would delete runs being looked at;
// DELETE drops the overrides.
func TestRetentionSettings(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(newTestAPI(t, func(c *Config) {
		c.Retention = RetentionDefaults{Periods: map[store.RetentionResource]time.Duration{
			store.RetainFlowRuns: 90 * 24 * time.Hour, store.RetainEvents: 7 * 24 * time.Hour}}
	}))
	t.Cleanup(hs.Close)
	s := &testServer{Server: hs, t: t}
	got := s.must("GET", "/api/admin/retention", nil, 200)
	period := func(m map[string]any, res string) (float64, string) {
		p := m[res].(map[string]any)
		return p["seconds"].(float64), p["source"].(string)
	}
	if secs, src := period(got, "events"); secs != 7*24*3600 || src != "server" || got["enabled"] != true {
		t.Fatalf("GET = %v", got)
	}
	if secs, _ := period(got, "logs"); secs != 0 {
		t.Fatalf("an unset period is kept for ever (0): %v", got)
	}
	got = s.must("PUT", "/api/admin/retention", map[string]any{"events": 3600, "logs": 0, "flow_runs": nil}, 200)
	if secs, src := period(got, "events"); secs != 3600 || src != "workspace" {
		t.Fatalf("after PUT: %v", got)
	}
	if secs, src := period(got, "logs"); secs != 0 || src != "workspace" {
		t.Fatalf("after PUT: %v", got)
	}
	if secs, src := period(got, "flow_runs"); secs != 90*24*3600 || src != "server" {
		t.Fatalf("after PUT: %v", got)
	}
	for _, bad := range []map[string]any{{"events": 5}, {"logs": -1}, {"artifacts": "soon"}} {
		s.must("PUT", "/api/admin/retention", bad, 422)
	}
	s.must("DELETE", "/api/admin/retention", nil, 204)
	got = s.must("GET", "/api/admin/retention", nil, 200)
	if secs, src := period(got, "events"); secs != 7*24*3600 || src != "server" {
		t.Fatalf("after DELETE: %v", got)
	}
}
