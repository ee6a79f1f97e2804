package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// RetentionDefaults is the server's retention, which GET /admin/retention
// reports next to a workspace's overrides.
type RetentionDefaults struct {
	// Off: the retention service does not run (nothing is deleted, whatever
	// the periods say).
	Off bool
	// Periods by resource; 0 or absent keeps the resource for ever.
	Periods map[store.RetentionResource]time.Duration
}

// retentionPeriod is one resource's period as a workspace sees it.
type retentionPeriod struct {
	// Seconds is how long the resource is kept; 0 keeps it for ever.
	Seconds int64 `json:"seconds"`
	// Source says where the period comes from: "server" (the server's
	// BATON_RETENTION_* settings) or "workspace" (this workspace's
	// override).
	Source string `json:"source"`
}

// retentionSettings is the body of GET|PUT /admin/retention.
type retentionSettings struct {
	// Enabled is false when the server's retention service is off.
	Enabled   bool            `json:"enabled"`
	FlowRuns  retentionPeriod `json:"flow_runs"`
	TaskRuns  retentionPeriod `json:"task_runs"`
	Logs      retentionPeriod `json:"logs"`
	Events    retentionPeriod `json:"events"`
	Artifacts retentionPeriod `json:"artifacts"`
}

// retentionUpdate is the body of PUT /admin/retention: the workspace's
// overrides, replacing the previous ones. A period in seconds (at least
// minRetentionOverride, or 0 to keep for ever) overrides the server's; a
// field left out or null takes the server's.
type retentionUpdate struct {
	FlowRuns  *int64 `json:"flow_runs"`
	TaskRuns  *int64 `json:"task_runs"`
	Logs      *int64 `json:"logs"`
	Events    *int64 `json:"events"`
	Artifacts *int64 `json:"artifacts"`
}

// minRetentionOverride is the shortest period a workspace may set: less
// would delete a run's history while someone may still be looking at it.
const minRetentionOverride = 60

func retentionRoutes() []route {
	return []route{
		op(wsRead, "GET", "/admin/retention", "Admin", "Read how long this workspace keeps finished runs, logs, events and artifacts", 200,
			func(c *call, _ *noBody) (retentionSettings, error) {
				return readRetention(c)
			}),
		op(wsWrite, "PUT", "/admin/retention", "Admin", "Set this workspace's retention periods in seconds (0 keeps for ever; null or absent takes the server's)", 200,
			func(c *call, b *retentionUpdate) (retentionSettings, error) {
				o := store.RetentionOverrides{}
				for res, v := range map[store.RetentionResource]*int64{store.RetainFlowRuns: b.FlowRuns, store.RetainTaskRuns: b.TaskRuns,
					store.RetainLogs: b.Logs, store.RetainEvents: b.Events, store.RetainArtifacts: b.Artifacts} {
					if v == nil {
						continue
					}
					if *v != 0 && (*v < minRetentionOverride || *v > 100*365*24*3600) {
						return retentionSettings{}, errorf(http.StatusUnprocessableEntity,
							"field %q must be 0 (keep for ever) or between %d seconds and 100 years, got %d", res, minRetentionOverride, *v)
					}
					o[res] = *v
				}
				raw, err := json.Marshal(o)
				if err != nil {
					return retentionSettings{}, err
				}
				if err := c.srv.cfg.Store.SettingSet(c.ctx, c.ws, store.SettingRetention, raw); err != nil {
					return retentionSettings{}, err
				}
				return readRetention(c)
			}),
		op(wsWrite, "DELETE", "/admin/retention", "Admin", "Drop this workspace's retention overrides (the server's periods apply)", 204,
			func(c *call, _ *noBody) (noContent, error) {
				return noContent{}, c.srv.cfg.Store.SettingDelete(c.ctx, c.ws, store.SettingRetention)
			}),
	}
}

// readRetention is the workspace's effective retention.
func readRetention(c *call) (retentionSettings, error) {
	def := c.srv.cfg.Retention
	o := store.RetentionOverrides{}
	raw, err := c.srv.cfg.Store.SettingGet(c.ctx, c.ws, store.SettingRetention)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return retentionSettings{}, err
	default:
		if err := json.Unmarshal(raw, &o); err != nil {
			return retentionSettings{}, err
		}
	}
	period := func(res store.RetentionResource) retentionPeriod {
		if v, ok := o[res]; ok {
			return retentionPeriod{Seconds: v, Source: "workspace"}
		}
		return retentionPeriod{Seconds: int64(def.Periods[res] / time.Second), Source: "server"}
	}
	return retentionSettings{Enabled: !def.Off, FlowRuns: period(store.RetainFlowRuns), TaskRuns: period(store.RetainTaskRuns),
		Logs: period(store.RetainLogs), Events: period(store.RetainEvents), Artifacts: period(store.RetainArtifacts)}, nil
}
