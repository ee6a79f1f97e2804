package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RRule is a parsed RFC 5545 recurrence rule, the subset deployments use:
// FREQ (YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY), INTERVAL, COUNT,
// UNTIL, BYMONTH, BYMONTHDAY (negative counts from the month's end), BYDAY
// (with an ordinal such as 1MO or -1FR for MONTHLY and YEARLY), BYHOUR,
// BYMINUTE, BYSECOND and WKST, with an optional DTSTART line (TZID
// supported). Without DTSTART the rule starts at 2000-01-01 00:00 in the
// schedule's time zone. Invalid dates (Feb 30) are skipped, as the RFC says.
type RRule struct {
	freq     string
	interval int
	count    int
	until    *time.Time
	dtstart  civil
	loc      *time.Location
	byMonth  []int
	byMDay   []int
	byDay    []weekdayNum
	byHour   []int
	byMinute []int
	bySecond []int
	wkst     time.Weekday
}

type weekdayNum struct {
	n  int // 0: every such weekday of the period
	wd time.Weekday
}

var rruleDays = map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday, "TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}

// ParseRRule parses text ("RRULE:..." or bare "FREQ=...", optionally after a
// "DTSTART[;TZID=zone]:YYYYMMDDTHHMMSS[Z]" line) in loc.
func ParseRRule(text string, loc *time.Location) (*RRule, error) {
	if loc == nil {
		loc = time.UTC
	}
	r := &RRule{interval: 1, loc: loc, wkst: time.Monday, dtstart: civilDate(2000, 1, 1, 0, 0, 0)}
	var rule string
	for _, line := range strings.FieldsFunc(text, func(c rune) bool { return c == '\n' || c == '\r' }) {
		line = strings.TrimSpace(line)
		upper := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(upper, "DTSTART"):
			if err := r.parseDTStart(line); err != nil {
				return nil, err
			}
		case strings.HasPrefix(upper, "RRULE:"):
			rule = line[len("RRULE:"):]
		case strings.HasPrefix(upper, "FREQ=") || strings.Contains(upper, ";FREQ="):
			rule = line
		case line == "":
		default:
			return nil, fmt.Errorf("rrule: unsupported line %q", line)
		}
	}
	if rule == "" {
		return nil, fmt.Errorf("rrule %q: no RRULE", text)
	}
	for _, part := range strings.Split(rule, ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("rrule: %q is not KEY=VALUE", part)
		}
		if err := r.set(strings.ToUpper(k), strings.ToUpper(v)); err != nil {
			return nil, fmt.Errorf("rrule: %s: %w", k, err)
		}
	}
	if r.freq == "" {
		return nil, fmt.Errorf("rrule %q: FREQ is required", text)
	}
	if r.count > 0 && r.until != nil {
		return nil, fmt.Errorf("rrule %q: COUNT and UNTIL cannot both be set", text)
	}
	return r, nil
}

func (r *RRule) parseDTStart(line string) error {
	head, val, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("rrule: bad DTSTART %q", line)
	}
	for _, p := range strings.Split(head, ";")[1:] {
		if k, v, _ := strings.Cut(p, "="); strings.EqualFold(k, "TZID") {
			loc, err := time.LoadLocation(v)
			if err != nil {
				return fmt.Errorf("rrule: unknown TZID %q", v)
			}
			r.loc = loc
		}
	}
	t, utc, err := parseRRuleTime(val)
	if err != nil {
		return fmt.Errorf("rrule: DTSTART: %w", err)
	}
	if utc {
		r.dtstart = civilOf(t, r.loc)
	} else {
		r.dtstart = civil{t}
	}
	return nil
}

