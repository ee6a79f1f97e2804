package api

import (
	"net/http"

	"github.com/batonhq/baton/internal/model"
)

// maxLogMessage bounds one log line (the client truncates at 1 MB too).
const maxLogMessage = 1 << 20

func logRoutes() []route {
	return []route{
		bodyLimit(bulkBodyLimit, op(wsWrite, "POST", "/logs", "Logs", "Store a batch of log lines", 201, func(c *call, b *[]model.LogCreate) (noContent, error) {
			now := model.NewTime(c.srv.now())
			logs := make([]model.Log, 0, len(*b))
			for i, l := range *b {
				if len(l.Message) > maxLogMessage {
					return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"[%d].message\" is longer than %d bytes", i, maxLogMessage)
				}
				logs = append(logs, model.Log{ID: model.NewIDv7(), Created: now, Updated: now, Name: l.Name, Level: l.Level,
					Message: l.Message, Timestamp: l.Timestamp, FlowRunID: l.FlowRunID, TaskRunID: l.TaskRunID, WorkerID: l.WorkerID})
			}
			if len(logs) == 0 {
				return noContent{}, nil
			}
			if err := c.srv.cfg.Store.LogCreate(c.ctx, c.ws, logs); err != nil {
				return noContent{}, err
			}
			c.srv.logHub.publish(c.ws, logs)
			return noContent{}, nil
		})),
		{access: wsRead, lifetime: socket, method: "GET", path: "/logs/out", tag: "Logs", summary: "Websocket: stream logs matching a filter (recent matches, then live)", raw: func(w http.ResponseWriter, r *http.Request) {
			serverOf(r).serveLogsOut(w, r)
		}},
		optionalBody(op(wsRead, "POST", "/logs/filter", "Logs", "Query logs", 200, func(c *call, q *model.LogQuery) ([]model.Log, error) {
			if q.Sort != "" && !contains(model.LogSorts, q.Sort) {
				return nil, errorf(http.StatusUnprocessableEntity, "field \"sort\": %q is not one of %v", q.Sort, model.LogSorts)
			}
			if q.Limit < 0 || q.Limit > maxLimit*10 {
				return nil, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxLimit*10)
			}
			if q.Offset < 0 {
				return nil, errorf(http.StatusUnprocessableEntity, "field \"offset\" must be >= 0")
			}
			if q.Limit == 0 {
				q.Limit = 200
			}
			res, err := c.srv.cfg.Store.LogList(c.ctx, c.ws, *q)
			return nonNil(res), err
		})),
	}
}
