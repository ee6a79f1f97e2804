package tenancy

import (
	"sync"
	"time"
)

// Throttle limits sign-in attempts: after Free failures for the same key
// (an e-mail, or a client address) within Window, further attempts are
// refused for a lockout that doubles with each additional failure, up to
// Window. A success clears the key. State is in memory: one server process
// guards itself, which is what a single-binary deployment needs; behind a
// load balancer each replica throttles on its own.
type Throttle struct {
	// Free is how many failures are allowed before locking (default 5).
	Free int
	// Window is how long failures are remembered and the longest lockout
	// (default 15 minutes).
	Window time.Duration

	mu   sync.Mutex
	keys map[string]*attempts
}

type attempts struct {
	failures int
	last     time.Time
	until    time.Time
}

func (t *Throttle) defaults() {
	if t.Free <= 0 {
		t.Free = 5
	}
	if t.Window <= 0 {
		t.Window = 15 * time.Minute
	}
	if t.keys == nil {
		t.keys = map[string]*attempts{}
	}
}

// Wait returns how long key must wait before its next attempt (0: go on).
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.defaults()
	a, ok := t.keys[key]
	if !ok {
		return 0
	}
	if now.Sub(a.last) > t.Window {
		delete(t.keys, key)
		return 0
	}
	if now.Before(a.until) {
		return a.until.Sub(now)
	}
	return 0
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.defaults()
	if len(t.keys) > 100_000 {
		t.sweep(now)
	}
	a, ok := t.keys[key]
	if !ok || now.Sub(a.last) > t.Window {
		a = &attempts{}
		t.keys[key] = a
	}
	a.failures++
	a.last = now
	if over := a.failures - t.Free; over >= 0 {
		lock := min(time.Minute<<min(over, 10), t.Window)
		a.until = now.Add(lock)
	}
}

// Succeed clears key after a successful attempt.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// sweep drops forgotten keys so that a flood of distinct keys cannot grow
// the map without bound.
func (t *Throttle) sweep(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.last) > t.Window {
			delete(t.keys, k)
		}
	}
}