// parseRRuleTime reads YYYYMMDD[THHMMSS][Z]; utc reports a trailing Z.
func parseRRuleTime(s string) (time.Time, bool, error) {
	utc := strings.HasSuffix(s, "Z")
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range []string{"20060102T150405", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, utc, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not YYYYMMDD[THHMMSS][Z]", s)
}

func intList(v string, lo, hi int, allowNeg bool) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if allowNeg && n < 0 && -n >= lo && -n <= hi {
			out = append(out, n)
			continue
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d is not in %d-%d", n, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

func (r *RRule) set(k, v string) error {
	var err error
	switch k {
	case "FREQ":
		switch v {
		case "YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY":
			r.freq = v
		default:
			return fmt.Errorf("unsupported frequency %q", v)
		}
	case "INTERVAL":
		if r.interval, err = strconv.Atoi(v); err != nil || r.interval < 1 || r.interval > 100000 {
			return fmt.Errorf("%q is not a positive interval", v)
		}
	case "COUNT":
		if r.count, err = strconv.Atoi(v); err != nil || r.count < 1 {
			return fmt.Errorf("%q is not a positive count", v)
		}
	case "UNTIL":
		t, utc, err := parseRRuleTime(v)
		if err != nil {
			return err
		}
		if !utc {
			t = resolve(civil{t}, r.loc)
		}
		r.until = &t
	case "BYMONTH":
		r.byMonth, err = intList(v, 1, 12, false)
	case "BYMONTHDAY":
		r.byMDay, err = intList(v, 1, 31, true)
		if slices.Contains(r.byMDay, 0) {
			return fmt.Errorf("0 is not a day of the month")
		}
	case "BYHOUR":
		r.byHour, err = intList(v, 0, 23, false)
	case "BYMINUTE":
		r.byMinute, err = intList(v, 0, 59, false)
	case "BYSECOND":
		r.bySecond, err = intList(v, 0, 59, false)
	case "BYDAY":
		for _, s := range strings.Split(v, ",") {
			if len(s) < 2 {
				return fmt.Errorf("bad weekday %q", s)
			}
			wd, ok := rruleDays[s[len(s)-2:]]
			if !ok {
				return fmt.Errorf("bad weekday %q", s)
			}
			n := 0
			if num := s[:len(s)-2]; num != "" {
				if n, err = strconv.Atoi(num); err != nil || n == 0 || n < -53 || n > 53 {
					return fmt.Errorf("bad weekday ordinal %q", s)
				}
			}
			r.byDay = append(r.byDay, weekdayNum{n, wd})
		}
	case "WKST":
		wd, ok := rruleDays[v]
		if !ok {
			return fmt.Errorf("bad weekday %q", v)
		}
		r.wkst = wd
	default:
		return fmt.Errorf("unsupported part (supported: FREQ INTERVAL COUNT UNTIL BYMONTH BYMONTHDAY BYDAY BYHOUR BYMINUTE BYSECOND WKST)")
	}
	return err
}

// maxRRulePeriods bounds the search, so a rule that can never match (Feb 30
// every year) ends instead of spinning.
const maxRRulePeriods = 200000

// Next implements Schedule.
func (r *RRule) Next(after time.Time) (time.Time, bool) {
	k := 0
	if r.count == 0 {
		// Without COUNT nothing before after matters: skip ahead.
		k = max(r.periodsBefore(civilOf(after, r.loc))-1, 0)
	}
	seen := 0
	for p := 0; p < maxRRulePeriods; p, k = p+1, k+1 {
		cands := r.expand(k)
		for _, c := range cands {
			if c.t.Before(r.dtstart.t) {
				continue
			}
			inst := resolve(c, r.loc)
			if r.until != nil && inst.After(*r.until) {
				return time.Time{}, false
			}
			seen++
			if r.count > 0 && seen > r.count {
				return time.Time{}, false
			}
			if inst.After(after) {
				return inst, true
			}
		}
	}
	return time.Time{}, false
}

// periodsBefore estimates how many whole periods lie between DTSTART and c.
func (r *RRule) periodsBefore(c civil) int {
	d := c.t.Sub(r.dtstart.t)
	if d <= 0 {
		return 0
	}
	var n int
	switch r.freq {
	case "YEARLY":
		n = c.t.Year() - r.dtstart.t.Year()
	case "MONTHLY":
		n = (c.t.Year()-r.dtstart.t.Year())*12 + int(c.t.Month()-r.dtstart.t.Month())
	case "WEEKLY":
		n = int(d / (7 * 24 * time.Hour))
	case "DAILY":
		n = int(d / (24 * time.Hour))
	case "HOURLY":
		n = int(d / time.Hour)
	case "MINUTELY":
		n = int(d / time.Minute)
	}
	return n / r.interval
}

// expand returns the sorted candidates of the k-th period.
func (r *RRule) expand(k int) []civil {
	s := r.dtstart.t
	step := k * r.interval
	var days []time.Time // midnight of each candidate day
	hours, minutes, seconds := r.byHour, r.byMinute, r.bySecond
	if hours == nil {
		hours = []int{s.Hour()}
	}
	if minutes == nil {
		minutes = []int{s.Minute()}
	}
	if seconds == nil {
		seconds = []int{s.Second()}
	}
	switch r.freq {
	case "YEARLY":
		y := s.Year() + step
		months := r.byMonth
		if months == nil {
			if r.byMDay != nil || r.byDay != nil {
				months = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
			} else {
				months = []int{int(s.Month())}
			}
		}
		for _, m := range months {
			days = append(days, r.monthDays(y, time.Month(m))...)
		}
	case "MONTHLY":
		first := time.Date(s.Year(), s.Month()+time.Month(step), 1, 0, 0, 0, 0, time.UTC)
		if r.byMonth == nil || slices.Contains(r.byMonth, int(first.Month())) {
			days = r.monthDays(first.Year(), first.Month())
		}
	case "WEEKLY":
		day := time.Date(s.Year(), s.Month(), s.Day()+7*step, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) - int(r.wkst) + 7) % 7
		weekStart := day.AddDate(0, 0, -back)
		for i := range 7 {
			d := weekStart.AddDate(0, 0, i)
			if r.byDay != nil {
				if !r.hasWeekday(d.Weekday()) {
					continue
				}
			} else if d.Weekday() != s.Weekday() {
				continue
			}
			if r.dayFilter(d, false) {
				days = append(days, d)
			}
		}
	case "DAILY":
		d := time.Date(s.Year(), s.Month(), s.Day()+step, 0, 0, 0, 0, time.UTC)
		if r.dayFilter(d, true) {
			days = append(days, d)
		}
	case "HOURLY":
		h := s.Truncate(time.Hour).Add(time.Duration(step) * time.Hour)
		d := time.Date(h.Year(), h.Month(), h.Day(), 0, 0, 0, 0, time.UTC)
		if r.dayFilter(d, true) && (r.byHour == nil || slices.Contains(r.byHour, h.Hour())) {
			days = append(days, d)
		}
		hours = []int{h.Hour()}
	case "MINUTELY":
		m := s.Truncate(time.Minute).Add(time.Duration(step) * time.Minute)
		d := time.Date(m.Year(), m.Month(), m.Day(), 0, 0, 0, 0, time.UTC)
		if r.dayFilter(d, true) && (r.byHour == nil || slices.Contains(r.byHour, m.Hour())) &&
			(r.byMinute == nil || slices.Contains(r.byMinute, m.Minute())) {
			days = append(days, d)
		}
		hours, minutes = []int{m.Hour()}, []int{m.Minute()}
	}
	var out []civil
	for _, d := range days {
		for _, h := range hours {
			for _, mi := range minutes {
				for _, sec := range seconds {
					out = append(out, civil{d.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second)})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b civil) int { return a.t.Compare(b.t) })
	return slices.CompactFunc(out, func(a, b civil) bool { return a == b })
}

func (r *RRule) hasWeekday(wd time.Weekday) bool {
	for _, b := range r.byDay {
		if b.wd == wd {
			return true
		}
	}
	return false
}

// dayFilter applies BYMONTH, BYMONTHDAY and (when withDay) plain BYDAY
// weekdays to one day.
func (r *RRule) dayFilter(d time.Time, withDay bool) bool {
	if r.byMonth != nil && !slices.Contains(r.byMonth, int(d.Month())) {
		return false
	}
	if r.byMDay != nil && !matchesMonthDay(r.byMDay, d) {
		return false
	}
	if withDay && r.byDay != nil && !r.hasWeekday(d.Weekday()) {
		return false
	}
	return true
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func matchesMonthDay(list []int, d time.Time) bool {
	n := daysIn(d.Year(), d.Month())
	for _, v := range list {
		if v == d.Day() || (v < 0 && n+v+1 == d.Day()) {
			return true
		}
	}
	return false
}

// monthDays are the candidate days of one month for MONTHLY and YEARLY
// rules: BYMONTHDAY and BYDAY (ordinals count within the month) intersect;
// with neither, DTSTART's day of the month (skipped when the month is too
// short).
func (r *RRule) monthDays(y int, m time.Month) []time.Time {
	n := daysIn(y, m)
	var out []time.Time
	for day := 1; day <= n; day++ {
		d := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
		switch {
		case r.byMDay == nil && r.byDay == nil:
			if day != r.dtstart.t.Day() {
				continue
			}
		default:
			if r.byMDay != nil && !matchesMonthDay(r.byMDay, d) {
				continue
			}
			if r.byDay != nil && !r.ordinalDay(d, n) {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// ordinalDay reports whether d matches a BYDAY entry, where 2TU means the
// second Tuesday of the month and -1FR the last Friday.
func (r *RRule) ordinalDay(d time.Time, monthLen int) bool {
	for _, b := range r.byDay {
		if b.wd != d.Weekday() {
			continue
		}
		nth := (d.Day()-1)/7 + 1
		fromEnd := -((monthLen-d.Day())/7 + 1)
		if b.n == 0 || b.n == nth || b.n == fromEnd {
			return true
		}
	}
	return false
}
