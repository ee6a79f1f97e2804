package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron expression (minute hour day-of-month
// month day-of-week) evaluated in a time zone.
type Cron struct {
	minute, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar              bool
	dayOr                         bool
	loc                           *time.Location
}

var cronMacros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

// ParseCron parses expr. Fields accept *, ?, numbers, names (JAN-DEC,
// SUN-SAT), ranges a-b, steps */n and a-b/n, and comma lists; day-of-week 7
// is Sunday. The @yearly, @monthly, @weekly, @daily, @midnight and @hourly
// macros are accepted. When both day fields are restricted, a day matches
// if either does (dayOr) or only if both do.
func ParseCron(expr string, loc *time.Location, dayOr bool) (*Cron, error) {
	if loc == nil {
		loc = time.UTC
	}
	src := strings.TrimSpace(expr)
	if m, ok := cronMacros[strings.ToLower(src)]; ok {
		src = m
	}
	f := strings.Fields(src)
	if len(f) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(f))
	}
	c := &Cron{dayOr: dayOr, loc: loc}
	var err error
	if c.minute, _, err = cronField(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("cron %q: minute: %w", expr, err)
	}
	if c.hour, _, err = cronField(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("cron %q: hour: %w", expr, err)
	}
	if c.dom, c.domStar, err = cronField(f[2], 1, 31, nil); err != nil {
		return nil, fmt.Errorf("cron %q: day of month: %w", expr, err)
	}
	if c.month, _, err = cronField(f[3], 1, 12, monthNames); err != nil {
		return nil, fmt.Errorf("cron %q: month: %w", expr, err)
	}
	if c.dow, c.dowStar, err = cronField(f[4], 0, 7, dayNames); err != nil {
		return nil, fmt.Errorf("cron %q: day of week: %w", expr, err)
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1
		c.dow &^= 1 << 7
	}
	if !c.domMayMatch() {
		return nil, fmt.Errorf("cron %q: day of month never occurs in the given months", expr)
	}
	return c, nil
}

// domMayMatch rejects expressions like "0 0 31 2 *" that can never fire
// (when the day-of-week field cannot rescue them).
func (c *Cron) domMayMatch() bool {
	if c.domStar || (!c.dowStar && c.dayOr) {
		return true
	}
	maxDays := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if c.month&(1<<m) == 0 {
			continue
		}
		for d := 1; d <= maxDays[m]; d++ {
			if c.dom&(1<<d) != 0 {
				return true
			}
		}
	}
	return false
}

// cronField parses one field into a bit set; star reports an unrestricted
// field (* or ?).
func cronField(s string, lo, hi int, names map[string]int) (set uint64, star bool, err error) {
	if s == "*" || s == "?" {
		star = true
	}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			return 0, false, fmt.Errorf("empty list element in %q", s)
		}
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 || n > hi-lo+1 {
				return 0, false, fmt.Errorf("bad step %q", stepStr)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*" || rng == "?":
		default:
			x, y, isRange := strings.Cut(rng, "-")
			if a, err = cronValue(x, lo, hi, names); err != nil {
				return 0, false, err
			}
			b = a
			if isRange {
				if b, err = cronValue(y, lo, hi, names); err != nil {
					return 0, false, err
				}
				if b < a {
					return 0, false, fmt.Errorf("range %q runs backwards", rng)
				}
			} else if hasStep {
				b = hi
			}
		}
		for v := a; v <= b; v += step {
			set |= 1 << v
		}
	}
	return set, star, nil
}

func cronValue(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("value %q is not in %d-%d", s, lo, hi)
	}
	return v, nil
}

func (c *Cron) dayMatches(t time.Time) bool {
	domOK := c.dom&(1<<t.Day()) != 0
	dowOK := c.dow&(1<<int(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dowOK
	case c.dowStar:
		return domOK
	case c.dayOr:
		return domOK || dowOK
	default:
		return domOK && dowOK
	}
}

// maxCronYears bounds the search for the next match (a Feb 29 on a given
// weekday can be 28 years away).
const maxCronYears = 30

// Next implements Schedule.
func (c *Cron) Next(after time.Time) (time.Time, bool) {
	start := civilOf(after, c.loc)
	cur := civil{start.t.Truncate(time.Minute).Add(time.Minute)}
	limit := start.t.AddDate(maxCronYears, 0, 0)
	for cur.t.Before(limit) {
		t := cur.t
		if c.month&(1<<int(t.Month())) == 0 {
			cur = civilDate(t.Year(), t.Month()+1, 1, 0, 0, 0)
			continue
		}
		if !c.dayMatches(t) {
			cur = civilDate(t.Year(), t.Month(), t.Day()+1, 0, 0, 0)
			continue
		}
		if c.hour&(1<<t.Hour()) == 0 {
			cur = civilDate(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0)
			continue
		}
		if c.minute&(1<<t.Minute()) == 0 {
			// Jump straight to the next allowed minute of this hour.
			rest := c.minute >> (t.Minute() + 1) << (t.Minute() + 1)
			if rest == 0 {
				cur = civilDate(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0)
			} else {
				cur = civilDate(t.Year(), t.Month(), t.Day(), t.Hour(), bits.TrailingZeros64(rest), 0)
			}
			continue
		}
		inst := resolve(cur, c.loc)
		if inst.After(after) {
			return inst, true
		}
		// The wall time maps to an instant already passed (the second
		// pass through a fall-back hour, or a gap shifted onto a fired
		// time): keep looking.
		cur = civil{t.Add(time.Minute)}
	}
	return time.Time{}, false
}
