package replica

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/lifecycle"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/pgtest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// database returns the URL of a fresh, migrated database.
func database(t *testing.T) string {
	t.Helper()
	c, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateDatabase(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func open(t *testing.T, url, origin string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url, MaxConns: 4, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// counter is a service that counts how many replicas run it at once.
type counter struct {
	name    string
	running *atomic.Int64
	max     *atomic.Int64
	base    lifecycle.Base
}

func (c *counter) Name() string { return c.name }
func (c *counter) Start(ctx context.Context) error {
	c.base.Start(ctx, func(ctx context.Context, stopping <-chan struct{}) {
		n := c.running.Add(1)
		for {
			m := c.max.Load()
			if n <= m || c.max.CompareAndSwap(m, n) {
				break
			}
		}
		<-stopping
		c.running.Add(-1)
	})
	return nil
}
func (c *counter) Stop(ctx context.Context) error { return c.base.Stop(ctx) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Exactly one of three replicas leads; when the leader's session dies (as
// when its process is killed) another takes over, and at no time do two
// run the services.
func TestElectorOneLeaderAndFailover(t *testing.T) {
	url := database(t)
	var running, maxRunning atomic.Int64
	electors := make([]*Elector, 3)
	for i := range electors {
		st := open(t, url, fmt.Sprint("r", i))
		electors[i] = NewElector(ElectorConfig{Store: st, Interval: 50 * time.Millisecond,
			Services: []lifecycle.Service{&counter{name: "svc", running: &running, max: &maxRunning}}})
		if err := electors[i].Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, e := range electors {
			_ = e.Stop(context.Background())
		}
	})
	leader := func() int {
		n, at := 0, -1
		for i, e := range electors {
			if e.Leader() {
				n++
				at = i
			}
		}
		if n > 1 {
			t.Fatalf("%d leaders at once", n)
		}
		return at
	}
	waitFor(t, "a leader", func() bool { return leader() >= 0 && running.Load() == 1 })
	// Let the followers try many times: still one leader.
	time.Sleep(500 * time.Millisecond)
	first := leader()
	if first < 0 || running.Load() != 1 {
		t.Fatalf("leader %d, %d running", first, running.Load())
	}

	// Kill the leader's session from the database side: the lock is freed
	// as when its process dies. The old leader notices and stops; another
	// one takes over.
	c, _ := pgtest.Shared()
	admin := open(t, c.URL, "admin")
	if _, err := admin.Pool().Exec(context.Background(),
		`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = ($1::bigint & x'ffffffff'::bigint)::oid AND granted`, LeaderLockKey); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new leader", func() bool { l := leader(); return l >= 0 && l != first && running.Load() == 1 })
	if got := maxRunning.Load(); got != 1 {
		t.Fatalf("%d replicas ran the services at once", got)
	}

	// A leader that stops gives the lock up at once.
	second := leader()
	if err := electors[second].Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a third leader", func() bool { l := leader(); return l >= 0 && l != second && running.Load() == 1 })
	if got := maxRunning.Load(); got != 1 {
		t.Fatalf("%d replicas ran the services at once", got)
	}
}

// An event one replica commits reaches the other replica's subscribers
// once, and the committing replica's own subscribers once (no echo).
func TestBrokerRelaysOtherReplicasEvents(t *testing.T) {
	url := database(t)
	stA, stB := open(t, url, "a"), open(t, url, "b")
	a := NewBroker(events.NewBus(), stA, nil, 50*time.Millisecond)
	b := NewBroker(events.NewBus(), stB, nil, time.Hour) // only LISTEN wakes b
	for _, br := range []*Broker{a, b} {
		if err := br.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = br.Stop(context.Background()) })
	}
	subA := a.Subscribe(store.DefaultWorkspaceID, model.EventFilter{})
	subB := b.Subscribe(store.DefaultWorkspaceID, model.EventFilter{})
	defer subA.Close()
	defer subB.Close()
	time.Sleep(300 * time.Millisecond) // the relays found the head

	ctx := context.Background()
	publish := func(st *postgres.Store, br *Broker, name string) model.ID {
		ev := model.Event{ID: model.NewID(), Occurred: model.NewTime(time.Now()), Event: name,
			Resource: map[string]string{"prefect.resource.id": "test.r"}}
		fresh, err := st.EventInsert(ctx, store.DefaultWorkspaceID, []model.Event{ev})
		if err != nil || len(fresh) != 1 {
			t.Fatalf("insert: %v %d", err, len(fresh))
		}
		br.Publish(store.DefaultWorkspaceID, fresh)
		return ev.ID
	}
	recv := func(sub events.Subscription, want model.ID) {
		t.Helper()
		select {
		case ev := <-sub.C():
			if ev.ID != want {
				t.Fatalf("got event %s (%s), want %s", ev.ID, ev.Event, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("event %s not delivered", want)
		}
	}
	id1 := publish(stA, a, "from.a")
	recv(subA, id1)
	recv(subB, id1)
	id2 := publish(stB, b, "from.b")
	recv(subB, id2)
	recv(subA, id2)
	// Nothing more: neither replica echoes its own events.
	time.Sleep(500 * time.Millisecond)
	for _, sub := range []events.Subscription{subA, subB} {
		select {
		case ev := <-sub.C():
			t.Fatalf("unexpected second delivery of %s", ev.Event)
		default:
		}
	}
	if a.Relayed() != 1 || b.Relayed() != 1 {
		t.Fatalf("relayed a=%d b=%d, want 1 and 1", a.Relayed(), b.Relayed())
	}
}

// A replica whose bus has only watchers (the leader's automation engine,
// which reads events from the store itself) is woken by the other
// replicas' events without the relay reading and decoding them.
func TestBrokerWakesWatchersWithoutRelaying(t *testing.T) {
	url := database(t)
	stA, stB := open(t, url, "a"), open(t, url, "b")
	a := NewBroker(events.NewBus(), stA, nil, 50*time.Millisecond)
	b := NewBroker(events.NewBus(), stB, nil, time.Hour) // only LISTEN wakes b
	for _, br := range []*Broker{a, b} {
		if err := br.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = br.Stop(context.Background()) })
	}
	wake, stop := b.Watch()
	defer stop()
	time.Sleep(300 * time.Millisecond) // the relays found the head
	for len(wake) > 0 {
		<-wake
	}
	ev := model.Event{ID: model.NewID(), Occurred: model.NewTime(time.Now()), Event: "from.a",
		Resource: map[string]string{"prefect.resource.id": "test.r"}}
	fresh, err := stA.EventInsert(context.Background(), store.DefaultWorkspaceID, []model.Event{ev})
	if err != nil || len(fresh) != 1 {
		t.Fatalf("insert: %v %d", err, len(fresh))
	}
	a.Publish(store.DefaultWorkspaceID, fresh)
	select {
	case <-wake:
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher was not woken by the other replica's event")
	}
	if n := b.Relayed(); n != 0 {
		t.Fatalf("relayed %d events to a bus without subscribers", n)
	}
}
