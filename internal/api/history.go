package api

import (
	"math"
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
	// WorkQueues narrows by the queue the runs wait in (Prefect's
	// work_queues object of the history body).
	WorkQueues *model.WorkQueueFilter `json:"work_queues"`
}

// query is the body's filters, work_queues included.
func (b *historyQuery) query() model.RunQuery {
	q := b.RunQuery
	q.WorkQueues = b.WorkQueues
	return q
}

// maxHistoryIntervals bounds the number of buckets one answer holds; as in
// Prefect, a longer range is cut to this many intervals from its start.
const maxHistoryIntervals = 500

// maxHistoryIntervalSeconds is the widest interval a time.Duration holds
// (about 292 years); wider ones are refused instead of overflowing.
const maxHistoryIntervalSeconds = float64(math.MaxInt64 / int64(time.Second))

// window validates the interval and returns the range to count, cut to
// maxHistoryIntervals from its start as Prefect does (an empty range when
// end is not after start).
func (b *historyQuery) window() (start, end time.Time, every time.Duration, err error) {
	// Prefect refuses intervals under a second with this message.
	if !(b.HistoryIntervalSeconds >= 1) {
		return start, end, 0, errorf(http.StatusUnprocessableEntity, "field \"history_interval_seconds\": History interval must not be less than 1 second.")
	}
	if b.HistoryIntervalSeconds > maxHistoryIntervalSeconds {
		return start, end, 0, errorf(http.StatusUnprocessableEntity, "field \"history_interval_seconds\": %g is more than the largest interval, %g seconds", b.HistoryIntervalSeconds, maxHistoryIntervalSeconds)
	}
	start, end = b.HistoryStart.Time, b.HistoryEnd.Time
	every = time.Duration(b.HistoryIntervalSeconds * float64(time.Second))
	// Count in floating point: the range over a huge interval must not
	// overflow, and a long range is cut, as Prefect does.
	if n := math.Ceil(float64(end.Sub(start)) / float64(every)); n > maxHistoryIntervals {
		end = start.Add(maxHistoryIntervals * every)
	}
	return start, end, every, nil
}

func historyRoutes() []route {
	h := func(c *call, b *historyQuery) ([]model.HistoryInterval, error) {
		start, end, every, err := b.window()
		if err != nil || !end.After(start) {
			return []model.HistoryInterval{}, err
		}
		return c.srv.cfg.Store.FlowRunHistory(c.ctx, c.ws, b.query(), start, end, every)
	}
	return []route{
		op(wsRead, "POST", "/flow_runs/history", "Flow Runs", "Counts of flow runs by state in consecutive intervals (by expected start time)", 200, h),
		optionalBody(op(wsRead, "POST", "/ui/flow_runs/history", "UI", "Matching flow runs reduced to what a history chart plots (id, state type, start, duration, lateness)", 200, uiFlowRunHistory)),
	}
}

// simpleFlowRun is Prefect's SimpleFlowRun: one dot of a run history chart.
type simpleFlowRun struct {
	ID        model.ID        `json:"id"`
	StateType model.StateType `json:"state_type"`
	// Timestamp is the start time, or the expected start time if the run
	// has not started.
	Timestamp model.Time     `json:"timestamp"`
	Duration  model.Duration `json:"duration"`
	Lateness  model.Duration `json:"lateness"`
}

// uiFlowRunHistory answers POST /ui/flow_runs/history: the runs that match
// the filters (sorted, windowed; at most 1000, EXPECTED_START_TIME_DESC by
// default as in Prefect), each reduced to a simpleFlowRun.
func uiFlowRunHistory(c *call, q *model.RunQuery) ([]simpleFlowRun, error) {
	if q.Limit == 0 {
		q.Limit = maxLimit
	}
	if q.Sort == "" {
		q.Sort = "EXPECTED_START_TIME_DESC"
	}
	if err := checkQuery(q, model.FlowRunSorts); err != nil {
		return nil, err
	}
	runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, *q)
	if err != nil {
		return nil, err
	}
	out := make([]simpleFlowRun, 0, len(runs))
	for _, r := range runs {
		d := simpleFlowRun{ID: r.ID, Duration: r.EstimatedRunTime, Lateness: r.EstimatedStartTimeDelta}
		if r.StateType != nil {
			d.StateType = *r.StateType
		}
		switch {
		case r.StartTime != nil:
			d.Timestamp = *r.StartTime
		case r.ExpectedStartTime != nil:
			d.Timestamp = *r.ExpectedStartTime
		}
		out = append(out, d)
	}
	return out, nil
}
