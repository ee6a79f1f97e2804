package schedule

import (
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s unavailable: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// nextN returns n successive instants after from, in UTC RFC 3339.
func nextN(s Schedule, from time.Time, n int) []string {
	var out []string
	t := from
	for range n {
		next, ok := s.Next(t)
		if !ok {
			out = append(out, "none")
			break
		}
		out = append(out, next.UTC().Format(time.RFC3339))
		t = next
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCron(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name  string
		expr  string
		loc   *time.Location
		dayOr bool
		from  string
		want  []string
	}{
		{"every 15 minutes", "*/15 * * * *", time.UTC, true, "2024-05-01T10:07:00Z",
			[]string{"2024-05-01T10:15:00Z", "2024-05-01T10:30:00Z", "2024-05-01T10:45:00Z", "2024-05-01T11:00:00Z"}},
		{"exactly on a match is excluded", "0 * * * *", time.UTC, true, "2024-05-01T10:00:00Z", []string{"2024-05-01T11:00:00Z"}},
		{"weekdays at nine", "0 9 * * MON-FRI", time.UTC, true, "2024-05-03T10:00:00Z", // a Friday
			[]string{"2024-05-06T09:00:00Z", "2024-05-07T09:00:00Z"}},
		{"sunday as 7", "0 0 * * 7", time.UTC, true, "2024-05-01T00:00:00Z", []string{"2024-05-05T00:00:00Z"}},
		{"month names and lists", "30 6 1 jan,jul *", time.UTC, true, "2024-02-01T00:00:00Z", []string{"2024-07-01T06:30:00Z", "2025-01-01T06:30:00Z"}},
		{"leap day", "0 0 29 2 *", time.UTC, true, "2025-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"day_or true: 13th or friday", "0 0 13 * 5", time.UTC, true, "2024-01-01T00:00:00Z", []string{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"}},
		{"day_or false: friday the 13th", "0 0 13 * 5", time.UTC, false, "2024-01-01T00:00:00Z", []string{"2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z"}},
		{"macro", "@daily", time.UTC, true, "2024-05-01T10:00:00Z", []string{"2024-05-02T00:00:00Z"}},
		{"range with step", "0 8-18/5 * * *", time.UTC, true, "2024-05-01T09:00:00Z", []string{"2024-05-01T13:00:00Z", "2024-05-01T18:00:00Z", "2024-05-02T08:00:00Z"}},
		// 2024-03-10: New York springs forward at 02:00 EST (07:00Z).
		{"hourly over the spring gap", "0 * * * *", ny, true, "2024-03-10T05:30:00Z",
			[]string{"2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}},
		{"02:30 daily in the gap runs at 03:30", "30 2 * * *", ny, true, "2024-03-09T12:00:00Z",
			[]string{"2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"}},
		// 2024-11-03: New York falls back at 02:00 EDT (06:00Z).
		{"hourly over the fall overlap fires 01:00 once", "0 * * * *", ny, true, "2024-11-03T04:30:00Z",
			[]string{"2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}},
		{"01:30 daily in the overlap fires once", "30 1 * * *", ny, true, "2024-11-02T12:00:00Z",
			[]string{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}},
		{"starting inside the second 01:xx", "30 1 * * *", ny, true, "2024-11-03T06:10:00Z", []string{"2024-11-04T06:30:00Z"}},
		{"nine local across DST", "0 9 * * *", ny, true, "2024-03-09T00:00:00Z", []string{"2024-03-09T14:00:00Z", "2024-03-10T13:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(tt.expr, tt.loc, tt.dayOr)
			if err != nil {
				t.Fatal(err)
			}
			if got := nextN(c, utc(tt.from), len(tt.want)); !equal(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestCronErrors(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"", "* * * *", "* * * * * *", "61 * * * *", "* 24 * * *", "0 0 0 * *", "0 0 31 2 *", "0 0 * * 8",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", ",1 * * * *", "@never"} {
		if _, err := ParseCron(expr, time.UTC, true); err == nil {
			t.Errorf("ParseCron(%q) accepted", expr)
		}
	}
}

func TestInterval(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name   string
		every  time.Duration
		anchor string
		loc    *time.Location
		from   string
		want   []string
	}{
		{"hourly grid through the anchor", time.Hour, "2024-01-01T00:30:00Z", time.UTC, "2024-05-01T10:45:00Z",
			[]string{"2024-05-01T11:30:00Z", "2024-05-01T12:30:00Z"}},
		{"grid extends before the anchor", 10 * time.Minute, "2030-01-01T00:05:00Z", time.UTC, "2024-05-01T10:00:00Z",
			[]string{"2024-05-01T10:05:00Z", "2024-05-01T10:15:00Z"}},
		{"on a grid point is excluded", time.Minute, "2024-01-01T00:00:00Z", time.UTC, "2024-01-01T00:10:00Z", []string{"2024-01-01T00:11:00Z"}},
		{"daily keeps local time across DST", 24 * time.Hour, "2024-03-08T14:00:00Z", ny, "2024-03-08T15:00:00Z",
			[]string{"2024-03-09T14:00:00Z", "2024-03-10T13:00:00Z", "2024-03-11T13:00:00Z"}},
		{"hourly is exact across DST", time.Hour, "2024-03-10T05:00:00Z", ny, "2024-03-10T05:30:00Z",
			[]string{"2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}},
		{"daily over a leap day", 24 * time.Hour, "2024-02-27T12:00:00Z", time.UTC, "2024-02-28T13:00:00Z",
			[]string{"2024-02-29T12:00:00Z", "2024-03-01T12:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iv, err := NewInterval(tt.every, utc(tt.anchor), tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := nextN(iv, utc(tt.from), len(tt.want)); !equal(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	if _, err := NewInterval(0, time.Now(), nil); err == nil {
		t.Fatal("zero interval accepted")
	}
}

func TestRRule(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name string
		rule string
		loc  *time.Location
		from string
		want []string
	}{
		{"daily at nine", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", time.UTC, "2024-05-01T10:00:00Z", []string{"2024-05-02T09:00:00Z", "2024-05-03T09:00:00Z"}},
		{"weekly mon and wed", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=8", time.UTC, "2024-05-01T09:00:00Z", // a Wednesday
			[]string{"2024-05-06T08:00:00Z", "2024-05-08T08:00:00Z", "2024-05-13T08:00:00Z"}},
		{"last friday of the month", "FREQ=MONTHLY;BYDAY=-1FR", time.UTC, "2024-05-01T00:00:00Z", []string{"2024-05-31T00:00:00Z", "2024-06-28T00:00:00Z"}},
		{"second tuesday", "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=12", time.UTC, "2024-05-01T00:00:00Z", []string{"2024-05-14T12:00:00Z", "2024-06-11T12:00:00Z"}},
		{"last day of month", "FREQ=MONTHLY;BYMONTHDAY=-1", time.UTC, "2024-01-31T01:00:00Z", []string{"2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z"}},
		{"leap day yearly", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", time.UTC, "2024-03-01T00:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"every other hour", "DTSTART:20240501T000000Z\nRRULE:FREQ=HOURLY;INTERVAL=2", time.UTC, "2024-05-01T03:00:00Z", []string{"2024-05-01T04:00:00Z", "2024-05-01T06:00:00Z"}},
		{"count ends it", "DTSTART:20240501T090000Z\nRRULE:FREQ=DAILY;COUNT=2", time.UTC, "2024-04-01T00:00:00Z", []string{"2024-05-01T09:00:00Z", "2024-05-02T09:00:00Z", "none"}},
		{"until ends it", "DTSTART:20240501T090000Z\nRRULE:FREQ=DAILY;UNTIL=20240502T090000Z", time.UTC, "2024-04-01T00:00:00Z", []string{"2024-05-01T09:00:00Z", "2024-05-02T09:00:00Z", "none"}},
		{"dtstart tzid keeps local time over DST", "DTSTART;TZID=America/New_York:20240308T090000\nRRULE:FREQ=DAILY", time.UTC, "2024-03-09T00:00:00Z",
			[]string{"2024-03-09T14:00:00Z", "2024-03-10T13:00:00Z"}},
		{"zone from the schedule", "FREQ=DAILY;BYHOUR=2;BYMINUTE=30", ny, "2024-03-09T12:00:00Z", []string{"2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"}},
		{"minutely", "FREQ=MINUTELY;INTERVAL=15", time.UTC, "2024-05-01T10:07:00Z", []string{"2024-05-01T10:15:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseRRule(tt.rule, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := nextN(r, utc(tt.from), len(tt.want)); !equal(got, tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "FREQ=SECONDLY", "FREQ=DAILY;BYSETPOS=1", "FREQ=DAILY;COUNT=2;UNTIL=20240101", "BYHOUR=3", "FREQ=DAILY;BYHOUR=25", "FREQ=DAILY;BYDAY=XX"} {
		if _, err := ParseRRule(bad, time.UTC); err == nil {
			t.Errorf("ParseRRule(%q) accepted", bad)
		}
	}
}

func TestFromModelAndBetween(t *testing.T) {
	t.Parallel()
	tz := "Europe/Berlin"
	cron := "0 12 * * *"
	s, err := FromModel(model.Schedule{Cron: &cron, Timezone: &tz})
	if err != nil {
		t.Fatal(err)
	}
	got := Between(s, utc("2024-06-01T00:00:00Z"), utc("2024-06-04T00:00:00Z"), 10)
	if len(got) != 3 || !got[0].Equal(utc("2024-06-01T10:00:00Z")) {
		t.Fatalf("got %v", got)
	}
	if got := Between(s, utc("2024-06-01T00:00:00Z"), utc("2025-06-04T00:00:00Z"), 5); len(got) != 5 {
		t.Fatalf("n not honoured: %d", len(got))
	}
	bad := "Mars/Olympus"
	if _, err := FromModel(model.Schedule{Cron: &cron, Timezone: &bad}); err == nil {
		t.Fatal("unknown zone accepted")
	}
}

// checkMonotonic asserts a schedule only moves forward.
func checkMonotonic(t *testing.T, s Schedule, from time.Time) {
	prev := from
	for range 5 {
		next, ok := s.Next(prev)
		if !ok {
			return
		}
		if !next.After(prev) {
			t.Fatalf("Next(%v) = %v, not after", prev, next)
		}
		prev = next
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "0 9 * * MON-FRI", "0 0 29 2 *", "@hourly", "1,2,3 4-5/1 ? * sun", "59 23 31 12 7"} {
		f.Add(s, true)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.UTC
	}
	f.Fuzz(func(t *testing.T, expr string, dayOr bool) {
		c, err := ParseCron(expr, ny, dayOr)
		if err != nil {
			return
		}
		checkMonotonic(t, c, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC))
		checkMonotonic(t, c, time.Date(2024, 11, 2, 23, 0, 0, 0, time.UTC))
	})
}

func FuzzParseRRule(f *testing.F) {
	for _, s := range []string{"FREQ=DAILY", "FREQ=MONTHLY;BYDAY=-1FR", "DTSTART:20240101T000000Z\nRRULE:FREQ=HOURLY;COUNT=3", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=WEEKLY;BYDAY=MO,TU;WKST=SU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		r, err := ParseRRule(rule, time.UTC)
		if err != nil {
			return
		}
		checkMonotonic(t, r, time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC))
	})
}

// FuzzInterval checks interval schedules of any width, anchor and time zone
// never panic and always move forward, across DST changes included.
func FuzzInterval(f *testing.F) {
	for _, c := range []struct {
		secs, anchor int64
		zone         string
	}{{60, 0, "UTC"}, {86400, 1700000000, "America/New_York"}, {90061, -5, "Europe/London"}, {1, 1 << 40, "Asia/Kolkata"}, {31536000 * 300, 0, "UTC"}} {
		f.Add(c.secs, c.anchor, c.zone)
	}
	f.Fuzz(func(t *testing.T, secs, anchor int64, zone string) {
		loc, err := time.LoadLocation(zone)
		if err != nil || secs <= 0 || secs > 1<<33 || anchor < -(1<<40) || anchor > 1<<40 {
			return
		}
		iv, err := NewInterval(time.Duration(secs)*time.Second, time.Unix(anchor, 0), loc)
		if err != nil {
			return
		}
		checkMonotonic(t, iv, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC))
		checkMonotonic(t, iv, time.Date(2024, 11, 2, 23, 0, 0, 0, time.UTC))
	})
}

// TestIntervalFarAnchor: an anchor further than a Duration holds (292
// years) from the time asked about overflowed the index estimate, and Next
// walked billions of steps (the scheduler hung). It answers at once, on the
// grid, whatever the distance.
func TestIntervalFarAnchor(t *testing.T) {
	t.Parallel()
	after := time.Date(2026, 5, 17, 10, 0, 30, 0, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		every  time.Duration
		anchor time.Time
		loc    *time.Location
	}{
		{time.Minute, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC},
		{time.Second, time.Unix(1<<40, 0), time.UTC},
		{36 * time.Hour, time.Date(1500, 3, 1, 9, 0, 0, 0, time.UTC), ny},
		{24 * time.Hour, time.Date(9999, 12, 31, 9, 0, 0, 0, time.UTC), ny},
	} {
		iv, err := NewInterval(c.every, c.anchor, c.loc)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		next, ok := iv.Next(after)
		if took := time.Since(start); took > time.Second {
			t.Fatalf("every %v from %v: Next took %v", c.every, c.anchor, took)
		}
		if !ok || !next.After(after) || next.Sub(after) > c.every+time.Hour {
			t.Fatalf("every %v from %v: Next(%v) = %v, %v", c.every, c.anchor, after, next, ok)
		}
		if c.loc == time.UTC && (next.Unix()-c.anchor.Unix())%int64(c.every/time.Second) != 0 {
			t.Fatalf("every %v from %v: %v is off the grid", c.every, c.anchor, next)
		}
	}
}
