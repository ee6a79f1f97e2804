package automations

import (
	"context"
	"sync"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// slowRecordStore holds the first action outcome record until released, as
// a writer busy with big groups of events would.
type slowRecordStore struct {
	store.Store
	once    sync.Once
	holding chan struct{}
	release chan struct{}
}

func (s *slowRecordStore) AutomationActionSave(ctx context.Context, a store.AutomationAction, evs []model.Event) error {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.holding)
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.AutomationActionSave(ctx, a, evs)
}

// TestSlowRecordDoesNotHoldTheActionSlot: with one action slot, a second
// firing's action runs while the first action's outcome is still being
// recorded (it waited for that record before: the slot was held until the
// store had committed it).
func TestSlowRecordDoesNotHoldTheActionSlot(t *testing.T) {
	fx := newFixture(t)
	slow := &slowRecordStore{Store: fx.st, holding: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(slow.release) }) }
	t.Cleanup(unblock)
	fx.st = slow
	hook := newReceiver(t)
	hookID := model.NewID()
	blocks := staticBlocks{hookID: {ID: hookID, Name: "hook", TypeSlug: "webhook", Data: map[string]any{"url": hook.srv.URL}}}
	s := fx.service(t, true, func(c *Config) { c.Blocks = blocks; c.MaxConcurrentActions = 1 })
	a := fx.create(t, s, `{"name":"hook","trigger":{"type":"event","posture":"Reactive","expect":["go"],"within":0},"actions":[{"type":"call-webhook","block_document_id":"`+hookID.String()+`","payload":"{{ event.resource.id }}"}]}`)
	fx.emit(t, nowEvent("go", "thing.1"))
	waitFor(t, "the first outcome record to start", func() bool {
		select {
		case <-slow.holding:
			return true
		default:
			return false
		}
	})
	fx.emit(t, nowEvent("go", "thing.2"))
	waitFor(t, "the second action to run while the first is being recorded", func() bool { return len(hook.received()) == 2 })
	unblock()
	waitFor(t, "both outcomes recorded", func() bool { return len(fx.named(t, a, "prefect.automation.action.executed")) == 2 })
	if got := hook.received(); len(got) != 2 {
		t.Fatalf("receiver got %q, want each action once", got)
	}
}
