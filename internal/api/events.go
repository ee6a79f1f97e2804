package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// eventQuery is the body of POST /events/filter.
type eventQuery struct {
	Filter *model.EventFilter `json:"filter"`
	Limit  int                `json:"limit"`
}

// eventPage is a page of events with a link to the next one.
type eventPage struct {
	Events   []model.Event `json:"events"`
	Total    int           `json:"total"`
	NextPage *string       `json:"next_page"`
}

// pageToken is what the opaque next-page token encodes.
type pageToken struct {
	Filter model.EventFilter `json:"f"`
	Limit  int               `json:"l"`
	Offset int               `json:"o"`
}

// countByQuery is the body of POST /events/count-by/{countable}.
type countByQuery struct {
	Filter       *model.EventFilter `json:"filter"`
	TimeUnit     string             `json:"time_unit"`
	TimeInterval float64            `json:"time_interval"`
}

// maxEventPage is the largest page of events one request returns.
const maxEventPage = 50

func eventRoutes() []route {
	return []route{
		{access: wsWrite, lifetime: socket, method: "GET", path: "/events/in", tag: "Events", summary: "Websocket: clients stream events in (subprotocol \"prefect\")", raw: func(w http.ResponseWriter, r *http.Request) {
			srv := serverOf(r)
			srv.cfg.Sockets.ServeIn(w, r, workspaceOf(r), srv.AuthenticateSocket)
		}},
		{access: wsRead, lifetime: socket, method: "GET", path: "/events/out", tag: "Events", summary: "Websocket: subscribe to events matching a filter (backfill, then live)", raw: func(w http.ResponseWriter, r *http.Request) {
			srv := serverOf(r)
			srv.cfg.Sockets.ServeOut(w, r, workspaceOf(r), srv.AuthenticateSocket)
		}},
		bodyLimit(bulkBodyLimit, op(wsWrite, "POST", "/events", "Events", "Record events over HTTP", 204, func(c *call, b *[]model.Event) (noContent, error) {
			for i := range *b {
				if err := events.Validate(&(*b)[i]); err != nil {
					return noContent{}, errorf(http.StatusUnprocessableEntity, "event [%d]: %v", i, err)
				}
				events.Normalize(&(*b)[i])
			}
			return noContent{}, c.srv.cfg.Ingest.Accept(c.ctx, c.ws, *b)
		})),
		optionalBody(op(wsRead, "POST", "/events/filter", "Events", "Query events (newest first by default)", 200, func(c *call, b *eventQuery) (eventPage, error) {
			if b.Limit < 0 || b.Limit > maxEventPage {
				return eventPage{}, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxEventPage)
			}
			if b.Limit == 0 {
				b.Limit = maxEventPage
			}
			f := defaultEventFilter(b.Filter, c.srv.now())
			return c.eventPage(pageToken{Filter: f, Limit: b.Limit})
		})),
		op(wsRead, "GET", "/events/filter/next", "Events", "The next page of an event query", 200, func(c *call, _ *noBody) (eventPage, error) {
			raw := c.r.URL.Query().Get("page-token")
			tok, err := decodePageToken(raw)
			if err != nil {
				return eventPage{}, errorf(http.StatusUnprocessableEntity, "query parameter \"page-token\" is not a valid page token")
			}
			return c.eventPage(tok)
		}, param{name: "page-token", in: "query", typ: "string", required: true}),
		op(wsRead, "POST", "/events/count-by/{countable}", "Events", "Count events by day, time bucket, event name or resource", 200, func(c *call, b *countByQuery) ([]store.EventCount, error) {
			countable := c.r.PathValue("countable")
			if !contains([]string{"day", "time", "event", "resource"}, countable) {
				return nil, errorf(http.StatusUnprocessableEntity, "path parameter \"countable\": %q is not one of day, time, event, resource", countable)
			}
			bucket := time.Duration(0)
			if countable == "time" {
				unit := map[string]time.Duration{"week": 7 * 24 * time.Hour, "day": 24 * time.Hour, "hour": time.Hour, "minute": time.Minute, "second": time.Second}[b.TimeUnit]
				if b.TimeUnit == "" {
					unit = time.Hour
				}
				if unit == 0 {
					return nil, errorf(http.StatusUnprocessableEntity, "field \"time_unit\": %q is not one of week, day, hour, minute, second", b.TimeUnit)
				}
				iv := b.TimeInterval
				if iv <= 0 {
					iv = 1
				}
				bucket = time.Duration(iv * float64(unit))
			}
			f := defaultEventFilter(b.Filter, c.srv.now())
			res, err := c.srv.cfg.Store.EventCountBy(c.ctx, c.ws, f, countable, bucket)
			return nonNil(res), err
		}, param{name: "countable", in: "path", typ: "string", required: true}),
	}
}

// defaultEventFilter fills Prefect's defaults: the last day, newest first.
func defaultEventFilter(f *model.EventFilter, now time.Time) model.EventFilter {
	var out model.EventFilter
	if f != nil {
		out = *f
	}
	if out.Occurred == nil {
		out.Occurred = &struct {
			Since *model.Time `json:"since"`
			Until *model.Time `json:"until"`
		}{}
	}
	if out.Occurred.Since == nil {
		out.Occurred.Since = model.TimePtr(now.Add(-24 * time.Hour))
	}
	if out.Occurred.Until == nil {
		out.Occurred.Until = model.TimePtr(now.Add(time.Minute))
	}
	if out.Order == "" {
		out.Order = "DESC"
	}
	return out
}

func (c *call) eventPage(tok pageToken) (eventPage, error) {
	page, err := c.srv.cfg.Store.EventList(c.ctx, c.ws, tok.Filter, tok.Limit, tok.Offset)
	if err != nil {
		return eventPage{}, err
	}
	out := eventPage{Events: nonNil(page.Events), Total: page.Total}
	if next := tok.Offset + tok.Limit; next < page.Total {
		tok.Offset = next
		b, _ := json.Marshal(tok)
		s := baseURL(c.r) + "/events/filter/next?" + url.Values{"page-token": {base64.RawURLEncoding.EncodeToString(b)}}.Encode()
		out.NextPage = &s
	}
	return out, nil
}

func decodePageToken(s string) (pageToken, error) {
	var tok pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return tok, err
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		return tok, err
	}
	if tok.Limit <= 0 || tok.Limit > maxEventPage || tok.Offset < 0 {
		return tok, errorf(http.StatusUnprocessableEntity, "bad token window")
	}
	return tok, nil
}

type srvKey struct{}

// serverOf returns the Server handling r (set by ServeHTTP).
func serverOf(r *http.Request) *Server {
	s, _ := r.Context().Value(srvKey{}).(*Server)
	return s
}
