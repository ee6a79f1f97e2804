package schedule

import (
	"errors"
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

// at returns the k-th grid point (k may be negative).
func (iv *Interval) at(k int64) time.Time {
	if iv.days == 0 {
		return iv.anchor.Add(time.Duration(k) * iv.every)
	}
	c := civilOf(iv.anchor, iv.loc)
	c.t = c.t.AddDate(0, 0, int(k)*iv.days).Add(time.Duration(k) * iv.rest)
	return resolve(c, iv.loc)
}

// Next implements Schedule.
func (iv *Interval) Next(after time.Time) (time.Time, bool) {
	// Estimate the index with exact arithmetic, then correct for DST drift
	// of calendar steps (at most one step either way per hour of offset).
	k := int64(after.Sub(iv.anchor) / iv.every)
	if after.Before(iv.anchor) {
		k--
	}
	for iv.at(k).After(after) {
		k--
	}
	for !iv.at(k).After(after) {
		k++
	}
	return iv.at(k), true
}
