package api

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// RateLimit is a token bucket: PerSecond requests a second on average, up
// to Burst at once. The zero value is no limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

func (r RateLimit) enabled() bool { return r.PerSecond > 0 }

// bucket is one caller's tokens.
type bucket struct {
	tokens float64
	last   time.Time
}

// rateLimiter keeps a bucket per key (a workspace, an API key). Buckets
// that have refilled are dropped when the map grows, so its size is bounded
// by the callers active within a refill time.
type rateLimiter struct {
	limit   RateLimit
	scope   string
	mu      sync.Mutex
	buckets map[model.ID]*bucket
	refused atomic.Uint64
}

// maxBuckets is when a limiter sweeps out full buckets.
const maxBuckets = 10000

func newRateLimiter(l RateLimit, scope string) *rateLimiter {
	if !l.enabled() {
		return nil
	}
	if l.Burst <= 0 {
		l.Burst = int(math.Ceil(l.PerSecond))
	}
	return &rateLimiter{limit: l, scope: scope, buckets: map[model.ID]*bucket{}}
}

// take spends a token of key's bucket, or returns how long until one is
// there.
func (rl *rateLimiter) take(key model.ID, now time.Time) (ok bool, wait time.Duration) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	burst := float64(rl.limit.Burst)
	b := rl.buckets[key]
	if b == nil {
		if len(rl.buckets) >= maxBuckets {
			rl.sweep(now)
		}
		b = &bucket{tokens: burst, last: now}
		rl.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rl.limit.PerSecond)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	rl.refused.Add(1)
	return false, time.Duration((1 - b.tokens) / rl.limit.PerSecond * float64(time.Second))
}

// sweep drops the buckets that are full again (their callers went quiet).
func (rl *rateLimiter) sweep(now time.Time) {
	full := time.Duration(float64(rl.limit.Burst) / rl.limit.PerSecond * float64(time.Second))
	for k, b := range rl.buckets {
		if now.Sub(b.last) >= full {
			delete(rl.buckets, k)
		}
	}
}

// check answers 429 with Retry-After when key is over its rate.
func (rl *rateLimiter) check(key model.ID, now time.Time) *Error {
	if rl == nil {
		return nil
	}
	ok, wait := rl.take(key, now)
	if ok {
		return nil
	}
	return &Error{Status: http.StatusTooManyRequests, RetryAfter: max(wait, time.Second),
		Detail: fmt.Sprintf("too many requests for this %s (limit %g a second, bursts of %d); retry after the Retry-After header's seconds",
			rl.scope, rl.limit.PerSecond, rl.limit.Burst)}
}

func (rl *rateLimiter) refusedCount() uint64 {
	if rl == nil {
		return 0
	}
	return rl.refused.Load()
}
