package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// RetentionPolicy is a period per resource; a resource absent or at 0 is
// kept for ever.
type RetentionPolicy map[store.RetentionResource]time.Duration

// DefaultRetention is what Baton keeps when the operator says nothing:
// Prefect's own defaults where it has them (events 7 days, finished flow
// runs 90 days), and the same 90 days for the rest of a run's history.
var DefaultRetention = RetentionPolicy{
	store.RetainFlowRuns:  90 * 24 * time.Hour,
	store.RetainTaskRuns:  90 * 24 * time.Hour,
	store.RetainLogs:      90 * 24 * time.Hour,
	store.RetainEvents:    7 * 24 * time.Hour,
	store.RetainArtifacts: 90 * 24 * time.Hour,
}

// Overlay returns p with a workspace's overrides applied.
func (p RetentionPolicy) Overlay(o store.RetentionOverrides) RetentionPolicy {
	out := RetentionPolicy{}
	for k, v := range p {
		out[k] = v
	}
	for k, secs := range o {
		out[k] = time.Duration(secs) * time.Second
	}
	return out
}

// ReadRetentionOverrides reads a workspace's overrides (none when unset).
func ReadRetentionOverrides(ctx context.Context, st interface {
	SettingGet(ctx context.Context, ws model.ID, key string) (json.RawMessage, error)
}, ws model.ID) (store.RetentionOverrides, error) {
	raw, err := st.SettingGet(ctx, ws, store.SettingRetention)
	if errors.Is(err, store.ErrNotFound) {
		return store.RetentionOverrides{}, nil
	}
	if err != nil {
		return nil, err
	}
	o := store.RetentionOverrides{}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("retention: workspace %s: stored overrides: %w", ws, err)
	}
	return o, nil
}

// RetentionStore is what retention needs: the retention seam and the
// workspace settings that hold overrides.
type RetentionStore interface {
	store.Retention
	AuditPurge(ctx context.Context, before model.Time, limit int) (int, bool, error)
	SettingGet(ctx context.Context, ws model.ID, key string) (json.RawMessage, error)
}

// RetentionConfig configures NewRetention. Zero values take the defaults
// noted.
type RetentionConfig struct {
	// Store is purged. Required.
	Store RetentionStore
	// Policy is the server's periods (DefaultRetention when nil); each
	// workspace may override them (store.SettingRetention).
	Policy RetentionPolicy
	// AuditLog is how long audit log entries are kept (0: for ever). It is
	// server-wide: the audit log belongs to accounts, not workspaces, and
	// no workspace may shorten it.
	AuditLog time.Duration
	// Interval between two rounds (default 5 min).
	Interval time.Duration
	// Batch is the most rows one delete takes (default 500): each is one
	// short write among the others of the writer's group commit.
	Batch int
	// RoundBudget bounds one round's time (default 60 s); what is left is
	// deleted by the next round.
	RoundBudget time.Duration
	// ReclaimBytes is how much free space one reclamation write returns to
	// the file system at most (default 8 MiB).
	ReclaimBytes int64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives what each round did (slog.Default when nil).
	Logger *slog.Logger
}

// Retention is the retention service: each round it walks every
// workspace, deletes what is older than the workspace's period for each
// resource in batches, then returns the freed space to the file system.
// Between two batches it rests as long as the batch took, so it never
// holds more than half of the writer's time however much there is to
// delete, and other writes wait at most one batch.
type Retention struct {
	cfg RetentionConfig
	log *slog.Logger

	deleted map[store.RetentionResource]*atomic.Int64
	// reclaimed counts bytes returned; freeBytes is the free space left
	// inside the database after the last round; lastRound when it ended.
	reclaimed, freeBytes, lastRound, rounds atomic.Int64
	// passes counts passes over every resource (a round makes several
	// while there is a backlog); backlog is whether the last round ended
	// with rows past their period still stored.
	passes  atomic.Int64
	backlog atomic.Bool
	// auditDeleted counts audit log entries deleted.
	auditDeleted atomic.Int64
	unsupported  atomic.Bool
}

