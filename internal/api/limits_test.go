package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/store"
)

// limitedServer is the API served by its own http.Server and capped
// listener on a loopback port, as `baton server start` serves it.
type limitedServer struct {
	srv  *Server
	addr string
}

func newLimitedServer(t *testing.T, limits Limits) *limitedServer {
	t.Helper()
	srv := newTestAPI(t, func(c *Config) { c.Limits = limits })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(nil)
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return &limitedServer{srv: srv, addr: ln.Addr().String()}
}

// closedWithin reports whether the server closes conn within d (reads
// return EOF or a reset), reading and discarding whatever it sends.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return err == nil || !(errorsAs(err, &ne) && ne.Timeout())
}

func errorsAs(err error, ne *net.Error) bool {
	v, ok := err.(net.Error)
	if ok {
		*ne = v
	}
	return ok
}

// TestTrickledBodyTimesOut: a body sent one byte at a time used to hold its
// connection forever (50 of 50 still open after 40 s); the read timeout
// closes it.
func TestTrickledBodyTimesOut(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{ReadTimeout: 500 * time.Millisecond})
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/flows/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	if !closedWithin(conn, 5*time.Second) {
		t.Fatalf("a trickled body held its connection for %v (read timeout 500ms)", time.Since(start).Round(time.Millisecond))
	}
}

// TestIdleConnectionsClosed: idle keep-alive connections were never closed
// (500 of 500 open after 20 s); the idle timeout closes them.
func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{IdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	if !closedWithin(conn, 5*time.Second) {
		t.Fatal("an idle keep-alive connection stayed open past the idle timeout")
	}
}

// TestConnectionCap: past MaxConnections, a new connection is not served
// until one of the open ones closes.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{MaxConnections: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	waitFor(t, func() bool { return s.srv.conns.Load() == 2 })
	third, err := net.Dial("tcp", s.addr) // the kernel queues it
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection past the cap was served")
	}
	held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a slot freed: %v %v", resp, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLongLivedRoutesOutliveTimeouts: the routes declared long-polling and
