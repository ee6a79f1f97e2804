package api

import (
	"bytes"
	"net/http"
	"testing"
)

// TestInboundWebhookBecomesAnEvent: a call to a webhook's URL becomes the
// event its template renders (body, headers and query available), a
// disabled or rotated-away URL is a 404, a template that does not render
// an event is a 400.
func TestInboundWebhookBecomesAnEvent(t *testing.T) {
	s := newTestServer(t)
	w := s.must("POST", "/api/webhooks", map[string]any{"name": "shop",
		"template": `{"event": "shop.order.{{ body.status }}", "resource": {"prefect.resource.id": "shop.order.{{ body.id }}", "prefect.resource.name": "{{ headers['x-shop'] }}"}, "payload": {"total": {{ body.total }}, "src": "{{ query.src }}"}}`}, 201)
	slug := w["slug"].(string)
	if len(slug) < 20 {
		t.Fatalf("slug %q is too short to be a secret", slug)
	}
	post := func(slug, body string) int {
		req, _ := http.NewRequest("POST", s.URL+"/hooks/"+slug+"?src=test", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shop", "acme")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(slug, `{"id": 42, "status": "paid", "total": 9.5}`); code != 204 {
		t.Fatalf("call answered %d, want 204", code)
	}
	page := s.must("POST", "/api/events/filter", map[string]any{"filter": map[string]any{"event": map[string]any{"name": []string{"shop.order.paid"}}}}, 200)
	evs := page["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	e := evs[0].(map[string]any)
	res := e["resource"].(map[string]any)
	if res["prefect.resource.id"] != "shop.order.42" || res["prefect.resource.name"] != "acme" {
		t.Fatalf("resource %v", res)
	}
	if p := e["payload"].(map[string]any); p["total"] != 9.5 || p["src"] != "test" {
		t.Fatalf("payload %v", p)
	}
	if rel := e["related"].([]any); len(rel) != 1 || rel[0].(map[string]any)["prefect.resource.role"] != "webhook" {
		t.Fatalf("related %v", rel)
	}
	if code := post(slug, `not json`); code != 400 {
		t.Fatalf("a body the template cannot use answered %d, want 400", code)
	}
	id := w["id"].(string)
	s.must("PATCH", "/api/webhooks/"+id, map[string]any{"enabled": false}, 204)
	if code := post(slug, `{"id": 1, "status": "paid", "total": 1}`); code != 404 {
		t.Fatalf("a disabled webhook answered %d, want 404", code)
	}
	s.must("PATCH", "/api/webhooks/"+id, map[string]any{"enabled": true}, 204)
	rotated := s.must("POST", "/api/webhooks/"+id+"/rotate", nil, 200)
	if rotated["slug"] == slug {
		t.Fatal("rotate kept the slug")
	}
	if code := post(slug, `{"id": 1, "status": "paid", "total": 1}`); code != 404 {
		t.Fatalf("the old URL answered %d after rotation, want 404", code)
	}
	if code := post(rotated["slug"].(string), `{"id": 1, "status": "paid", "total": 1}`); code != 204 {
		t.Fatalf("the new URL answered %d, want 204", code)
	}
	if code, _ := s.do("POST", "/api/webhooks", map[string]any{"name": "bad", "template": "{{ oops"}); code != 422 {
		t.Fatalf("a template that does not parse answered %d, want 422", code)
	}
	list := s.must("POST", "/api/webhooks/filter", nil, 200)
	_ = list
}
