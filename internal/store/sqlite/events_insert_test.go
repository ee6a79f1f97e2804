package sqlite

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestEventInsertChunksDedupe covers the multi-row insert across chunk
// boundaries: ids stored before and ids repeated inside one call are not
// fresh, get no resource rows of their own (a resent id with another
// resource adds nothing), and the fresh ones keep increasing positions.
func TestEventInsertChunksDedupe(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	ws := store.DefaultWorkspaceID
	now := model.NewTime(time.Now())
	mk := func(i int) model.Event {
		return model.Event{ID: model.NewID(), Occurred: now, Event: "test.e",
			Resource: map[string]string{"prefect.resource.id": "res." + strconv.Itoa(i)},
			Related:  []map[string]string{{"prefect.resource.id": "rel." + strconv.Itoa(i), "prefect.resource.role": "r"}}}
	}
	var old []model.Event
	for i := 0; i < 70; i++ {
		old = append(old, mk(i))
	}
	fresh, err := s.EventInsert(ctx, ws, old)
	if err != nil || len(fresh) != 70 {
		t.Fatalf("first insert: %d fresh, %v", len(fresh), err)
	}
	// 150 events: every third one already stored (resent with another
	// resource), and the last ten repeating earlier new ones of this call.
	var batch, want []model.Event
	for i := 0; i < 140; i++ {
		if i%3 == 0 && i/3 < len(old) {
			again := old[i/3]
			again.Resource = map[string]string{"prefect.resource.id": "other." + strconv.Itoa(i)}
			batch = append(batch, again)
			continue
		}
		e := mk(1000 + i)
		batch = append(batch, e)
		want = append(want, e)
	}
	for i := 0; i < 10; i++ {
		again := want[i]
		again.Resource = map[string]string{"prefect.resource.id": "twice." + strconv.Itoa(i)}
		batch = append(batch, again)
	}
	fresh, err = s.EventInsert(ctx, ws, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != len(want) {
		t.Fatalf("fresh = %d, want %d", len(fresh), len(want))
	}
	for i := range want {
		if fresh[i].ID != want[i].ID {
			t.Fatalf("fresh[%d] = %s, want %s", i, fresh[i].ID, want[i].ID)
		}
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT count(*) FROM event_resources WHERE resource_id LIKE 'other.%' OR resource_id LIKE 'twice.%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d resource rows from duplicates", n)
	}
	if err := s.rdb.QueryRow(`SELECT count(*) FROM event_resources`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := 2 * (70 + len(want)); n != want {
		t.Fatalf("%d resource rows, want %d", n, want)
	}
	// Positions follow the order of the calls and of the events in them.
	rows, err := s.rdb.Query(`SELECT id FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	order := append(append([]model.Event{}, old...), want...)
	i := 0
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if i >= len(order) || string(id) != string(idv(order[i].ID)) {
			t.Fatalf("event %d in seq order is not the %d-th inserted", i, i)
		}
		i++
	}
	if i != len(order) {
		t.Fatalf("%d events stored, want %d", i, len(order))
	}
}
