// Command bench-automations measures how long an event takes to become an
// executed automation action while events pour in: N enabled automations
// (each a reactive trigger on its own event name with a do-nothing action),
// a stream of events at a target rate of which a fraction match, and the
// time from an event's commit to its action's prefect.automation.action.
// executed event. It runs the server's own components in-process (SQLite
// store, runs layer, event ingest with its group commit, event bus,
// automations engine and executor) on a fresh database, and reports
// latency percentiles and whether the engine keeps up (its lag behind the
// newest event, sampled every second).
//
//	go run ./bench/automations -rate 10000 -automations 100 -duration 60s -out docs/benchmarks-automations.md
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

func main() {
	rates := flag.String("rate", "10000", "events per second to send (a comma-separated list runs each in turn)")
	nAuto := flag.Int("automations", 100, "enabled automations")
	match := flag.Float64("match", 0.01, "fraction of events that match an automation")
	duration := flag.Duration("duration", 60*time.Second, "how long to send events")
	out := flag.String("out", "", "write a markdown report here")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	cpuEvents := flag.Int("cpu-events", 200000, "events for the CPU-per-event measurement (0 skips it)")
	flag.Int64Var(&walMaxBytes, "wal-max-bytes", 0, "the store's WAL bound (0: the server's default, sqlite.DefaultWALMaxBytes)")
	alsoWAL := flag.Int64("also-wal-max-mb", 0, "after the rates, run the first rate again with this WAL bound in MiB (0: do not)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var cost *cpuCost
	if *cpuEvents > 0 {
		c, err := measureCPU(*nAuto, *match, *cpuEvents)
		if err != nil {
			log.Fatal(err)
		}
		cost = &c
	}
	var results []result
	for _, r := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || rate <= 0 {
			log.Fatalf("-rate: %q is not a positive number", r)
		}
		res, err := run(rate, *nAuto, *match, *duration)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, res)
	}
	if *alsoWAL > 0 {
		// The first rate again with a larger WAL bound (BATON_WAL_MAX_MB),
		// which the report compares with the default.
		rate, _ := strconv.Atoi(strings.TrimSpace(strings.Split(*rates, ",")[0]))
		walMaxBytes = *alsoWAL << 20
		res, err := run(rate, *nAuto, *match, *duration)
		if err != nil {
			log.Fatal(err)
		}
		res.label = fmt.Sprintf("%d/s, BATON_WAL_MAX_MB=%d", rate, *alsoWAL)
		results = append(results, res)
	}
	report := render(results, cost, *rates, *nAuto, *match, *duration)
	fmt.Print(report)
	if *out != "" {
		// Hand-written notes after notesMarker in the old report are kept.
		if old, err := os.ReadFile(*out); err == nil {
			if i := strings.Index(string(old), notesMarker); i >= 0 {
				report += "\n" + string(old[i:])
			}
		}
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// walMaxBytes is the latency runs' sqlite.Config.WALMaxBytes (-wal-max-bytes).
var walMaxBytes int64

// notesMarker starts the report's hand-written part, which a new run keeps.
const notesMarker = "<!-- notes: kept by bench/automations when it rewrites this file -->"

// result is one run's figures.
type result struct {
	rate int
	// label names the row when it is not just the rate.
	label string
	// fired and acted split the latency: commit → the firing committed
	// (its prefect.automation.triggered event published) and firing →
	// action executed.
	fired50, fired99, acted50, acted99 time.Duration
	sent, matched, executed            int64
	missing                            int
	achieved                           float64
	p50, p95, p99, pmax                time.Duration
	// lag1 and lag2 are the engine's largest lag in the first and the
	// second half of the sending time (a lag building up shows as lag2 well
	// above lag1), lastLag the lag once the last actions ran.
	lag1, lag2, lastLag int64
	// The SQLite writer over the run: group commits, their mean time, and
	// the truncating checkpoints it ran between groups (and their time).
	commits               int64
	commitMean            time.Duration
	truncations           int64
	truncateTime          time.Duration
	cpu                   time.Duration
	wall                  time.Duration
	loadBefore, loadAfter string
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sample is one matching event: when its write committed and when its
// action's executed event was seen.
type sample struct {
	committed, fired, executed time.Time
}

func run(rate, nAuto int, matchFrac float64, duration time.Duration) (res result, err error) {
	res.rate = rate
	res.loadBefore = loadavg()
	cpu0 := cpuTime()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "baton-bench-automations-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "baton.db"), WALMaxBytes: walMaxBytes})
	if err != nil {
		return res, err
	}
	defer st.Close()
	bus := events.NewBus()
	rs, err := runs.New(runs.Config{Store: st, Publisher: bus})
	if err != nil {
		return res, err
	}
	ingest := events.NewIngest(events.IngestConfig{Store: st, Recorder: rs, Bus: bus})
	if err := ingest.Start(ctx); err != nil {
		return res, err
	}
	defer ingest.Stop(context.Background())
	auto, err := automations.New(automations.Config{Store: st, Runs: rs, Publisher: bus, Waker: bus})
	if err != nil {
		return res, err
	}
	ws := store.DefaultWorkspaceID
	if err := createAutomations(ctx, auto, ws, nAuto); err != nil {
		return res, err
	}
	if err := auto.Start(ctx); err != nil {
		return res, err
	}
	defer auto.Stop(context.Background())

	// Action outcomes, by the triggering event's id.
	var mu sync.Mutex
	sent := map[model.ID]*sample{}
	var executed atomic.Int64
	sub := bus.Subscribe(ws, model.EventFilter{Event: &struct {
		Prefix        []string `json:"prefix"`
		ExcludePrefix []string `json:"exclude_prefix"`
		Name          []string `json:"name"`
		ExcludeName   []string `json:"exclude_name"`
	}{Name: []string{"prefect.automation.action.executed", "prefect.automation.triggered"}}})
	defer sub.Close()
	go func() {
		for e := range sub.C() {
			now := time.Now()
			id, ok := e.RelatedOfRole("triggering-event")
			if !ok {
				continue
			}
			eid, err := model.ParseID(strings.TrimPrefix(id, "prefect.event."))
			if err != nil {
				continue
			}
			mu.Lock()
			s, ok := sent[eid]
			if !ok {
				// Seen before its sender registered it (the action ran
				// before the sender's write call returned).
				s = &sample{}
				sent[eid] = s
			}
			if e.Event == "prefect.automation.triggered" {
				if s.fired.IsZero() {
					s.fired = now
				}
				mu.Unlock()
				continue
			}
			if s.executed.IsZero() {
				s.executed = now
				executed.Add(1)
			}
			mu.Unlock()
		}
	}()

	// The load: batches every 10 ms from a few concurrent senders, as
	// client connections would arrive.
	const tick = 10 * time.Millisecond
	senders := 8
	var matched, total atomic.Int64
	type lagSample struct {
		at  time.Time
		lag int64
	}
	var lags []lagSample
	stopLag := make(chan struct{})
	var lagWG sync.WaitGroup
	lagWG.Add(1)
	go func() {
		defer lagWG.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopLag:
				return
			case <-t.C:
				// The engine's evaluated position is read before the head,
				// so a sample never under-states the lag.
				evaluated := auto.Evaluated()
				head, _ := st.EventsHead(ctx)
				lags = append(lags, lagSample{time.Now(), max(0, head-evaluated)})
			}
		}
	}()
	ws0 := st.Stats()
	start := time.Now()
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(s), 42))
			next := start
			sentSoFar := 0
			for time.Since(start) < duration {
				next = next.Add(tick)
				// Send what is due by now: a sender whose last write took
				// longer than a tick catches up with a bigger batch, so the
				// offered rate does not depend on the commit latency.
				due := int(time.Since(start).Seconds()*float64(rate)/float64(senders)) - sentSoFar
				n := min(max(due, 1), 2000)
				sentSoFar += n
				batch := make([]model.Event, 0, n)
				var matches []model.ID
				now := model.NewTime(time.Now())
				for i := 0; i < n; i++ {
					e := model.Event{ID: model.NewIDv7(), Occurred: now, Event: "bench.noise",
						Resource: map[string]string{"prefect.resource.id": fmt.Sprintf("bench.thing.%d", r.IntN(1000))}, Related: []map[string]string{}}
					if r.Float64() < matchFrac {
						e.Event = fmt.Sprintf("bench.match.%d", r.IntN(nAuto))
						matches = append(matches, e.ID)
					}
					batch = append(batch, e)
				}
				if err := ingest.Accept(ctx, ws, batch); err != nil {
					log.Printf("accept: %v", err)
					continue
				}
				committed := time.Now()
				mu.Lock()
				for _, id := range matches {
					if s, ok := sent[id]; ok {
						s.committed = committed
					} else {
						sent[id] = &sample{committed: committed}
					}
				}
				mu.Unlock()
				matched.Add(int64(len(matches)))
				total.Add(int64(len(batch)))
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
			}
		}(s)
	}
	wg.Wait()
	sendTime := time.Since(start)
	// Let the last actions finish.
	deadline := time.Now().Add(60 * time.Second)
	for executed.Load() < matched.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stopLag)
	lagWG.Wait()
	if head, err := st.EventsHead(ctx); err == nil {
		res.lastLag = max(0, head-auto.Evaluated())
	}

	mu.Lock()
	var lat, fired, acted []time.Duration
	missing := 0
	for _, s := range sent {
		if s.executed.IsZero() {
			missing++
			continue
		}
		lat = append(lat, max(0, s.executed.Sub(s.committed)))
		if !s.fired.IsZero() {
			fired = append(fired, max(0, s.fired.Sub(s.committed)))
			acted = append(acted, max(0, s.executed.Sub(s.fired)))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	slices.Sort(fired)
	slices.Sort(acted)
	pctOf := func(l []time.Duration, p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[int(p*float64(len(l)-1))]
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }
	res.fired50, res.fired99, res.acted50, res.acted99 = pctOf(fired, 0.5), pctOf(fired, 0.99), pctOf(acted, 0.5), pctOf(acted, 0.99)
	res.achieved = float64(total.Load()) / sendTime.Seconds()
	half, end := start.Add(sendTime/2), start.Add(sendTime)
	for _, l := range lags {
		switch {
		case l.at.Before(half):
			res.lag1 = max(res.lag1, l.lag)
		case l.at.Before(end):
			res.lag2 = max(res.lag2, l.lag)
		}
	}
	res.sent, res.matched, res.executed, res.missing = total.Load(), matched.Load(), executed.Load(), missing
	res.p50, res.p95, res.p99, res.pmax = pct(0.50), pct(0.95), pct(0.99), pct(1)
	ws1 := st.Stats()
	res.commits = ws1.Commits - ws0.Commits
	if res.commits > 0 {
		res.commitMean = time.Duration((ws1.CommitSeconds - ws0.CommitSeconds) / float64(res.commits) * 1e9)
	}
	res.truncations = ws1.WALTruncations - ws0.WALTruncations
	res.truncateTime = time.Duration((ws1.WALTruncationSec - ws0.WALTruncationSec) * 1e9)
	res.cpu = cpuTime() - cpu0
	res.wall = sendTime
	res.loadAfter = loadavg()
	return res, nil
}

func render(results []result, cost *cpuCost, rates string, nAuto int, matchFrac float64, duration time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Automations: event → action latency

%d enabled automations (each a reactive trigger on its own event name, with a do-nothing action) while events
flow in at a target rate for %s, %.1f%% of them matching one of the automations. Latency is from the commit of a
matching event (the moment its sender's write returned) to the publication of its action's
`+"`prefect.automation.action.executed`"+` event: trigger evaluation, the engine's commit of the firing, the
executor picking the action up, running it and recording its outcome.

Measured in-process (the server's own SQLite store, runs layer, event ingest with group commit, event bus,
automations engine and executor; no HTTP, 8 concurrent senders) on this machine (%d cores, Go %s), with
`+"`go run ./bench/automations -rate %s -automations %d -duration %s`"+` (`+"`make bench-automations`"+`).

| target rate | events/s achieved | matching | executed (missing) | p50 | p95 | p99 | max | to firing p50 / p99 | firing to action p50 / p99 | engine lag max 1st half / 2nd half / after (events) | writer: group commits, mean / WAL truncations, time | process CPU | load average before → after |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
`, nAuto, duration, matchFrac*100, runtime.NumCPU(), runtime.Version(), rates, nAuto, duration)
	for _, r := range results {
		ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
		label := r.label
		if label == "" {
			label = fmt.Sprintf("%d/s", r.rate)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %d | %d (%d) | %s | %s | %s | %s | %s / %s | %s / %s | %d / %d / %d | %d, %s / %d, %s | %.0f%% of a core | %s → %s |\n",
			label, r.achieved, r.matched, r.executed, r.missing, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.pmax),
			ms(r.fired50), ms(r.fired99), ms(r.acted50), ms(r.acted99), r.lag1, r.lag2, r.lastLag, r.commits, r.commitMean.Round(time.Millisecond/10), r.truncations, ms(r.truncateTime),
			100*r.cpu.Seconds()/r.wall.Seconds(), r.loadBefore, r.loadAfter)
	}
	b.WriteString(`
The engine reads the events from the store in commit order (no queue between the ingest and the engine: the
store is the queue, so nothing grows in memory when it falls behind); the lag is the number of committed events
it had not yet evaluated, sampled every 250 ms (its largest value in each half of the sending time, and once the
last action ran). A second-half maximum no larger than the first half's means no lag built up. "Process CPU" is the CPU the whole
process (senders, store, ingest, engine, executor) got over the sending time: on a machine shared with other work
(see the load average) it is the CPU share the process was given, not the CPU it needed.
`)
	if cost != nil {
		fmt.Fprintf(&b, `
## CPU per event

What each event costs in CPU time (user + system, from getrusage), which does not depend on how much of
the machine the process is given: %d events (%.1f%% matching) written through the event ingest while the
automations engine is stopped, then the engine started to catch up on all of them from its recorded
position, evaluate them against the %d automations and run the actions of the matches.

| part | events | CPU | CPU per event | wall | events/s per core |
|---|---|---|---|---|---|
| ingest (store, group commit, bus) | %d | %s | %.1f µs | %s | %.0f |
| engine + executor (read, match, evaluate, commit, act) | %d | %s | %.1f µs | %s | %.0f |

At 10,000 events/s the process needs %.2f of a core for the ingest and %.2f for the engine and executor
(load average during the measurement: %s → %s).
`, cost.events, matchFrac*100, nAuto,
			cost.events, cost.ingestCPU.Round(time.Millisecond), perEvent(cost.ingestCPU, cost.events), cost.ingestWall.Round(time.Millisecond), perCore(cost.ingestCPU, cost.events),
			cost.events, cost.engineCPU.Round(time.Millisecond), perEvent(cost.engineCPU, cost.events), cost.engineWall.Round(time.Millisecond), perCore(cost.engineCPU, cost.events),
			10000*cost.ingestCPU.Seconds()/float64(cost.events), 10000*cost.engineCPU.Seconds()/float64(cost.events), cost.loadBefore, cost.loadAfter)
	}
	return b.String()
}

// cpuCost is the CPU the ingest and the engine spend per event.
type cpuCost struct {
	events                int
	ingestCPU, ingestWall time.Duration
	engineCPU, engineWall time.Duration
	loadBefore, loadAfter string
}

func perEvent(cpu time.Duration, n int) float64 { return float64(cpu.Microseconds()) / float64(n) }

func perCore(cpu time.Duration, n int) float64 { return float64(n) / cpu.Seconds() }

// measureCPU writes n events with the engine stopped, then lets a new
// engine catch up on them, measuring the process's CPU time for each
// phase (nothing else runs in the process meanwhile).
func measureCPU(nAuto int, matchFrac float64, n int) (c cpuCost, err error) {
	c.events = n
	c.loadBefore = loadavg()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "baton-bench-automations-cpu-")
	if err != nil {
		return c, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "baton.db")})
	if err != nil {
		return c, err
	}
	defer st.Close()
	bus := events.NewBus()
	rs, err := runs.New(runs.Config{Store: st, Publisher: bus})
	if err != nil {
		return c, err
	}
	ingest := events.NewIngest(events.IngestConfig{Store: st, Recorder: rs, Bus: bus})
	if err := ingest.Start(ctx); err != nil {
		return c, err
	}
	defer ingest.Stop(context.Background())
	newService := func() (*automations.Service, error) {
		return automations.New(automations.Config{Store: st, Runs: rs, Publisher: bus, Waker: bus})
	}
	first, err := newService()
	if err != nil {
		return c, err
	}
	ws := store.DefaultWorkspaceID
	if err := createAutomations(ctx, first, ws, nAuto); err != nil {
		return c, err
	}
	// Start and stop once: the engine records its position at the head.
	if err := first.Start(ctx); err != nil {
		return c, err
	}
	if err := first.Stop(ctx); err != nil {
		return c, err
	}

	r := rand.New(rand.NewPCG(7, 42))
	matched := 0
	// The events are made before the clock starts, so the ingest's figure
	// is the ingest's, not the generator's.
	const batchSize = 500
	var batches [][]model.Event
	now := model.NewTime(time.Now())
	for sent := 0; sent < n; sent += batchSize {
		batch := make([]model.Event, 0, batchSize)
		for i := 0; i < min(batchSize, n-sent); i++ {
			e := model.Event{ID: model.NewIDv7(), Occurred: now, Event: "bench.noise",
				Resource: map[string]string{"prefect.resource.id": fmt.Sprintf("bench.thing.%d", r.IntN(1000))}, Related: []map[string]string{}}
			if r.Float64() < matchFrac {
				e.Event = fmt.Sprintf("bench.match.%d", r.IntN(nAuto))
				matched++
			}
			batch = append(batch, e)
		}
		batches = append(batches, batch)
	}
	runtime.GC()
	cpu0, wall0 := cpuTime(), time.Now()
	for _, batch := range batches {
		if err := ingest.Accept(ctx, ws, batch); err != nil {
			return c, err
		}
	}
	c.ingestCPU, c.ingestWall = cpuTime()-cpu0, time.Since(wall0)
	head, err := st.EventsHead(ctx)
	if err != nil {
		return c, err
	}

	var executed atomic.Int64
	sub := bus.Subscribe(ws, model.EventFilter{Event: &struct {
		Prefix        []string `json:"prefix"`
		ExcludePrefix []string `json:"exclude_prefix"`
		Name          []string `json:"name"`
		ExcludeName   []string `json:"exclude_name"`
	}{Name: []string{"prefect.automation.action.executed"}}})
	defer sub.Close()
	go func() {
		for range sub.C() {
			executed.Add(1)
		}
	}()
	second, err := newService()
	if err != nil {
		return c, err
	}
	runtime.GC()
	cpu0, wall0 = cpuTime(), time.Now()
	if err := second.Start(ctx); err != nil {
		return c, err
	}
	defer second.Stop(context.Background())
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if executed.Load() >= int64(matched) {
			if state, err := st.AutomationStateLoad(ctx); err == nil && state.Position >= head {
				break
			}
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("the engine did not catch up on %d events in 10 minutes (%d of %d actions)", n, executed.Load(), matched)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.engineCPU, c.engineWall = cpuTime()-cpu0, time.Since(wall0)
	c.loadAfter = loadavg()
	return c, nil
}

// createAutomations creates the benchmark's automations: one reactive
// trigger per event name, each with a do-nothing action.
func createAutomations(ctx context.Context, auto *automations.Service, ws model.ID, n int) error {
	for i := 0; i < n; i++ {
		def := fmt.Sprintf(`{"name":"bench %d","trigger":{"type":"event","posture":"Reactive","expect":["bench.match.%d"],"match":{"prefect.resource.id":"bench.thing.*"},"within":0},"actions":[{"type":"do-nothing"}]}`, i, i)
		var in automations.Input
		if err := json.Unmarshal([]byte(def), &in); err != nil {
			return err
		}
		if _, err := auto.Create(ctx, ws, &in); err != nil {
			return err
		}
	}
	return nil
}
