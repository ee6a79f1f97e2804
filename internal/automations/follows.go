package automations

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Causal ordering, as Prefect's triggers service does it
// (prefect/server/events/ordering): an event that names the event it
// follows (its `follows` id) is evaluated only after that event has been.
// When it arrives first, it is held back, for up to
// precedingEventLookback after it was received; it is evaluated as soon as
// the event it follows has been, or, when that never comes, once the
// lookback has passed ("lost" followers are evaluated anyway).
//
// The engine reads events in commit order, so "has been evaluated" means
// "is stored at an earlier position". Held events are recorded (by
// position) in the same commit as the rest of a step, so a restart holds
// them still.

// heldEvent is an event waiting for the one it follows.
type heldEvent struct {
	seq int64
	ws  model.ID
	ev  model.Event
}

// mustWait reports whether e must wait for the event it follows, and
// holds it if so.
func (e *engine) mustWait(ctx context.Context, se *store.SequencedEvent, ev *model.Event) (bool, error) {
	if ev.Follows == nil || ev.Follows.IsNil() {
		return false, nil
	}
	seen, err := e.evaluated(ctx, se.Workspace, *ev.Follows, se.Seq)
	if err != nil || seen {
		return false, err
	}
	if e.s.now().Sub(ev.Received.Time) >= precedingEventLookback {
		return false, nil // the event it follows is lost: go ahead
	}
	if e.held == nil {
		e.held = map[int64]*heldEvent{}
	}
	e.held[se.Seq] = &heldEvent{seq: se.Seq, ws: se.Workspace, ev: *ev}
	e.ev.cur.hold = append(e.ev.cur.hold, se.Seq)
	return true, nil
}

// evaluated reports whether the event id of ws has been evaluated before
// position seq: it is stored at an earlier position and not held itself.
func (e *engine) evaluated(ctx context.Context, ws, id model.ID, seq int64) (bool, error) {
	at, err := e.s.st.EventSeq(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if at >= seq {
		return false, nil
	}
	if h := e.held[at]; h != nil && h.ws == ws {
		return false, nil
	}
	return true, nil
}

// releaseFollowers evaluates the held events whose predecessor has now
// been evaluated, or whose wait is over, in position order, until none is
// left to release (a follower may follow a follower).
func (e *engine) releaseFollowers(ctx context.Context) error {
	for len(e.held) > 0 {
		seqs := make([]int64, 0, len(e.held))
		for seq := range e.held {
			seqs = append(seqs, seq)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		released := false
		now := e.s.now()
		for _, seq := range seqs {
			h := e.held[seq]
			seen, err := e.evaluated(ctx, h.ws, *h.ev.Follows, e.position+1)
			if err != nil {
				return err
			}
			if !seen && now.Sub(h.ev.Received.Time) < precedingEventLookback {
				continue
			}
			delete(e.held, seq)
			e.ev.cur.release = append(e.ev.cur.release, seq)
			e.ev.reactive(h.ws, &h.ev)
			released = true
		}
		if !released {
			return nil
		}
	}
	return nil
}

// loadHeld reads the held events back after a restart.
func (e *engine) loadHeld(ctx context.Context, seqs []int64) error {
	e.held = map[int64]*heldEvent{}
	for _, seq := range seqs {
		batch, err := e.s.st.EventsAfter(ctx, seq-1, 1)
		if err != nil {
			return err
		}
		var ev model.Event
		if len(batch) == 0 || batch[0].Seq != seq || json.Unmarshal(batch[0].Body, &ev) != nil || ev.Follows == nil {
			// Gone (retention) or unreadable: nothing left to evaluate.
			e.s.log.Warn("automations: a held event is gone", slog.Int64("seq", seq))
			e.ev.cur.release = append(e.ev.cur.release, seq)
			continue
		}
		e.held[seq] = &heldEvent{seq: seq, ws: batch[0].Workspace, ev: ev}
	}
	return nil
}
