package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testConcurrencyHolders covers lease-less slots and the per-limit lease
// views the tag-limit (v1) API is built on.
func testConcurrencyHolders(t *testing.T, s store.Store) {
	ctx := context.Background()
	l, err := s.ConcurrencyLimitCreate(ctx, ws, model.ConcurrencyLimitCreate{Name: "tag:x", Limit: 2})
	must(t, err)
	// Lease-less slots count against the limit and come back on decrement.
	got, err := s.ConcurrencyIncrement(ctx, ws, []string{"tag:x"}, 2)
	must(t, err)
	if len(got) != 1 || got[0].ID != l.ID {
		t.Fatalf("increment = %+v", got)
	}
	_, err = s.ConcurrencyIncrement(ctx, ws, []string{"tag:x"}, 1)
	wantErr(t, err, store.ErrSlotsBusy)
	leases, err := s.ConcurrencyLeasesOf(ctx, ws, l.ID)
	must(t, err)
	if len(leases) != 0 {
		t.Fatalf("lease-less increment left leases: %+v", leases)
	}
	_, err = s.ConcurrencyDecrement(ctx, ws, []string{"tag:x", "missing"}, 2)
	must(t, err)
	cur, err := s.ConcurrencyLimitGet(ctx, ws, "tag:x")
	must(t, err)
	if cur.ActiveSlots != 0 {
		t.Fatalf("active slots after decrement = %d", cur.ActiveSlots)
	}
	// Two holders; releasing one holder's leases keeps the other's.
	a, b := model.LeaseHolder{Type: "task_run", ID: model.NewID()}, model.LeaseHolder{Type: "task_run", ID: model.NewID()}
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"tag:x"}, 1, time.Minute, &a)
	must(t, err)
	_, _, err = s.ConcurrencyAcquire(ctx, ws, []string{"tag:x"}, 1, time.Minute, &b)
	must(t, err)
	leases, err = s.ConcurrencyLeasesOf(ctx, ws, l.ID)
	must(t, err)
	if len(leases) != 2 || leases[0].Holder == nil || leases[0].Holder.ID != a.ID {
		t.Fatalf("leases of limit = %+v", leases)
	}
	n, err := s.ConcurrencyReleaseWhere(ctx, ws, l.ID, &a)
	must(t, err)
	if n != 1 {
		t.Fatalf("released %d leases of holder a, want 1", n)
	}
	n, err = s.ConcurrencyReleaseWhere(ctx, ws, l.ID, nil)
	must(t, err)
	cur, _ = s.ConcurrencyLimitGet(ctx, ws, "tag:x")
	if n != 1 || cur.ActiveSlots != 0 {
		t.Fatalf("release all: n=%d active=%d", n, cur.ActiveSlots)
	}
	// Another workspace sees none of it.
	other, err := s.ConcurrencyLeasesOf(ctx, model.NewID(), l.ID)
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("foreign workspace sees leases: %+v", other)
	}
}
