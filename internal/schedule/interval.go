package schedule

import (
	"errors"
	"math/big"
	"time"
)

// Interval fires every Every, on a grid through Anchor that extends both
// before and after it. An interval of at least a day advances in the time
// zone's calendar (whole days, then the remainder), so a daily 09:00 stays
// at 09:00 local across DST changes; shorter ones are exact durations.
type Interval struct {
	every  time.Duration
	anchor time.Time
	loc    *time.Location
	days   int           // whole calendar days per step (calendar mode)
	rest   time.Duration // remainder per step (calendar mode)
}

// NewInterval validates and builds an interval schedule.
func NewInterval(every time.Duration, anchor time.Time, loc *time.Location) (*Interval, error) {
	if every < time.Second {
		return nil, errors.New("interval: must be at least one second")
	}
	if loc == nil {
		loc = time.UTC
	}
	iv := &Interval{every: every, anchor: anchor, loc: loc}
	if every >= 24*time.Hour {
		iv.days = int(every / (24 * time.Hour))
		iv.rest = every % (24 * time.Hour)
	}
	return iv, nil
}

// at returns the k-th grid point (k may be negative). The products k×step
// are taken in big integers: an anchor centuries away from now makes them
// overflow a time.Duration (292 years), which once sent Next into a loop of
// billions of steps.
func (iv *Interval) at(k int64) time.Time {
	if iv.days == 0 {
		secs, nanos := mulDuration(k, iv.every)
		return time.Unix(iv.anchor.Unix()+secs, int64(iv.anchor.Nanosecond())+nanos)
	}
	// k×rest as whole days plus a remainder under a day, so the civil
	// arithmetic never multiplies a Duration.
	secs, nanos := mulDuration(k, iv.rest)
	extraDays, secs := floorDiv(secs, 86400)
	c := civilOf(iv.anchor, iv.loc)
	c.t = c.t.AddDate(0, 0, int(k)*iv.days+int(extraDays)).Add(time.Duration(secs)*time.Second + time.Duration(nanos))
	return resolve(c, iv.loc)
}

// mulDuration returns k×d as whole seconds and the nanoseconds left over
// (0 <= nanos < 1e9), without overflowing.
func mulDuration(k int64, d time.Duration) (secs, nanos int64) {
	p := new(big.Int).Mul(big.NewInt(k), big.NewInt(int64(d)))
	q, r := new(big.Int).DivMod(p, big.NewInt(int64(time.Second)), new(big.Int))
	return q.Int64(), r.Int64()
}

// floorDiv is a/b rounded toward minus infinity, and the remainder.
func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// Next implements Schedule.
func (iv *Interval) Next(after time.Time) (time.Time, bool) {
	// Estimate the index exactly (in big integers: after and the anchor may
	// be further apart than a Duration holds), then correct for DST drift
	// of calendar steps (at most a step or two either way).
	diff := new(big.Int).Mul(big.NewInt(after.Unix()-iv.anchor.Unix()), big.NewInt(int64(time.Second)))
	diff.Add(diff, big.NewInt(int64(after.Nanosecond()-iv.anchor.Nanosecond())))
	q := new(big.Int).Div(diff, big.NewInt(int64(iv.every))) // Euclidean: floor for a positive divisor
	if !q.IsInt64() {
		return time.Time{}, false
	}
	k := q.Int64()
	for iv.at(k).After(after) {
		k--
	}
	for !iv.at(k).After(after) {
		k++
	}
	return iv.at(k), true
}
