// Package schedule turns deployment schedules (cron, interval, rrule) into
// the instants at which runs are due. Parsers are Baton's own; wall-clock
// schedules are evaluated in their IANA time zone so that daylight-saving
// transitions behave like a person expects:
//
//   - a wall time that does not exist (the spring-forward gap) fires once,
//     shifted forward by the gap (02:30 becomes 03:30);
//   - a wall time that happens twice (the fall-back overlap) fires once, at
//     its first occurrence;
//   - times never repeat and never go backwards.
//
// Intervals shorter than a day are exact elapsed durations; intervals of a
// day or more keep their wall-clock time of day across DST changes, as
// Prefect's do.
package schedule

import (
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Schedule yields due instants.
type Schedule interface {
	// Next returns the first instant strictly after t, or false when the
	// schedule has no more.
	Next(t time.Time) (time.Time, bool)
}

// FromModel parses a deployment schedule.
func FromModel(s model.Schedule) (Schedule, error) {
	loc, err := location(s.Timezone)
	if err != nil {
		return nil, err
	}
	switch s.Kind() {
	case "interval":
		anchor := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if s.AnchorDate != nil {
			anchor = s.AnchorDate.Time
		}
		return NewInterval(time.Duration(*s.Interval*float64(time.Second)), anchor, loc)
	case "cron":
		dayOr := true
		if s.DayOr != nil {
			dayOr = *s.DayOr
		}
		return ParseCron(*s.Cron, loc, dayOr)
	case "rrule":
		return ParseRRule(*s.RRule, loc)
	}
	return nil, errors.New("schedule: exactly one of interval, cron or rrule is required")
}

// location resolves a time zone name ("" or nil is UTC).
func location(tz *string) (*time.Location, error) {
	if tz == nil || *tz == "" || *tz == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return nil, fmt.Errorf("schedule: unknown time zone %q", *tz)
	}
	return loc, nil
}

// Between returns up to n due instants t with start <= t < end, in order.
func Between(s Schedule, start, end time.Time, n int) []time.Time {
	var out []time.Time
	t := start.Add(-time.Nanosecond)
	for len(out) < n {
		next, ok := s.Next(t)
		if !ok || !next.Before(end) {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

// civil is a wall-clock date and time with no zone, normalised by
// time.Date's arithmetic in UTC (which has no DST).
type civil struct{ t time.Time }

func civilOf(t time.Time, loc *time.Location) civil {
	l := t.In(loc)
	return civil{time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)}
}

func civilDate(y int, m time.Month, d, hh, mm, ss int) civil {
	return civil{time.Date(y, m, d, hh, mm, ss, 0, time.UTC)}
}

// resolve maps a wall-clock time in loc to an instant following the
// package's DST conventions (gap: shifted forward; overlap: first one).
func resolve(c civil, loc *time.Location) time.Time {
	if loc == time.UTC {
		return c.t
	}
	t := time.Date(c.t.Year(), c.t.Month(), c.t.Day(), c.t.Hour(), c.t.Minute(), c.t.Second(), 0, loc)
	_, o1 := t.Add(-24 * time.Hour).Zone()
	_, o2 := t.Add(24 * time.Hour).Zone()
	_, o0 := t.Zone()
	var best time.Time
	found := false
	for _, off := range []int{o0, o1, o2} {
		cand := c.t.Add(-time.Duration(off) * time.Second)
		if civilOf(cand, loc) == c && (!found || cand.Before(best)) {
			best, found = cand, true
		}
	}
	if found {
		return best
	}
	// In the gap: read the wall time with the offset in force before it,
	// which lands the same distance past the transition.
	return c.t.Add(-time.Duration(min(o1, o2)) * time.Second)
}