// NewRetention returns the service.
func NewRetention(cfg RetentionConfig) (*Retention, error) {
	if cfg.Store == nil {
		return nil, errors.New("retention: RetentionConfig.Store is required")
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultRetention
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.RoundBudget <= 0 {
		cfg.RoundBudget = time.Minute
	}
	if cfg.ReclaimBytes <= 0 {
		cfg.ReclaimBytes = 8 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Retention{cfg: cfg, log: log, deleted: map[store.RetentionResource]*atomic.Int64{}}
	for _, res := range store.RetentionResources {
		r.deleted[res] = &atomic.Int64{}
	}
	return r, nil
}

// Service wraps the rounds in the periodic loop.
func (r *Retention) Service() *Periodic {
	return &Periodic{ServiceName: "retention", Interval: r.cfg.Interval, Now: r.cfg.Now, Logger: r.log, Tick: r.Tick}
}

// Tick does one round. Rounds must not run concurrently.
//
// A round is one or more passes over every workspace and resource. In a
// pass each resource gets an equal share of RoundBudget (at least one
// batch), so one resource with a large backlog cannot starve the others;
// while some resource still has rows past its period, another pass
// follows, until the next round is due (Interval). Rounds therefore keep
// up with a sustained load instead of deleting one budget's worth every
// Interval while the backlog grows, and the rest between batches still
// keeps retention to at most half of the writer's time.
func (r *Retention) Tick(ctx context.Context, now time.Time) error {
	started := time.Now()
	wss, err := r.cfg.Store.RetentionWorkspaces(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	var errs []error
	total := map[store.RetentionResource]int{}
	policies := make([]RetentionPolicy, len(wss))
	for i, ws := range wss {
		o, err := ReadRetentionOverrides(ctx, r.cfg.Store, ws)
		if err != nil {
			errs = append(errs, err) // a bad setting keeps the server's periods
		}
		policies[i] = r.cfg.Policy.Overlay(o)
	}
	share := r.cfg.RoundBudget / time.Duration(max(1, len(wss)*len(store.RetentionResources)))
	failed := map[string]bool{}
	for pass := 0; ; pass++ {
		backlog := false
		for i, ws := range wss {
			for _, res := range store.RetentionResources {
				period := policies[i][res]
				key := ws.String() + "/" + string(res)
				if period <= 0 || failed[key] {
					continue
				}
				n, more, err := r.purge(ctx, ws, res, now.Add(-period), time.Now().Add(share))
				total[res] += n
				r.deleted[res].Add(int64(n))
				if err != nil {
					failed[key] = true // not again this round
					errs = append(errs, fmt.Errorf("retention of %s in workspace %s: %w", res, ws, err))
				}
				backlog = backlog || (more && err == nil)
			}
		}
		r.passes.Add(1)
		if !backlog || ctx.Err() != nil || time.Since(started)+2*r.cfg.RoundBudget > r.cfg.Interval {
			r.backlog.Store(backlog)
			break
		}
	}
	deadline := time.Now().Add(r.cfg.RoundBudget)
	audit := 0
	if r.cfg.AuditLog > 0 {
		n, err := r.purgeAudit(ctx, model.NewTime(now.Add(-r.cfg.AuditLog)), deadline)
		audit = n
		r.auditDeleted.Add(int64(n))
		if err != nil {
			errs = append(errs, fmt.Errorf("retention of the audit log: %w", err))
		}
	}
	freed, err := r.reclaim(ctx, deadline)
	if err != nil {
		errs = append(errs, err)
	}
	r.rounds.Add(1)
	r.lastRound.Store(now.Unix())
	attrs := []any{slog.Int64("reclaimed_bytes", freed), slog.Int64("free_bytes", r.freeBytes.Load())}
	did := freed > 0 || audit > 0
	if audit > 0 {
		attrs = append(attrs, slog.Int("audit_log", audit))
	}
	for _, res := range store.RetentionResources {
		if total[res] > 0 {
			did = true
			attrs = append(attrs, slog.Int(string(res), total[res]))
		}
	}
	if did {
		r.log.Info("retention: deleted what outlived its period", attrs...)
	}
	return errors.Join(errs...)
}

// purge deletes batches of res older than before in ws until none is
// left or the round's time is up, resting between batches.
// It reports whether rows past the period were left for another pass.
func (r *Retention) purge(ctx context.Context, ws model.ID, res store.RetentionResource, before, deadline time.Time) (int, bool, error) {
	n := 0
	for {
		t0 := time.Now()
		p, err := r.cfg.Store.RetentionPurge(ctx, ws, res, before, r.cfg.Batch)
		if err != nil {
			return n, false, err
		}
		n += p.Rows
		if !p.More || time.Now().After(deadline) {
			return n, p.More, nil
		}
		if err := rest(ctx, time.Since(t0)); err != nil {
			return n, true, err
		}
	}
}

// purgeAudit deletes audit log entries older than before in batches, like
// purge.
func (r *Retention) purgeAudit(ctx context.Context, before model.Time, deadline time.Time) (int, error) {
	n := 0
	for {
		t0 := time.Now()
		k, more, err := r.cfg.Store.AuditPurge(ctx, before, r.cfg.Batch)
		if err != nil {
			return n, err
		}
		n += k
		if !more || time.Now().After(deadline) {
			return n, nil
		}
		if err := rest(ctx, time.Since(t0)); err != nil {
			return n, err
		}
	}
}

// reclaim returns free space to the file system in bounded writes.
func (r *Retention) reclaim(ctx context.Context, deadline time.Time) (int64, error) {
	var freed int64
	for {
		t0 := time.Now()
		rc, err := r.cfg.Store.RetentionReclaim(ctx, r.cfg.ReclaimBytes)
		if err != nil {
			return freed, fmt.Errorf("retention: %w", err)
		}
		r.freeBytes.Store(rc.FreeBytes)
		r.unsupported.Store(!rc.Supported)
		freed += rc.FreedBytes
		r.reclaimed.Add(rc.FreedBytes)
		if rc.FreedBytes == 0 || rc.FreeBytes == 0 || time.Now().After(deadline) {
			return freed, nil
		}
		if err := rest(ctx, time.Since(t0)); err != nil {
			return freed, err
		}
	}
}

// rest waits d (the writer serves others meanwhile) or until ctx ends.
func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriteMetrics adds retention's figures to /metrics.
func (r *Retention) WriteMetrics(w io.Writer) {
	fmt.Fprintln(w, "# HELP baton_retention_deleted_total Rows retention deleted because they outlived their period, by resource.")
	fmt.Fprintln(w, "# TYPE baton_retention_deleted_total counter")
	for _, res := range store.RetentionResources {
		fmt.Fprintf(w, "baton_retention_deleted_total{resource=%q} %d\n", res, r.deleted[res].Load())
	}
	fmt.Fprintf(w, "baton_retention_deleted_total{resource=\"audit_log\"} %d\n", r.auditDeleted.Load())
	fmt.Fprintf(w, "# HELP baton_retention_reclaimed_bytes_total Bytes of freed space retention returned to the file system.\n# TYPE baton_retention_reclaimed_bytes_total counter\nbaton_retention_reclaimed_bytes_total %d\n", r.reclaimed.Load())
	fmt.Fprintf(w, "# HELP baton_db_free_bytes Free space inside the database file (reused by new rows), after the last retention round.\n# TYPE baton_db_free_bytes gauge\nbaton_db_free_bytes %d\n", r.freeBytes.Load())
	fmt.Fprintf(w, "# HELP baton_retention_rounds_total Retention rounds run.\n# TYPE baton_retention_rounds_total counter\nbaton_retention_rounds_total %d\n", r.rounds.Load())
	fmt.Fprintf(w, "# HELP baton_retention_last_round_timestamp_seconds When the last retention round ended (Unix time).\n# TYPE baton_retention_last_round_timestamp_seconds gauge\nbaton_retention_last_round_timestamp_seconds %d\n", r.lastRound.Load())
	backlog := 0
	if r.backlog.Load() {
		backlog = 1
	}
	fmt.Fprintf(w, "# HELP baton_retention_passes_total Passes over every resource (a round makes more than one while it has a backlog).\n# TYPE baton_retention_passes_total counter\nbaton_retention_passes_total %d\n", r.passes.Load())
	fmt.Fprintf(w, "# HELP baton_retention_backlog 1 when the last round ended with rows past their period still stored (retention is behind).\n# TYPE baton_retention_backlog gauge\nbaton_retention_backlog %d\n", backlog)
	sup := 1
	if r.unsupported.Load() {
		sup = 0
	}
	fmt.Fprintf(w, "# HELP baton_db_reclaim_supported 1 when freed space is returned to the file system (0: run `baton vacuum` once).\n# TYPE baton_db_reclaim_supported gauge\nbaton_db_reclaim_supported %d\n", sup)
}
