package api

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/store"
)

// latencyBuckets are the upper bounds (seconds) of the request-duration
// histogram.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// routeStats is the per-route, per-status request histogram.
type routeStats struct {
	count   atomic.Uint64
	sumNano atomic.Uint64
	buckets []atomic.Uint64
}

// metrics collects request counters for GET /metrics (Prometheus text
// format). Labels are route patterns, never raw paths, so cardinality is
// bounded by the number of declared routes.
type metrics struct {
	mu     sync.RWMutex
	routes map[[2]string]*routeStats // {pattern, status}
	start  time.Time
}

func newMetrics() *metrics {
	return &metrics{routes: map[[2]string]*routeStats{}, start: time.Now()}
}

func (m *metrics) observe(pattern string, status int, d time.Duration) {
	key := [2]string{pattern, fmt.Sprint(status)}
	m.mu.RLock()
	rs := m.routes[key]
	m.mu.RUnlock()
	if rs == nil {
		m.mu.Lock()
		if rs = m.routes[key]; rs == nil {
			rs = &routeStats{buckets: make([]atomic.Uint64, len(latencyBuckets))}
			m.routes[key] = rs
		}
		m.mu.Unlock()
	}
	rs.count.Add(1)
	rs.sumNano.Add(uint64(d.Nanoseconds()))
	secs := d.Seconds()
	for i, b := range latencyBuckets {
		if secs <= b {
			rs.buckets[i].Add(1)
		}
	}
}

