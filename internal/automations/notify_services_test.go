package automations

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

// serviceCall is one request the fake services' API received.
type serviceCall struct {
	path, auth, contentType, body string
}

// serviceAPI is a real HTTP server on loopback answering as PagerDuty's
// Events API v2, Twilio's Messages resource and Opsgenie's Alert API do:
// 401 for a wrong credential, else their success status and body.
type serviceAPI struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []serviceCall
}

func newServiceAPI(t *testing.T) *serviceAPI {
	api := &serviceAPI{}
	api.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		api.mu.Lock()
		api.calls = append(api.calls, serviceCall{path: r.URL.Path, auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: string(b)})
		api.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/v2/enqueue":
			if r.Header.Get("Authorization") != "Token token=pd-api-key" {
				w.WriteHeader(401)
				_, _ = io.WriteString(w, `{"status":"invalid","message":"Unauthorized"}`)
				return
			}
			w.WriteHeader(202)
			_, _ = io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"d1"}`)
		case r.Method == "POST" && r.URL.Path == "/2010-04-01/Accounts/AC123/Messages.json":
			if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("AC123:tw-token")) {
				w.WriteHeader(401)
				_, _ = io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
				return
			}
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
		case r.Method == "POST" && r.URL.Path == "/v2/alerts":
			if r.Header.Get("Authorization") != "GenieKey og-key" {
				w.WriteHeader(401)
				_, _ = io.WriteString(w, `{"message":"Could not authenticate","took":0.0}`)
				return
			}
			w.WriteHeader(202)
			_, _ = io.WriteString(w, `{"result":"Request will be processed","took":0.1,"requestId":"r1"}`)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(api.srv.Close)
	return api
}

func (a *serviceAPI) received(path string) []serviceCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []serviceCall
	for _, c := range a.calls {
		if c.path == path {
			out = append(out, c)
		}
	}
	return out
}

func TestNotificationsReachPagerDutyTwilioAndOpsgenie(t *testing.T) {
	fx := newFixture(t)
	api := newServiceAPI(t)
	pd, tw, og, bad := model.NewID(), model.NewID(), model.NewID(), model.NewID()
	notify := []string{"notify"}
	blocks := staticBlocks{
		pd: {ID: pd, Name: "pager", TypeSlug: "pager-duty-webhook", Capabilities: notify, Data: map[string]any{
			"integration_key": "routing-1", "api_key": "pd-api-key", "notify_type": "failure", "component": "etl", "group": "data",
			"custom_details": map[string]any{"team": "data"}, "clickable_url": "http://baton.example/runs"}},
		tw: {ID: tw, Name: "sms", TypeSlug: "twilio-sms", Capabilities: notify, Data: map[string]any{
			"account_sid": "AC123", "auth_token": "tw-token", "from_phone_number": "18001234567", "to_phone_numbers": []any{"18004242424", "+18004242425"}}},
		og: {ID: og, Name: "genie", TypeSlug: "opsgenie-webhook", Capabilities: notify, Data: map[string]any{
			"apikey": "og-key", "priority": float64(2), "target_user": []any{"oncall@example.com"}, "target_team": []any{"data"}, "tags": []any{"etl"}}},
		bad: {ID: bad, Name: "wrong key", TypeSlug: "opsgenie-webhook", Capabilities: notify, Data: map[string]any{"apikey": "nope"}},
	}
	s := fx.service(t, true, func(c *Config) {
		c.Blocks = blocks
		c.ServiceURLs = map[string]string{ServicePagerDuty: api.srv.URL, ServiceTwilio: api.srv.URL, ServiceOpsgenie: api.srv.URL}
	})
	action := func(id model.ID) string {
		return `{"type":"send-notification","block_document_id":"` + id.String() + `","subject":"{{ event.resource.id }} failed","body":"Event {{ event.event }}"}`
	}
	a := fx.create(t, s, `{"name":"incident","trigger":{"type":"event","posture":"Reactive","expect":["job.failed"],"within":0},"actions":[`+
		action(pd)+`,`+action(tw)+`,`+action(og)+`,`+action(bad)+`]}`)
	fx.emit(t, nowEvent("job.failed", "job.nightly"))
	waitFor(t, "the four notifications", func() bool {
		return len(fx.named(t, a, "prefect.automation.action.executed"))+len(fx.named(t, a, "prefect.automation.action.failed")) == 4
	})
	if n := len(fx.named(t, a, "prefect.automation.action.executed")); n != 3 {
		t.Fatalf("%d actions executed, want 3", n)
	}

	calls := api.received("/v2/enqueue")
	if len(calls) != 1 || calls[0].contentType != "application/json" {
		t.Fatalf("PagerDuty calls: %+v", calls)
	}
	var pdBody struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		Payload     struct {
			Summary, Severity, Source, Component, Group string
			CustomDetails                               map[string]string `json:"custom_details"`
		} `json:"payload"`
		Links []map[string]string `json:"links"`
	}
	if err := json.Unmarshal([]byte(calls[0].body), &pdBody); err != nil {
		t.Fatal(err)
	}
	if pdBody.RoutingKey != "routing-1" || pdBody.EventAction != "trigger" || pdBody.Payload.Summary != "job.nightly failed\r\nEvent job.failed" ||
		pdBody.Payload.Severity != "critical" || pdBody.Payload.Source != "Prefect" || pdBody.Payload.Component != "etl" || pdBody.Payload.Group != "data" ||
		pdBody.Payload.CustomDetails["team"] != "data" || len(pdBody.Links) != 1 || pdBody.Links[0]["href"] != "http://baton.example/runs" {
		t.Fatalf("PagerDuty event: %s", calls[0].body)
	}

	calls = api.received("/2010-04-01/Accounts/AC123/Messages.json")
	if len(calls) != 2 {
		t.Fatalf("Twilio got %d messages, want one per recipient: %+v", len(calls), calls)
	}
	for i, want := range []string{"+18004242424", "+18004242425"} {
		form, err := url.ParseQuery(calls[i].body)
		if err != nil || calls[i].contentType != "application/x-www-form-urlencoded" {
			t.Fatalf("Twilio form: %q %v", calls[i].body, err)
		}
		if form.Get("To") != want || form.Get("From") != "+18001234567" || form.Get("Body") != "job.nightly failed\r\nEvent job.failed" {
			t.Fatalf("Twilio message %d: %v", i, form)
		}
	}

	calls = api.received("/v2/alerts")
	var good []map[string]any
	for _, c := range calls {
		if c.auth == "GenieKey og-key" {
			var m map[string]any
			if err := json.Unmarshal([]byte(c.body), &m); err != nil {
				t.Fatal(err)
			}
			good = append(good, m)
		}
	}
	if len(good) != 2 {
		t.Fatalf("Opsgenie got %d alerts, want one per target (no batch): %+v", len(good), calls)
	}
	for _, m := range good {
		if m["message"] != "job.nightly failed" || m["description"] != "Event job.failed" || m["priority"] != "P2" {
			t.Fatalf("Opsgenie alert: %v", m)
		}
	}
	if r0, r1 := good[0]["responders"], good[1]["responders"]; mustJSONString(r0) != `[{"type":"user","username":"oncall@example.com"}]` ||
		mustJSONString(r1) != `[{"name":"data","type":"team"}]` {
		t.Fatalf("Opsgenie responders: %v %v", r0, r1)
	}

	// The wrong key: the API's 401 fails the action at once, with the
	// reason, and no secret in it.
	failedEvs := fx.named(t, a, "prefect.automation.action.failed")
	if len(failedEvs) != 1 {
		t.Fatalf("%d failed actions, want 1", len(failedEvs))
	}
	var payload map[string]any
	_ = json.Unmarshal(failedEvs[0].Payload, &payload)
	reason, _ := payload["reason"].(string)
	if !strings.Contains(reason, "answered 401") || strings.Contains(string(failedEvs[0].Payload), "nope") {
		t.Fatalf("failure: %s", failedEvs[0].Payload)
	}
	if n := len(calls) - len(good); n != 1 {
		t.Fatalf("the refused key was tried %d times, want 1 (a 401 is not retried)", n)
	}
}

func mustJSONString(v any) string { return string(mustJSON(v)) }

// TestTwilioRetryDoesNotResendDelivered: the second recipient's SMS fails
// once (Twilio answers 500), so the action is retried; the retry texts only
// that recipient, not again the first one whose SMS already went out.
func TestTwilioRetryDoesNotResendDelivered(t *testing.T) {
	fx := newFixture(t)
	var mu sync.Mutex
	got := map[string]int{}
	failedOnce := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		to := form.Get("To")
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if to == "+18004242425" && !failedOnce {
			failedOnce = true
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"code":20500,"message":"Internal Server Error","status":500}`)
			return
		}
		got[to]++
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
	}))
	t.Cleanup(srv.Close)
	tw := model.NewID()
	blocks := staticBlocks{tw: {ID: tw, Name: "sms", TypeSlug: "twilio-sms", Capabilities: []string{"notify"}, Data: map[string]any{
		"account_sid": "AC123", "auth_token": "tw-token", "from_phone_number": "18001234567", "to_phone_numbers": []any{"18004242424", "18004242425"}}}}
	s := fx.service(t, true, func(c *Config) {
		c.Blocks = blocks
		c.ActionAttempts = 3
		c.ServiceURLs = map[string]string{ServiceTwilio: srv.URL}
	})
	a := fx.create(t, s, `{"name":"sms","trigger":{"type":"event","posture":"Reactive","expect":["job.failed"],"within":0},"actions":[`+
		`{"type":"send-notification","block_document_id":"`+tw.String()+`","subject":"failed","body":"{{ event.resource.id }}"}]}`)
	fx.emit(t, nowEvent("job.failed", "job.nightly"))
	waitFor(t, "the SMS action to finish", func() bool {
		return len(fx.named(t, a, "prefect.automation.action.executed"))+len(fx.named(t, a, "prefect.automation.action.failed")) > 0
	})
	if n := len(fx.named(t, a, "prefect.automation.action.executed")); n != 1 {
		t.Fatalf("the action did not succeed on its retry (%d executed)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !failedOnce || got["+18004242424"] != 1 || got["+18004242425"] != 1 {
		t.Fatalf("SMS delivered per number = %v (failed once: %v), want exactly one each", got, failedOnce)
	}
}
