package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/batonhq/baton/internal/model"
)

// flowQuery is the body of /flows/filter and /flows/count.
type flowQuery = model.RunQuery

// page is the response of every /paginate endpoint.
type page[T any] struct {
	Results []T `json:"results"`
	Count   int `json:"count"`
	Limit   int `json:"limit"`
	Pages   int `json:"pages"`
	Page    int `json:"page"`
}

// streamJSON writes the page with its results streamed one by one, in
// the field order of the struct.
func (p page[T]) streamJSON(w *bufio.Writer) error {
	if _, err := w.WriteString(`{"results":`); err != nil {
		return err
	}
	if err := streamList(w, reflect.ValueOf(p.Results)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, `,"count":%d,"limit":%d,"pages":%d,"page":%d}`, p.Count, p.Limit, p.Pages, p.Page)
	return err
}

// paginate answers a /paginate request with one list and one count query
// of the given store functions.
func paginate[T any](c *call, q *paginateQuery, sorts []string,
	list func(context.Context, model.ID, model.RunQuery) ([]T, error),
	count func(context.Context, model.ID, model.RunQuery) (int, error)) (page[T], error) {
	if err := pageWindow(q); err != nil {
		return page[T]{}, err
	}
	if err := checkQuery(&q.RunQuery, sorts); err != nil {
		return page[T]{}, err
	}
	res, err := list(c.ctx, c.ws, q.RunQuery)
	if err != nil {
		return page[T]{}, err
	}
	n, err := count(c.ctx, c.ws, q.RunQuery)
	if err != nil {
		return page[T]{}, err
	}
	return page[T]{Results: nonNil(res), Count: n, Limit: q.Limit, Page: q.Page, Pages: pages(n, q.Limit)}, nil
}

// paginateQuery is a RunQuery with a 1-based page number instead of an
// offset.
type paginateQuery struct {
	model.RunQuery
	Page int `json:"page"`
}

func flowRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		alsoOK(op(wsWrite, "POST", "/flows", "Flows", "Create a flow, or return the existing one with that name (200)", 201, createFlow)),
		op(wsRead, "GET", "/flows/{id}", "Flows", "Read a flow", 200, func(c *call, _ *noBody) (model.Flow, error) {
			fid := c.id("id")
			return c.srv.cfg.Store.FlowGet(c.ctx, c.ws, fid)
		}, id),
		op(wsRead, "GET", "/flows/name/{name}", "Flows", "Read a flow by name", 200, func(c *call, _ *noBody) (model.Flow, error) {
			return c.srv.cfg.Store.FlowGetByName(c.ctx, c.ws, c.r.PathValue("name"))
		}, param{name: "name", in: "path", typ: "string", required: true}),
		op(wsWrite, "PATCH", "/flows/{id}", "Flows", "Update a flow's tags", 204, func(c *call, b *model.FlowUpdate) (noContent, error) {
			fid := c.id("id")
			if err := c.srv.cfg.Store.FlowUpdate(c.ctx, c.ws, fid, *b); err != nil {
				return noContent{}, err
			}
			if f, err := c.srv.cfg.Store.FlowGet(c.ctx, c.ws, fid); err == nil {
				c.emit(flowEvent("updated", f))
			}
			return noContent{}, nil
		}, id),
		op(wsWrite, "DELETE", "/flows/{id}", "Flows", "Delete a flow and its runs", 204, func(c *call, _ *noBody) (noContent, error) {
			fid := c.id("id")
			f, err := c.srv.cfg.Store.FlowGet(c.ctx, c.ws, fid)
			if err != nil {
				return noContent{}, err
			}
			if err := c.srv.cfg.Store.FlowDelete(c.ctx, c.ws, fid); err != nil {
				return noContent{}, err
			}
			c.emit(flowEvent("deleted", f))
			return noContent{}, nil
		}, id),
		optionalBody(op(wsRead, "POST", "/flows/filter", "Flows", "Query flows", 200, func(c *call, q *flowQuery) ([]model.Flow, error) {
			if err := checkQuery(q, model.FlowSorts); err != nil {
				return nil, err
			}
			return c.srv.cfg.Store.FlowList(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/flows/count", "Flows", "Count flows", 200, func(c *call, q *flowQuery) (int, error) {
			return c.srv.cfg.Store.FlowCount(c.ctx, c.ws, *q)
		})),
		optionalBody(op(wsRead, "POST", "/flows/paginate", "Flows", "Page through flows", 200, func(c *call, q *paginateQuery) (page[model.Flow], error) {
			return paginate(c, q, model.FlowSorts, c.srv.cfg.Store.FlowList, c.srv.cfg.Store.FlowCount)
		})),
	}
}

func createFlow(c *call, b *model.FlowCreate) (model.Flow, error) {
	if b.Name == "" {
		return model.Flow{}, errorf(http.StatusUnprocessableEntity, "field \"name\" must not be empty")
	}
	f, created, err := c.srv.cfg.Store.FlowUpsert(c.ctx, c.ws, *b)
	if err == nil && !created {
		c.setStatus(http.StatusOK)
	}
	if err == nil && created {
		c.emit(flowEvent("created", f))
	}
	return f, err
}

// maxLimit bounds any page size a client may ask for.
const maxLimit = 1000

// checkQuery validates sort and window of a listing.
func checkQuery(q *model.RunQuery, sorts []string) error {
	if q.Sort != "" && !contains(sorts, q.Sort) {
		return errorf(http.StatusUnprocessableEntity, "field \"sort\": %q is not one of %v", q.Sort, sorts)
	}
	if q.Offset < 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"offset\" must be >= 0")
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		return errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxLimit)
	}
	if q.Limit == 0 {
		q.Limit = 200
	}
	return nil
}

// pageWindow turns page/limit into offset/limit.
func pageWindow(q *paginateQuery) error {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 {
		return errorf(http.StatusUnprocessableEntity, "field \"page\" must be >= 1")
	}
	if q.Limit == 0 {
		q.Limit = 200
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		return errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 1 and %d", maxLimit)
	}
	q.Offset = (q.Page - 1) * q.Limit
	return nil
}

func pages(count, limit int) int {
	if limit <= 0 {
		return 0
	}
	return (count + limit - 1) / limit
}

func contains[T comparable](xs []T, x T) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// nonNil turns a nil slice into an empty one so it encodes as [].
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