// write renders every metric in the Prometheus text exposition format.
func (m *metrics) write(w io.Writer, s *Server) {
	m.mu.RLock()
	keys := make([][2]string, 0, len(m.routes))
	for k := range m.routes {
		keys = append(keys, k)
	}
	m.mu.RUnlock()
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })

	fmt.Fprintln(w, "# HELP baton_http_request_duration_seconds Duration of API requests by route and status.")
	fmt.Fprintln(w, "# TYPE baton_http_request_duration_seconds histogram")
	for _, k := range keys {
		m.mu.RLock()
		rs := m.routes[k]
		m.mu.RUnlock()
		labels := fmt.Sprintf("route=%q,status=%q", k[0], k[1])
		for i, b := range latencyBuckets {
			fmt.Fprintf(w, "baton_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, b, rs.buckets[i].Load())
		}
		n := rs.count.Load()
		fmt.Fprintf(w, "baton_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, n)
		fmt.Fprintf(w, "baton_http_request_duration_seconds_sum{%s} %g\n", labels, float64(rs.sumNano.Load())/1e9)
		fmt.Fprintf(w, "baton_http_request_duration_seconds_count{%s} %d\n", labels, n)
	}
	st := s.cfg.Ingest.Stats()
	counter := func(name, help string, v uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("baton_events_received_total", "Events handed to the ingest path.", st.Events)
	counter("baton_events_stored_total", "Events that were new and stored.", st.Fresh)
	counter("baton_events_duplicate_total", "Events dropped as duplicates of stored ones.", st.Duplicates)
	counter("baton_task_run_records_total", "Task-run writes made from client events.", st.Records)
	counter("baton_events_skipped_total", "Task-run events that could not be converted.", st.Skipped)
	counter("baton_event_batches_total", "Store round trips of the ingest batcher.", st.Batches)
	counter("baton_events_rejected_total", "Events refused (503, or a websocket closed with 1013) because the ingest queue stayed full.", st.Rejected)
	fmt.Fprintf(w, "# HELP baton_event_ingest_queue_depth Event submissions waiting for the ingest batcher.\n# TYPE baton_event_ingest_queue_depth gauge\nbaton_event_ingest_queue_depth %d\n", st.Queued)
	fmt.Fprintln(w, "# HELP baton_event_ingest_lag_seconds Time from an event's arrival to its commit.")
	fmt.Fprintln(w, "# TYPE baton_event_ingest_lag_seconds histogram")
	for i, b := range events.LagBuckets {
		fmt.Fprintf(w, "baton_event_ingest_lag_seconds_bucket{le=\"%g\"} %d\n", b, st.Lag[i])
	}
	fmt.Fprintf(w, "baton_event_ingest_lag_seconds_bucket{le=\"+Inf\"} %d\n", st.LagCount)
	fmt.Fprintf(w, "baton_event_ingest_lag_seconds_sum %g\nbaton_event_ingest_lag_seconds_count %d\n", st.LagSeconds, st.LagCount)
	gauge := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	gauge("baton_http_connections", "Open HTTP connections (capped at BATON_MAX_CONNECTIONS).", s.conns.Load())
	gauge("baton_http_connections_max", "The cap on open HTTP connections.", s.limits.MaxConnections)
	gauge("baton_decode_budget_bytes_held", "Bytes of request bodies being decoded or handled now.", s.budget.held.Load())
	gauge("baton_decode_budget_bytes", "The budget of concurrently decoded request bodies.", s.limits.DecodeBudget)
	waiting, refused := s.budgetStats()
	gauge("baton_decode_budget_waiting", "Requests waiting for room in the decode budget.", waiting)
	counter("baton_decode_budget_refused_total", "Requests answered 503 because the decode budget stayed full.", refused)
	fmt.Fprintln(w, "# HELP baton_http_rate_limited_total Requests answered 429 for being over a rate limit, by scope.")
	fmt.Fprintln(w, "# TYPE baton_http_rate_limited_total counter")
	fmt.Fprintf(w, "baton_http_rate_limited_total{scope=\"workspace\"} %d\nbaton_http_rate_limited_total{scope=\"key\"} %d\n", s.wsRate.refusedCount(), s.keyRate.refusedCount())
	counter("baton_http_body_too_large_total", "Requests refused 413 for a body over their route's limit.", s.bodyRefused.Load())
	if sr, ok := s.cfg.Store.(store.StatsReporter); ok {
		es := sr.Stats()
		gauge("baton_db_wal_bytes", "Size of the database's write-ahead log.", es.WALBytes)
		gauge("baton_db_bytes", "Size of the database file.", es.DatabaseBytes)
		gauge("baton_db_writer_queue_depth", "Writes waiting for the database writer.", es.QueueDepth)
		counter("baton_db_wal_truncations_total", "Truncating checkpoints the writer took to keep the WAL bounded.", uint64(es.WALTruncations))
		fmt.Fprintln(w, "# HELP baton_db_commit_duration_seconds Duration of group commits (every write of the group, then the commit).")
		fmt.Fprintln(w, "# TYPE baton_db_commit_duration_seconds histogram")
		for i, b := range store.CommitLatencyBuckets {
			fmt.Fprintf(w, "baton_db_commit_duration_seconds_bucket{le=\"%g\"} %d\n", b, es.CommitBuckets[i])
		}
		fmt.Fprintf(w, "baton_db_commit_duration_seconds_bucket{le=\"+Inf\"} %d\n", es.Commits)
		fmt.Fprintf(w, "baton_db_commit_duration_seconds_sum %g\nbaton_db_commit_duration_seconds_count %d\n", es.CommitSeconds, es.Commits)
		counter("baton_db_busy_refusals_total", "Writes refused 503 because the writer's queue stayed full.", uint64(es.BusyRefusals))
		counter("baton_db_committed_writes_total", "Writes committed (many per group commit).", uint64(es.CommittedOps))
	}
	for _, src := range s.cfg.Metrics {
		src.WriteMetrics(w)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "# HELP baton_go_heap_bytes Bytes of allocated heap objects.\n# TYPE baton_go_heap_bytes gauge\nbaton_go_heap_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintf(w, "# HELP baton_goroutines Number of goroutines.\n# TYPE baton_goroutines gauge\nbaton_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# HELP baton_event_subscribers Live /events/out subscriptions.\n# TYPE baton_event_subscribers gauge\nbaton_event_subscribers %d\n", s.cfg.Bus.Subscribers())
	fmt.Fprintf(w, "# HELP baton_log_subscribers Live /logs/out subscriptions.\n# TYPE baton_log_subscribers gauge\nbaton_log_subscribers %d\n", s.logHub.count())
	fmt.Fprintf(w, "# HELP baton_uptime_seconds Seconds since the API started.\n# TYPE baton_uptime_seconds gauge\nbaton_uptime_seconds %g\n", time.Since(m.start).Seconds())
}

// serveMetrics answers GET /metrics.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, s)
}
