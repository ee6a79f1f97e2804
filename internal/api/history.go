package api

import (
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// historyQuery is the body of POST /flow_runs/history.
type historyQuery struct {
	model.RunQuery
	HistoryStart           model.Time `json:"history_start" required:"true"`
	HistoryEnd             model.Time `json:"history_end" required:"true"`
	HistoryIntervalSeconds float64    `json:"history_interval_seconds" required:"true"`
}

// maxHistoryIntervals bounds the number of buckets one request may ask for.
const maxHistoryIntervals = 500

func historyRoutes() []route {
	h := func(c *call, b *historyQuery) ([]model.HistoryInterval, error) {
		if b.HistoryIntervalSeconds <= 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"history_interval_seconds\" must be > 0")
		}
		if !b.HistoryEnd.After(b.HistoryStart.Time) {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"history_end\" must be after \"history_start\"")
		}
		every := time.Duration(b.HistoryIntervalSeconds * float64(time.Second))
		if n := b.HistoryEnd.Sub(b.HistoryStart.Time) / every; n > maxHistoryIntervals {
			return nil, errorf(http.StatusUnprocessableEntity, "the range holds %d intervals; at most %d are allowed (widen \"history_interval_seconds\")", n, maxHistoryIntervals)
		}
		return c.srv.cfg.Store.FlowRunHistory(c.ctx, c.ws, b.RunQuery, b.HistoryStart.Time, b.HistoryEnd.Time, every)
	}
	return []route{
		op(wsRead, "POST", "/flow_runs/history", "Flow Runs", "Counts of flow runs by state in consecutive intervals (by expected start time)", 200, h),
		op(wsRead, "POST", "/ui/flow_runs/history", "UI", "Same as /flow_runs/history (the path Prefect's UI uses)", 200, h),
	}
}
