package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

// FuzzDecodeBody feeds arbitrary bytes to the decoder as the bodies of
// representative request types: it must never panic, must answer every
// refusal with a 4xx *Error, and what it accepts must re-encode.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"flow_id":"66666666-6666-4666-8666-666666666666","name":"r","parameters":{"a":[1,{"b":null}]},"tags":["x"],"state":{"type":"PENDING"}}`,
		`{"flow_runs":{"name":{"like_":"a%_"},"state":{"type":{"any_":["RUNNING"]}}},"sort":"ID_DESC","limit":5}`,
		`[{"name":"l","level":20,"message":"m","timestamp":"2026-01-01T00:00:00Z"}]`,
		`{"name":"d","flow_id":"66666666-6666-4666-8666-666666666666","schedules":[{"schedule":{"cron":"* * * * *"}}]}`,
		`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
		`{"name":"\u0000\ud800"}`, `null`, ``, `{"tags":[1]}`, `{"limit":1e400}`,
	} {
		f.Add([]byte(s))
	}
	types := []func() any{
		func() any { return new(model.FlowRunCreate) },
		func() any { return new(model.RunQuery) },
		func() any { return new([]model.LogCreate) },
		func() any { return new(model.DeploymentCreate) },
		func() any { return new(historyQuery) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for i, mk := range types {
			dst := mk()
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			err := decodeBody(httptest.NewRecorder(), r, dst, i == 1, defaultBodyLimit)
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
					t.Fatalf("%T: refusal %v is not a 4xx API error", dst, err)
				}
				continue
			}
			if _, err := json.Marshal(dst); err != nil {
				t.Fatalf("%T: accepted %q but cannot re-encode it: %v", dst, body, err)
			}
		}
	})
}

// FuzzRunFilters posts arbitrary bodies to the filter, count and paginate
// routes of flows, flow runs and task runs over a database with a few rows:
// whatever the body, the answer must be a 2xx or a 4xx with a detail, never
// a 5xx. This covers the filter decoder, the validation and the SQL built
// from the filters together.
func FuzzRunFilters(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"flows":{"name":{"any_":["f"],"like_":"%"}}}`,
		`{"flow_runs":{"operator":"or_","state":{"type":{"any_":["COMPLETED"]},"name":{"not_any_":["x"]}},"tags":{"all_":["a"],"is_null_":false}},"sort":"START_TIME_DESC","offset":1,"limit":3}`,
		`{"task_runs":{"start_time":{"before_":"2030-01-01T00:00:00Z","after_":"2020-01-01T00:00:00Z","is_null_":true}},"flow_runs":{"expected_start_time":{"after_":"1970-01-01T00:00:00Z"}}}`,
		`{"flow_runs":{"parent_task_run_id":{"is_null_":true},"deployment_id":{"any_":[]}},"page":2,"limit":1}`,
		`{"deployments":{"name":{"like_":"_"}},"work_pools":{"name":{"any_":["p"]}},"sort":"NAME_ASC"}`,
		`{"limit":-1}`, `{"sort":"BOGUS"}`, `{"flow_runs":{"id":{"any_":["not-a-uuid"]}}}`,
	} {
		f.Add(s)
	}
	srv := seededFuzzAPI(f)
	paths := []string{"/api/flows/filter", "/api/flows/count", "/api/flows/paginate", "/api/flow_runs/filter", "/api/flow_runs/count",
		"/api/flow_runs/paginate", "/api/task_runs/filter", "/api/task_runs/count", "/api/flow_runs/history"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("POST", p, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			srv.ServeHTTP(rec, r)
			if rec.Code >= 500 {
				t.Fatalf("POST %s %q: %d %s", p, body, rec.Code, rec.Body.String())
			}
			if rec.Code >= 400 {
				var e struct{ Detail any }
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Detail == nil {
					t.Fatalf("POST %s %q: %d without a detail: %s", p, body, rec.Code, rec.Body.String())
				}
			}
		}
	})
}

// seededFuzzAPI builds an API whose database holds a flow, runs in a few
// states and their task runs, shared by every input of a fuzz target.
func seededFuzzAPI(t testing.TB) *Server {
	srv := newTestAPI(t, nil)
	call := func(method, path, body string) map[string]any {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		srv.ServeHTTP(rec, r)
		if rec.Code >= 300 {
			t.Fatalf("seeding %s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	flow := call("POST", "/api/flows/", `{"name":"f","tags":["a"]}`)
	for _, st := range []string{"PENDING", "RUNNING", "COMPLETED"} {
		run := call("POST", "/api/flow_runs/", `{"flow_id":"`+flow["id"].(string)+`","tags":["a","b"],"state":{"type":"`+st+`"}}`)
		call("POST", "/api/task_runs/", `{"flow_run_id":"`+run["id"].(string)+`","task_key":"k","dynamic_key":"0","name":"t"}`)
	}
	return srv
}
