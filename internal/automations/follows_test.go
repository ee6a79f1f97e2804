package automations

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// afterThen fires when "second" comes after "first" (within an hour).
const afterThen = `{"name":"first then second","trigger":{"type":"event","posture":"Reactive","after":["first"],"expect":["second"],"within":3600},"actions":[{"type":"do-nothing"}]}`

// TestFollowerStoredFirstWaitsForItsLeader stores an event that follows
// another before that other one: it is held, evaluated once its leader
// was, and the sequence fires; a restart in between keeps it held.
func TestFollowerStoredFirstWaitsForItsLeader(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	s1 := fx.service(t, false)
	a := fx.create(t, s1, afterThen)
	if err := s1.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	leader := nowEvent("first", "thing")
	follower := nowEvent("second", "thing")
	follower.Follows = &leader.ID
	fx.emit(t, follower)
	if err := s1.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 0 {
		t.Fatalf("fired with only the follower: %d actions", n)
	}
	// Restart: the held follower is read back.
	s2 := fx.service(t, false)
	if err := s2.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s2.engine.held) != 1 {
		t.Fatalf("%d held events after the restart, want 1", len(s2.engine.held))
	}
	fx.emit(t, leader)
	if err := s2.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countActions(t, fx.st, a.ID); n != 1 {
		t.Fatalf("%d actions once the leader arrived, want 1", n)
	}
	// Released for good: another restart neither holds nor fires it again.
	s3 := fx.service(t, false)
	if err := s3.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s3.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s3.engine.held) != 0 || countActions(t, fx.st, a.ID) != 1 {
		t.Fatalf("after a second restart: %d held, %d actions", len(s3.engine.held), countActions(t, fx.st, a.ID))
	}
}

// TestFollowerInOrderIsNotHeld: the usual case, the leader stored first.
func TestFollowerInOrderIsNotHeld(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	s := fx.service(t, false)
	a := fx.create(t, s, afterThen)
	if err := s.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	leader := nowEvent("first", "thing")
	follower := nowEvent("second", "thing")
	follower.Follows = &leader.ID
	fx.emit(t, leader)
	fx.emit(t, follower)
	if err := s.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.engine.held) != 0 || countActions(t, fx.st, a.ID) != 1 {
		t.Fatalf("%d held, %d actions; want 0 and 1", len(s.engine.held), countActions(t, fx.st, a.ID))
	}
}

// TestLostLeaderDoesNotHoldForever: a follower whose leader never comes is
// evaluated once it is older than the lookback (Prefect's lost followers).
func TestLostLeaderDoesNotHoldForever(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	clock := &now
	s := fx.service(t, false, func(c *Config) { c.Now = func() time.Time { return *clock } })
	a := fx.create(t, s, `{"name":"second","trigger":{"type":"event","posture":"Reactive","expect":["second"],"within":0},"actions":[{"type":"do-nothing"}]}`)
	if err := s.engine.reset(ctx); err != nil {
		t.Fatal(err)
	}
	missing := model.NewID()
	follower := nowEvent("second", "thing")
	follower.Follows = &missing
	fx.emit(t, follower)
	if err := s.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.engine.held) != 1 || countActions(t, fx.st, a.ID) != 0 {
		t.Fatalf("%d held, %d actions; want the follower held", len(s.engine.held), countActions(t, fx.st, a.ID))
	}
	later := now.Add(precedingEventLookback + time.Second)
	clock = &later
	if err := s.engine.tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.engine.held) != 0 || countActions(t, fx.st, a.ID) != 1 {
		t.Fatalf("after the lookback: %d held, %d actions; want 0 and 1", len(s.engine.held), countActions(t, fx.st, a.ID))
	}
}
