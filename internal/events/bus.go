package events

import (
	"sync"
	"sync/atomic"

	"github.com/batonhq/baton/internal/model"
)

// DefaultSubscriptionBuffer is how many events a subscription may fall
// behind before the bus gives up on it. It absorbs bursts (a flow with
// thousands of tasks) without letting one slow websocket hold back the
// write path.
const DefaultSubscriptionBuffer = 4096

// Publisher hands committed events to whoever subscribes. Publish must not
// block. The event ingest and the runs layer publish through it.
type Publisher interface {
	Publish(ws model.ID, evs []model.Event)
}

// Broker is the event bus as its users see it: publishing, and live
// subscriptions for /events/out and other in-process consumers. Bus is the
// in-process one; a multi-replica engine (PostgreSQL LISTEN/NOTIFY) would be
// another.
type Broker interface {
	Publisher
	// Subscribe registers a subscriber for the events of ws that match f.
	// The caller must Close the subscription when done with it.
	Subscribe(ws model.ID, f model.EventFilter) Subscription
	// Subscribers returns how many subscriptions are open.
	Subscribers() int
}

// Subscription is one subscriber's view of a Broker: the events of one
// workspace that match one filter, in publication order.
type Subscription interface {
	// C returns the event channel, closed when the subscription is closed
	// (by Close, or because the subscriber lagged).
	C() <-chan model.Event
	// Lagged reports whether the broker closed the subscription because
	// the subscriber fell too far behind (events were dropped).
	Lagged() bool
	// Close unsubscribes; it is safe to call more than once.
	Close()
}

var _ Broker = (*Bus)(nil)

// Bus fans events out to in-process subscribers (the /events/out sockets,
// automations, UI live views). Publishing never blocks: a subscriber whose
// buffer is full is closed and marked lagged, and must resubscribe (and
// backfill from the store) if it wants to continue.
type Bus struct {
	mu       sync.RWMutex
	subs     map[*subscription]struct{}
	watchers map[chan struct{}]struct{}
	buffer   int
}

// NewBus returns an empty bus whose subscriptions buffer
// DefaultSubscriptionBuffer events.
func NewBus() *Bus { return NewBufferedBus(DefaultSubscriptionBuffer) }

// NewBufferedBus returns an empty bus whose subscriptions may fall buffer
// events behind before they are closed as lagging.
func NewBufferedBus(buffer int) *Bus {
	return &Bus{subs: make(map[*subscription]struct{}), watchers: make(map[chan struct{}]struct{}), buffer: max(buffer, 1)}
}

// Watch returns a channel that receives a signal (coalesced: at most one
// pending) whenever events of any workspace are published, for consumers
// that read the events themselves from the store (the automations engine).
// stop unregisters it.
func (b *Bus) Watch() (c <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	b.watchers[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.watchers, ch)
		b.mu.Unlock()
	}
}

// Wake signals the watchers (not the subscribers): events were committed
// that the watchers read from the store themselves.
func (b *Bus) Wake() {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for w := range b.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// subscription is a Subscription of a Bus.
type subscription struct {
	bus    *Bus
	ws     model.ID
	filter model.EventFilter
	ch     chan model.Event
	mu     sync.Mutex // guards closed and sends on ch
	closed bool
	lagged atomic.Bool
}

// Subscribe implements Broker.
func (b *Bus) Subscribe(ws model.ID, f model.EventFilter) Subscription {
	s := &subscription{bus: b, ws: ws, filter: f, ch: make(chan model.Event, b.buffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers evs (already committed) to every matching subscriber of
// ws without blocking.
func (b *Bus) Publish(ws model.ID, evs []model.Event) {
	if len(evs) == 0 {
		return
	}
	var lagging []*subscription
	b.mu.RLock()
	for w := range b.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	for s := range b.subs {
		if s.ws != ws {
			continue
		}
		if !s.deliver(evs) {
			lagging = append(lagging, s)
		}
	}
	b.mu.RUnlock()
	if len(lagging) > 0 {
		b.mu.Lock()
		for _, s := range lagging {
			delete(b.subs, s)
		}
		b.mu.Unlock()
	}
}

// deliver sends the matching events; it returns false (after closing the
// channel and marking the subscription lagged) when the buffer overflowed.
func (s *subscription) deliver(evs []model.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true
	}
	for i := range evs {
		if !Matches(&s.filter, &evs[i]) {
			continue
		}
		select {
		case s.ch <- evs[i]:
		default:
			s.lagged.Store(true)
			s.closed = true
			close(s.ch)
			return false
		}
	}
	return true
}

// C returns the event channel. It is closed when the subscription is closed,
// either by Close or because the subscriber lagged.
func (s *subscription) C() <-chan model.Event { return s.ch }

// Lagged reports whether the bus closed the subscription because the
// subscriber fell too far behind (events were dropped).
func (s *subscription) Lagged() bool { return s.lagged.Load() }

// Close unsubscribes and closes the channel. It is safe to call more than
// once and concurrently with Publish.
func (s *subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
}

// Listening reports whether anyone subscribes or watches (a relay of
// events from elsewhere can skip reading them when nobody does).
func (b *Bus) Listening() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs) > 0 || len(b.watchers) > 0
}

// Subscribers returns how many subscriptions are open (for metrics and
// tests).
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}