// websocket keep working past the read and write timeouts that end every
// other exchange.
func TestLongLivedRoutesOutliveTimeouts(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	base := "http://" + s.addr + "/api"
	if code, _ := post(t, base+"/work_pools/", `{"name":"lp"}`); code != 201 {
		t.Fatalf("create pool: %d", code)
	}
	start := time.Now()
	code, body := post(t, base+"/work_pools/lp/get_scheduled_flow_runs", `{"wait_seconds": 1}`)
	if code != 200 || strings.TrimSpace(body) != "[]" || time.Since(start) < time.Second {
		t.Fatalf("long poll past the write timeout: %d %q after %v", code, body, time.Since(start))
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.addr+"/api/events/out", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]any{"type": "filter", "filter": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // past both timeouts
	ev := `[{"id":"7b1b5d8e-5e0c-4c3a-9d6e-0b3f1f0c2a11","occurred":"2026-01-01T00:00:00Z","event":"x.y","resource":{"prefect.resource.id":"r.1"}}]`
	if code, body := post(t, base+"/events", ev); code != 204 {
		t.Fatalf("post event: %d %s", code, body)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got map[string]any
	if err := ws.ReadJSON(&got); err != nil {
		t.Fatalf("websocket after the timeouts: %v", err)
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDecodeBudget: while large bodies hold the whole decode budget, a
// further body waits, then gets 503 with Retry-After (the Prefect client
// retries it) instead of adding to memory; once the budget frees, it is
// served.
func TestDecodeBudget(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{DecodeBudget: maxRouteBody, DecodeWait: 200 * time.Millisecond})
	// A log batch of the largest allowed size, sent slowly: it holds its
	// reservation while its body arrives.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/logs/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", maxRouteBody)
	waitFor(t, func() bool { return s.srv.budget.held.Load() == maxRouteBody })
	resp, err := http.Post("http://"+s.addr+"/api/flows/", "application/json", strings.NewReader(`{"name":"waits"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("body past the budget: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, refused := s.srv.budgetStats(); refused != 1 {
		t.Fatalf("refusals counted: %d", refused)
	}
	conn.Close()
	waitFor(t, func() bool {
		code, _ := post(t, "http://"+s.addr+"/api/flows/", `{"name":"served"}`)
		return code == 201
	})
}

// TestDecodeBudgetRefusalIsReadable: a large body refused for the budget
// must reach its client as the 503 (which the client retries), not as a
// reset connection. Before, the server answered without reading the body
// and closed the connection under the client still sending it: the
// client's write failed and its read saw a reset (mem.py's 16 concurrent
// 8 MiB log batches: 24 of 32 ended as connection errors).
func TestDecodeBudgetRefusalIsReadable(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{DecodeBudget: maxRouteBody, DecodeWait: 200 * time.Millisecond})
	hold, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	fmt.Fprintf(hold, "POST /api/logs/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", maxRouteBody)
	waitFor(t, func() bool { return s.srv.budget.held.Load() == maxRouteBody })

	size := 6 << 20
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	wrote := make(chan error, 1)
	go func() {
		body := bytes.Repeat([]byte(" "), size)
		body[0], body[len(body)-1] = '[', ']'
		_, err := fmt.Fprintf(conn, "POST /api/logs/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", size, body)
		wrote <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a body refused for the budget: %v (the write: %v)", err, <-wrote)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refused body: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the client could not send its whole body: %v", err)
	}
}

// TestStringLimits: a 10 MB flow name was accepted and served back; names
// are limited to maxNameLength and other strings to maxStringLength, each
// refusal naming the field, on every route (the check is in the decoder).
func TestStringLimits(t *testing.T) {
	t.Parallel()
	s := newLimitedServer(t, Limits{})
	base := "http://" + s.addr + "/api"
	long := strings.Repeat("n", maxNameLength+1)
	cases := []struct{ path, body, field string }{
		{"/flows/", `{"name":"` + long + `"}`, `"name"`},
		{"/flows/", `{"name":"ok","tags":["a","` + long + `"]}`, `"tags[1]"`},
		{"/flows/filter", `{"flows":{"name":{"any_":["` + long + `"]}}}`, `"flows.name.any_[0]"`},
		{"/logs/", `[{"name":"l","level":20,"timestamp":"2026-01-01T00:00:00Z","message":"` + strings.Repeat("m", maxStringLength+1) + `"}]`, `"[0].message"`},
	}
	for _, tc := range cases {
		code, body := post(t, base+tc.path, tc.body)
		var e struct{ Detail string }
		_ = json.Unmarshal([]byte(body), &e)
		if code != 422 || !strings.Contains(e.Detail, tc.field) {
			t.Errorf("POST %s: %d %.200s, want 422 naming %s", tc.path, code, body, tc.field)
		}
	}
	if code, body := post(t, base+"/flows/", `{"name":"`+strings.Repeat("n", maxNameLength)+`"}`); code != 201 {
		t.Errorf("a name at the limit: %d %.200s", code, body)
	}
}

// TestStreamedResponsesMatchEncoding: lists and pages are streamed element
// by element; the bytes must be exactly what encoding the whole value gives.
func TestStreamedResponsesMatchEncoding(t *testing.T) {
	t.Parallel()
	type item struct {
		ID   int               `json:"id"`
		Name string            `json:"name"`
		Tags []string          `json:"tags"`
		M    map[string]string `json:"m,omitempty"`
	}
	var items []item
	for i := range 100 {
		items = append(items, item{ID: i, Name: fmt.Sprintf("<n%d>", i), Tags: []string{"a"}, M: map[string]string{"k": "v"}})
	}
	for _, v := range []any{items, items[:3], page[item]{Results: items, Count: 100, Limit: 200, Pages: 1, Page: 1}, page[item]{}, []item{}} {
		rec := httptest.NewRecorder()
		writeJSON(rec, 200, v)
		want, _ := json.Marshal(v)
		if got := rec.Body.String(); got != string(want) {
			t.Fatalf("streamed %T:\n got %.300s\nwant %.300s", v, got, want)
		}
	}
}

// TestDocumentDeclaresRealAnswers: answers schemathesis found undeclared —
// a null run_input_keyset where an object was declared, the 200 of an
// upsert that found its row where only 201 was, and the plain-text 400 of a
// websocket route asked without an upgrade — are all in the document now,
// and the websocket answer is a JSON 426.
func TestDocumentDeclaresRealAnswers(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var doc struct {
		Paths      map[string]map[string]struct{ Responses map[string]any } `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	resp, err := http.Get(s.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	keyset := doc.Components.Schemas["StateDetails"].Properties["run_input_keyset"]
	if !strings.Contains(fmt.Sprint(keyset), "null") {
		t.Errorf("run_input_keyset is declared %v, but is null on most states", keyset)
	}
	for _, p := range []string{"/flows", "/deployments", "/flow_runs", "/task_runs", "/flow_runs/{id}/set_state"} {
		if _, ok := doc.Paths[p]["post"].Responses["200"]; !ok {
			t.Errorf("POST %s: 200 (existing row) not declared: %v", p, doc.Paths[p]["post"].Responses)
		}
	}
	for _, p := range []string{"/events/in", "/events/out"} {
		rs := doc.Paths[p]["get"].Responses
		if rs["101"] == nil || rs["426"] == nil {
			t.Errorf("GET %s: declares %v, want 101 and 426", p, rs)
		}
		code, out := s.do("GET", "/api"+p, nil)
		if m, _ := out.(map[string]any); code != 426 || m["detail"] == nil {
			t.Errorf("GET %s without an upgrade: %d %v, want a JSON 426", p, code, out)
		}
	}
	s.must("POST", "/api/flows/", map[string]any{"name": "twice"}, 201)
	s.must("POST", "/api/flows/", map[string]any{"name": "twice"}, 200)
}

// TestBlockFilterBadShape: a wrongly shaped is_anonymous filter (schemathesis
// sent a list) was a store error and a 500; it is a 422 naming the field.
func TestBlockFilterBadShape(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	code, out := s.do("POST", "/api/block_documents/count", `{"block_documents":{"is_anonymous":[null,null]}}`)
	if m, _ := out.(map[string]any); code != 422 || !strings.Contains(fmt.Sprint(m["detail"]), "is_anonymous") {
		t.Fatalf("%d %v, want 422 naming is_anonymous", code, out)
	}
}

// TestStorageFullIs503: a write the store refused for a full disk is a 503
// with Retry-After and a detail saying so (the Prefect client retries it),
// not a 500.
func TestStorageFullIs503(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	writeError(rec, toAPIError(fmt.Errorf("sqlite: commit: %w", store.ErrStorageFull)))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "disk is full") {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
}

// TestOperatorMetrics: /metrics shows the database's WAL and file sizes,
// the writer's queue and commit latency, and the HTTP limits' state.
func TestOperatorMetrics(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.must("POST", "/api/flows/", map[string]any{"name": "m"}, 201)
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range []string{"baton_db_wal_bytes ", "baton_db_bytes ", "baton_db_writer_queue_depth ", "baton_db_commit_duration_seconds_count ",
		"baton_http_connections ", "baton_decode_budget_refused_total ", "baton_db_wal_truncations_total "} {
		if !strings.Contains(string(b), "\n"+m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// TestWebsocketRoutesDeclareTheirLifetime: a websocket route left bounded
// would be cut at the server's write timeout (60 s) however healthy its
// client; every route whose summary says it is a websocket, and that does
// not merely refuse, must declare lifetime socket.
func TestWebsocketRoutesDeclareTheirLifetime(t *testing.T) {
	t.Parallel()
	srv := newTestAPI(t, nil)
	n := 0
	for _, rt := range srv.routes {
		if !strings.HasPrefix(strings.ToLower(rt.summary), "websocket") || rt.status >= 400 {
			continue
		}
		n++
		if rt.lifetime != socket {
			t.Errorf("%s is a websocket route but declares lifetime %v", rt.muxPattern(), rt.lifetime)
		}
	}
	if n < 3 {
		t.Fatalf("found only %d websocket routes; the test no longer recognises them", n)
	}
}
