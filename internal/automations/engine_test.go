package automations

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// fixture is a real SQLite store with the runs layer and an event bus.
type fixture struct {
	st  store.Store
	rs  *runs.Service
	bus *events.Bus
	ws  model.ID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bus := events.NewBus()
	rs, err := runs.New(runs.Config{Store: st, Publisher: bus})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, rs: rs, bus: bus, ws: store.DefaultWorkspaceID}
}

// service builds (and with start, starts) an automations service over the
// fixture's store, with fast timings for tests.
func (fx *fixture) service(t *testing.T, start bool, tweak ...func(*Config)) *Service {
	t.Helper()
	cfg := Config{Store: fx.st, Runs: fx.rs, Publisher: fx.bus, Waker: fx.bus, PollInterval: 20 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, ActionTimeout: 2 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if start {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })
	}
	return s
}

func (fx *fixture) create(t *testing.T, s *Service, def string) model.Automation {
	t.Helper()
	var in Input
	if err := json.Unmarshal([]byte(def), &in); err != nil {
		t.Fatal(err)
	}
	a, err := s.Create(context.Background(), fx.ws, &in)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// emit stores events and publishes them, as the ingest path does.
func (fx *fixture) emit(t *testing.T, evs ...*model.Event) {
	t.Helper()
	var list []model.Event
	for _, e := range evs {
		list = append(list, *e)
	}
	fresh, err := fx.st.EventInsert(context.Background(), fx.ws, list)
	if err != nil {
		t.Fatal(err)
	}
	fx.bus.Publish(fx.ws, fresh)
}

// named returns the stored events with this name about automation a.
func (fx *fixture) named(t *testing.T, a model.Automation, name string) []model.Event {
	t.Helper()
	f := model.EventFilter{Order: "ASC", Resource: &model.ResourceFilter{ID: []string{"prefect.automation." + a.ID.String()}}}
	page, err := fx.st.EventList(context.Background(), fx.ws, f, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.Event
	for _, e := range page.Events {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func nowEvent(name, resource string) *model.Event {
	return &model.Event{ID: model.NewID(), Occurred: model.NewTime(time.Now()), Event: name, Resource: map[string]string{"prefect.resource.id": resource}}
}

func TestEngineFiresAndRecordsTheAction(t *testing.T) {
	fx := newFixture(t)
	s := fx.service(t, true)
	a := fx.create(t, s, `{"name":"on custom","trigger":{"type":"event","posture":"Reactive","expect":["my.event"],"within":0},"actions":[{"type":"do-nothing"}]}`)
	fx.emit(t, nowEvent("my.event", "my.resource"))
	waitFor(t, "the action to be executed", func() bool { return len(fx.named(t, a, "prefect.automation.action.executed")) == 1 })
	if n := len(fx.named(t, a, "prefect.automation.triggered")); n != 1 {
		t.Fatalf("%d triggered events, want 1", n)
	}
	trig := fx.named(t, a, "prefect.automation.action.triggered")
	exec := fx.named(t, a, "prefect.automation.action.executed")
	if len(trig) != 1 || exec[0].Follows == nil || *exec[0].Follows != trig[0].ID {
		t.Fatalf("executed does not follow triggered: %+v %+v", trig, exec)
	}
}

// failingCommits fails AutomationStateCommit while fail is set, as if the
// process died between evaluating and committing.
type failingCommits struct {
	store.Store
	fail atomic.Bool
}

func (f *failingCommits) AutomationStateCommit(ctx context.Context, c store.AutomationCommit) error {
	if f.fail.Load() && (len(c.Actions) > 0 || len(c.Buckets) > 0) {
		return errors.New("simulated crash before commit")
	}
	return f.Store.AutomationStateCommit(ctx, c)
}

func countActions(t *testing.T, st store.Store, automation model.ID) int {
	t.Helper()
	all, err := st.AutomationActionsList(context.Background(), store.DefaultWorkspaceID, automation, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// TestRestartInTheMiddleOfAWindow stops the engine with a window half
// counted, restarts it on the same database, and checks the count went on
// where it stopped: the trigger fires on the third event, once.
func TestRestartInTheMiddleOfAWindow(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	def := `{"name":"three in an hour","trigger":{"type":"event","posture":"Reactive","expect":["tick"],"threshold":3,"within":3600},"actions":[{"type":"do-nothing"}]}`

	s1 := fx.service(t, false, func(c *Config) { c.ActionAttempts = 1 })
	a := fx.create(t, s1, def)
	if err := s1.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	fx.emit(t, nowEvent("tick", "r"), nowEvent("tick", "r"))
	if err := s1.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 0 {
		t.Fatalf("fired early: %d actions", n)
	}
	// "Restart": a new service loads the persisted state.
	s2 := fx.service(t, false)
	if err := s2.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s2.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 0 {
		t.Fatalf("replaying after the restart fired: %d actions", n)
	}
	fx.emit(t, nowEvent("tick", "r"))
	if err := s2.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 1 {
		t.Fatalf("%d actions after the third event, want 1 (the count was lost)", n)
	}
	// Another restart replays nothing twice.
	s3 := fx.service(t, false)
	if err := s3.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s3.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 1 {
		t.Fatalf("%d actions after a second restart, want 1 (double fire)", n)
	}
	if n := len(fx.named(t, a, "prefect.automation.triggered")); n != 1 {
		t.Fatalf("%d triggered events, want 1", n)
	}
}

// TestCrashBeforeCommitNeitherLosesNorDoublesAFiring makes the commit of
// the firing step fail (the process "dies" between evaluation and commit):
// the engine reloads its persisted state, evaluates the same events again
// and fires exactly once.
func TestCrashBeforeCommitNeitherLosesNorDoublesAFiring(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fc := &failingCommits{Store: fx.st}
	fx.st = fc
	s := fx.service(t, false)
	a := fx.create(t, s, `{"name":"twice","trigger":{"type":"event","posture":"Reactive","expect":["tick"],"threshold":2,"within":3600},"actions":[{"type":"do-nothing"},{"type":"do-nothing"}]}`)
	if err := s.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	fx.emit(t, nowEvent("tick", "r"), nowEvent("tick", "r"))
	fc.fail.Store(true)
	if err := s.engine.tick(ctx); err == nil {
		t.Fatal("the simulated crash did not happen")
	}
	fc.fail.Store(false)
	// What run() does after a failed step.
	if err := s.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 2 {
		t.Fatalf("%d actions queued, want 2 (one firing, two actions)", n)
	}
	if n := len(fx.named(t, a, "prefect.automation.triggered")); n != 1 {
		t.Fatalf("%d triggered events, want 1", n)
	}
}

// receiver is a real HTTP server that answers with a scripted sequence of
// statuses and records what it received.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	bodies   []string
	statuses []int
	hang     time.Duration
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		hang := r.hang
		r.mu.Unlock()
		if hang > 0 {
			select {
			case <-time.After(hang):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// staticBlocks serves block documents from a map.
type staticBlocks map[model.ID]BlockDocument

func (b staticBlocks) BlockDocument(_ context.Context, _, id model.ID) (BlockDocument, error) {
	d, ok := b[id]
	if !ok {
		return d, fmt.Errorf("block document %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

func TestFailingActionIsRetriedWithBackoffThenRecorded(t *testing.T) {
	fx := newFixture(t)
	flaky := newReceiver(t, 500, 503, 200)
	broken := newReceiver(t, 500, 500, 500, 500, 500, 500)
	flakyID, brokenID := model.NewID(), model.NewID()
	blocks := staticBlocks{
		flakyID:  {ID: flakyID, Name: "flaky", TypeSlug: "webhook", Data: map[string]any{"url": flaky.srv.URL, "method": "POST"}},
		brokenID: {ID: brokenID, Name: "broken", TypeSlug: "webhook", Data: map[string]any{"url": broken.srv.URL}},
	}
	s := fx.service(t, true, func(c *Config) { c.Blocks = blocks; c.ActionAttempts = 3 })
	a := fx.create(t, s, `{"name":"hooks","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[
		{"type":"call-webhook","block_document_id":"`+flakyID.String()+`","payload":"{\"resource\": \"{{ event.resource.id }}\"}"},
		{"type":"call-webhook","block_document_id":"`+brokenID.String()+`","payload":"x"}]}`)
	fx.emit(t, nowEvent("go", "thing.1"))
	waitFor(t, "both actions to finish", func() bool {
		return len(fx.named(t, a, "prefect.automation.action.executed"))+len(fx.named(t, a, "prefect.automation.action.failed")) == 2
	})
	if got := flaky.received(); len(got) != 3 || got[2] != `{"resource": "thing.1"}` {
		t.Fatalf("flaky receiver got %q, want 3 attempts of the rendered payload", got)
	}
	if got := broken.received(); len(got) != 3 {
		t.Fatalf("broken receiver got %d attempts, want 3", len(got))
	}
	failedEvs := fx.named(t, a, "prefect.automation.action.failed")
	if len(failedEvs) != 1 {
		t.Fatalf("%d failed events, want 1", len(failedEvs))
	}
	var payload map[string]any
	_ = json.Unmarshal(failedEvs[0].Payload, &payload)
	if reason, _ := payload["reason"].(string); !strings.Contains(reason, "answered 500") || !strings.Contains(reason, "after 3 attempts") {
		t.Fatalf("failure reason %q", payload["reason"])
	}
	if payload["action_index"] != float64(1) {
		t.Fatalf("failed event names action %v, want 1", payload["action_index"])
	}
}

func TestMissingTargetFailsAtOnceAndTheEngineGoesOn(t *testing.T) {
	fx := newFixture(t)
	s := fx.service(t, true)
	gone := model.NewID()
	a := fx.create(t, s, `{"name":"gone","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[
		{"type":"pause-deployment","source":"selected","deployment_id":"`+gone.String()+`"},{"type":"do-nothing"}]}`)
	fx.emit(t, nowEvent("go", "x"))
	waitFor(t, "the outcomes", func() bool {
		return len(fx.named(t, a, "prefect.automation.action.failed")) == 1 && len(fx.named(t, a, "prefect.automation.action.executed")) == 1
	})
	var payload map[string]any
	_ = json.Unmarshal(fx.named(t, a, "prefect.automation.action.failed")[0].Payload, &payload)
	if payload["reason"] != "Deployment "+gone.String()+" not found" {
		t.Fatalf("reason %q", payload["reason"])
	}
}

func TestHangingReceiverDoesNotBlockOtherAutomations(t *testing.T) {
	fx := newFixture(t)
	slow := newReceiver(t)
	slow.hang = time.Minute
	fast := newReceiver(t)
	slowID, fastID := model.NewID(), model.NewID()
	blocks := staticBlocks{
		slowID: {ID: slowID, Name: "slow", TypeSlug: "webhook", Data: map[string]any{"url": slow.srv.URL}},
		fastID: {ID: fastID, Name: "fast", TypeSlug: "webhook", Data: map[string]any{"url": fast.srv.URL}},
	}
	s := fx.service(t, true, func(c *Config) { c.Blocks = blocks; c.ActionTimeout = 30 * time.Second; c.MaxConcurrentActions = 4 })
	for i := 0; i < 3; i++ {
		fx.create(t, s, fmt.Sprintf(`{"name":"slow %d","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[{"type":"call-webhook","block_document_id":"%s"}]}`, i, slowID))
	}
	fast1 := fx.create(t, s, `{"name":"fast","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[{"type":"call-webhook","block_document_id":"`+fastID.String()+`"}]}`)
	start := time.Now()
	fx.emit(t, nowEvent("go", "x"))
	waitFor(t, "the fast receiver", func() bool { return len(fx.named(t, fast1, "prefect.automation.action.executed")) == 1 })
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the fast action waited %s behind hanging ones", d)
	}
}

// smtpServer is a minimal real SMTP server (RFC 5321 commands) recording
// the messages it accepts.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { fmt.Fprintf(c, "%s\r\n", l) }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.TrimSpace(line[8:]))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, msg.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

func TestNotificationsReachSlackStyleWebhookAndSMTP(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	slack := newReceiver(t)
	mail := newSMTPServer(t)
	_, port, _ := net.SplitHostPort(mail.ln.Addr().String())
	slackID, mailID := model.NewID(), model.NewID()
	blocks := staticBlocks{
		slackID: {ID: slackID, Name: "team", TypeSlug: "slack-webhook", Capabilities: []string{"notify"}, Data: map[string]any{"url": slack.srv.URL}},
		mailID: {ID: mailID, Name: "oncall", TypeSlug: SMTPBlockType, Data: map[string]any{"smtp_server": "127.0.0.1", "smtp_port": port,
			"smtp_type": "INSECURE", "from_email": "baton@example.com", "to_emails": []any{"oncall@example.com"}}},
	}
	s := fx.service(t, true, func(c *Config) { c.Blocks = blocks })
	flow, _, err := fx.st.FlowUpsert(ctx, fx.ws, model.FlowCreate{Name: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	a := fx.create(t, s, `{"name":"failures","trigger":{"type":"event","posture":"Reactive","expect":["prefect.flow-run.Failed"],"match":{"prefect.resource.id":"prefect.flow-run.*"},"within":0},"actions":[
		{"type":"send-notification","block_document_id":"`+slackID.String()+`","subject":"Run {{ flow_run.name }} failed","body":"Flow {{ flow.name }}: {{ flow_run.state.name }} ({{ flow_run.state.message }})"},
		{"type":"send-notification","block_document_id":"`+mailID.String()+`","subject":"Run {{ flow_run.name }} failed","body":"State: {{ flow_run.state.type }}"}]}`)
	run, _, err := fx.rs.CreateFlowRun(ctx, fx.ws, runs.NewFlowRun{Run: model.FlowRun{FlowID: flow.ID, Name: "brave-otter"}, State: model.StateCreate{Type: model.StateRunning}})
	if err != nil {
		t.Fatal(err)
	}
	msg := "boom"
	if _, err := fx.rs.SetFlowRunState(ctx, fx.ws, run.ID, runs.Proposal{State: model.StateCreate{Type: model.StateFailed, Message: &msg}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both notifications", func() bool { return len(fx.named(t, a, "prefect.automation.action.executed")) == 2 })
	got := slack.received()
	if len(got) != 1 {
		t.Fatalf("slack receiver got %d calls", len(got))
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(got[0]), &body); err != nil {
		t.Fatal(err)
	}
	if body["text"] != "Run brave-otter failed\nFlow etl: Failed (boom)" {
		t.Fatalf("slack text %q", body["text"])
	}
	msgs := mail.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Subject: Run brave-otter failed") || !strings.Contains(msgs[0], "State: FAILED") {
		t.Fatalf("mail: %q", msgs)
	}
}

func TestRunDeploymentActionCreatesOneRunPerInvocation(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	flow, _, err := fx.st.FlowUpsert(ctx, fx.ws, model.FlowCreate{Name: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	dep, _, err := fx.st.DeploymentUpsert(ctx, fx.ws, model.Deployment{ID: model.NewID(), FlowID: flow.ID, Name: "nightly", Parameters: json.RawMessage(`{"x":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	s := fx.service(t, true)
	a := fx.create(t, s, `{"name":"run it","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[
		{"type":"run-deployment","source":"selected","deployment_id":"`+dep.ID.String()+`","parameters":{"who":"{{ event.resource.id }}","n":"{{ event.payload.n }}"}}]}`)
	e := nowEvent("go", "customer.42")
	e.Payload = json.RawMessage(`{"n": 7}`)
	fx.emit(t, e)
	waitFor(t, "the run", func() bool {
		if f := fx.named(t, a, "prefect.automation.action.failed"); len(f) > 0 {
			t.Fatalf("action failed: %s", f[0].Payload)
		}
		return len(fx.named(t, a, "prefect.automation.action.executed")) == 1
	})
	list, err := fx.st.FlowRunList(ctx, fx.ws, model.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d runs, want 1", len(list))
	}
	var params map[string]any
	_ = json.Unmarshal(list[0].Parameters, &params)
	if params["who"] != "customer.42" || params["n"] != float64(7) || params["x"] != float64(1) {
		t.Fatalf("parameters %v", params)
	}
	// Running the same invocation again (a retry after a crash) finds the
	// run the first attempt made.
	rows, err := fx.st.AutomationActionsList(ctx, fx.ws, a.ID, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("actions %v %v", rows, err)
	}
	var ta TriggeredAction
	_ = json.Unmarshal(rows[0].Body, &ta)
	if err := s.perform(ctx, fx.ws, &ta, &actionResult{details: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := fx.st.FlowRunList(ctx, fx.ws, model.RunQuery{}); len(list) != 1 {
		t.Fatalf("%d runs after running the invocation again, want 1", len(list))
	}
}

// TestProactiveDeadlineSurvivesARestart starts a proactive window ("the run
// did not start within a minute"), restarts the engine before the deadline,
// and checks the restarted engine fires once at the deadline, and a third
// start does not fire again: the window lives in the store, not in memory.
func TestProactiveDeadlineSurvivesARestart(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	clock := &now
	tweak := func(c *Config) { c.Now = func() time.Time { return *clock } }
	def := `{"name":"late start","trigger":{"type":"event","posture":"Proactive","after":["run.scheduled"],"expect":["run.running"],"threshold":1,"within":60,"for_each":["prefect.resource.id"]},"actions":[{"type":"do-nothing"}]}`
	s1 := fx.service(t, false, tweak)
	a := fx.create(t, s1, def)
	if err := s1.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	scheduled := nowEvent("run.scheduled", "run.1")
	scheduled.Occurred = model.NewTime(now)
	fx.emit(t, scheduled)
	if err := s1.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	half := now.Add(30 * time.Second)
	clock = &half
	s2 := fx.service(t, false, tweak)
	if err := s2.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s2.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 0 {
		t.Fatalf("fired before the deadline: %d actions", n)
	}
	past := now.Add(61 * time.Second)
	clock = &past
	if err := s2.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 1 {
		t.Fatalf("%d actions after the deadline, want 1 (the window was forgotten)", n)
	}
	s3 := fx.service(t, false, tweak)
	if err := s3.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s3.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 1 {
		t.Fatalf("%d actions after another restart, want 1 (double fire)", n)
	}
}
