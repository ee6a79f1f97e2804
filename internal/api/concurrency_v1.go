package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

// Tag-based concurrency limits (Prefect's v1 API). As in Prefect 3, a tag
// limit is the global (v2) limit named "tag:<tag>"; the task engine takes
// its slots through /v2/concurrency_limits/increment-with-lease with a
// task_run holder, so the v1 routes are a view over those limits and their
// leases: active_slots lists the task runs holding a lease.

// tagPrefix turns a tag into its global limit's name.
const tagPrefix = model.TagLimitPrefix

// v1LeaseTTL is how long a slot taken through the v1 increment route is
// held: v1 clients cannot renew leases, so (as Prefect does) the lease is
// effectively permanent until decrement or reset.
const v1LeaseTTL = orchestration.TagLeaseTTL

// tagLimitWait is Prefect's PREFECT_TASK_RUN_TAG_CONCURRENCY_SLOT_WAIT_SECONDS
// default (10 s since Prefect 3.x): the Retry-After of a refused v1
// increment, and the longest a task run's RUNNING proposal is told to wait.
const tagLimitWait = orchestration.TagSlotWait

// tagLimit is Prefect's (v1) ConcurrencyLimit.
type tagLimit struct {
	ID               model.ID   `json:"id"`
	Created          model.Time `json:"created"`
	Updated          model.Time `json:"updated"`
	Tag              string     `json:"tag"`
	ConcurrencyLimit int        `json:"concurrency_limit"`
	ActiveSlots      []model.ID `json:"active_slots"`
}

// tagLimitCreate is the body of POST /concurrency_limits/.
type tagLimitCreate struct {
	Tag              string `json:"tag" required:"true"`
	ConcurrencyLimit int    `json:"concurrency_limit" required:"true"`
}

// tagSlots is the body of the v1 increment and decrement routes.
type tagSlots struct {
	Names     []string `json:"names" required:"true"`
	TaskRunID model.ID `json:"task_run_id" required:"true"`
}

// tagReset is the body of POST /concurrency_limits/tag/{tag}/reset.
type tagReset struct {
	SlotOverride []model.ID `json:"slot_override"`
}

// slotsBody is the body of the lease-less v2 increment and decrement.
type slotsBody struct {
	Slots            int      `json:"slots" required:"true"`
	Names            []string `json:"names" required:"true"`
	Mode             string   `json:"mode"`
	OccupancySeconds *float64 `json:"occupancy_seconds"`
	CreateIfMissing  *bool    `json:"create_if_missing"`
}

func (b *slotsBody) validate() error {
	if b.Slots <= 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"slots\" must be > 0")
	}
	if len(b.Names) == 0 {
		return errorf(http.StatusUnprocessableEntity, "field \"names\" must not be empty")
	}
	if b.Mode != "" && b.Mode != "concurrency" && b.Mode != "rate_limit" {
		return errorf(http.StatusUnprocessableEntity, "field \"mode\": %q is not \"concurrency\" or \"rate_limit\"", b.Mode)
	}
	return nil
}

// asTagLimit reads a tag limit's holders and shapes it as Prefect's v1 limit.
func (c *call) asTagLimit(l model.ConcurrencyLimit) (tagLimit, error) {
	out := tagLimit{ID: l.ID, Created: l.Created, Updated: l.Updated, Tag: strings.TrimPrefix(l.Name, tagPrefix), ConcurrencyLimit: l.Limit, ActiveSlots: []model.ID{}}
	leases, err := c.srv.cfg.Store.ConcurrencyLeasesOf(c.ctx, c.ws, l.ID)
	if err != nil {
		return out, err
	}
	for _, le := range leases {
		if le.Holder != nil && le.Holder.Type == "task_run" {
			out.ActiveSlots = append(out.ActiveSlots, le.Holder.ID)
		}
	}
	return out, nil
}

// tagLimitByID reads a limit by id, 404 unless it is a tag limit.
func (c *call) tagLimitByID(id model.ID) (model.ConcurrencyLimit, error) {
	l, err := c.srv.cfg.Store.ConcurrencyLimitGet(c.ctx, c.ws, id.String())
	if err == nil && !strings.HasPrefix(l.Name, tagPrefix) {
		err = store.ErrNotFound
	}
	return l, notFoundAs(err, "concurrency limit", id)
}

// tagLimitByTag reads the limit of a tag.
func (c *call) tagLimitByTag(tag string) (model.ConcurrencyLimit, error) {
	l, err := c.srv.cfg.Store.ConcurrencyLimitGet(c.ctx, c.ws, tagPrefix+tag)
	return l, notFoundAs(err, "concurrency limit for tag", tag)
}

// tagLimitIfAny reads the limit of a tag; ok is false when the tag has none.
func (c *call) tagLimitIfAny(tag string) (l model.ConcurrencyLimit, ok bool, err error) {
	l, err = c.srv.cfg.Store.ConcurrencyLimitGet(c.ctx, c.ws, tagPrefix+tag)
	if isNotFound(err) {
		return l, false, nil
	}
	return l, err == nil, err
}

func concurrencyV1Routes() []route {
	const tag = "Concurrency Limits"
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	tagParam := param{name: "tag", in: "path", typ: "string", required: true}
	return []route{
		alsoOK(op(wsWrite, "POST", "/concurrency_limits", tag, "Create (or update, 200) the concurrency limit of a tag", 201, func(c *call, b *tagLimitCreate) (tagLimit, error) {
			if strings.TrimSpace(b.Tag) == "" {
				return tagLimit{}, errorf(http.StatusUnprocessableEntity, "field \"tag\" must not be empty")
			}
			if b.ConcurrencyLimit < 0 {
				return tagLimit{}, errorf(http.StatusUnprocessableEntity, "field \"concurrency_limit\" must be >= 0")
			}
			st := c.srv.cfg.Store
			l, err := st.ConcurrencyLimitCreate(c.ctx, c.ws, model.ConcurrencyLimitCreate{Name: tagPrefix + b.Tag, Limit: b.ConcurrencyLimit})
			if errors.Is(err, store.ErrConflict) {
				// Prefect's create is an upsert on the tag.
				n := b.ConcurrencyLimit
				if err := st.ConcurrencyLimitUpdate(c.ctx, c.ws, tagPrefix+b.Tag, model.ConcurrencyLimitUpdate{Limit: &n}); err != nil {
					return tagLimit{}, err
				}
				if l, err = st.ConcurrencyLimitGet(c.ctx, c.ws, tagPrefix+b.Tag); err != nil {
					return tagLimit{}, err
				}
				c.setStatus(http.StatusOK)
			} else if err != nil {
				return tagLimit{}, err
			}
			return c.asTagLimit(l)
		})),
		op(wsRead, "GET", "/concurrency_limits/{id}", tag, "Read a tag's concurrency limit by id (active_slots: the task runs holding a slot)", 200, func(c *call, _ *noBody) (tagLimit, error) {
			lid := c.id("id")
			l, err := c.tagLimitByID(lid)
			if err != nil {
				return tagLimit{}, err
			}
			return c.asTagLimit(l)
		}, id),
		op(wsRead, "GET", "/concurrency_limits/tag/{tag}", tag, "Read a tag's concurrency limit", 200, func(c *call, _ *noBody) (tagLimit, error) {
			l, err := c.tagLimitByTag(c.r.PathValue("tag"))
			if err != nil {
				return tagLimit{}, err
			}
			return c.asTagLimit(l)
		}, tagParam),
		optionalBody(op(wsRead, "POST", "/concurrency_limits/filter", tag, "List tag concurrency limits", 200, func(c *call, b *windowQuery) ([]tagLimit, error) {
			if err := checkWindow(&b.Offset, &b.Limit); err != nil {
				return nil, err
			}
			all, err := c.srv.cfg.Store.ConcurrencyLimitList(c.ctx, c.ws, 0, 1<<30)
			if err != nil {
				return nil, err
			}
			out := []tagLimit{}
			skipped := 0
			for _, l := range all {
				if !strings.HasPrefix(l.Name, tagPrefix) {
					continue
				}
				if skipped < b.Offset {
					skipped++
					continue
				}
				if len(out) == b.Limit {
					break
				}
				tl, err := c.asTagLimit(l)
				if err != nil {
					return nil, err
				}
				out = append(out, tl)
			}
			return out, nil
		})),
		optionalBody(op(wsWrite, "POST", "/concurrency_limits/tag/{tag}/reset", tag, "Free every slot of a tag's limit (slot_override: task runs that keep one)", 200,
			func(c *call, b *tagReset) (noContent, error) {
				t := c.r.PathValue("tag")
				l, err := c.tagLimitByTag(t)
				if err != nil {
					return noContent{}, err
				}
				if _, err := c.srv.cfg.Store.ConcurrencyReleaseWhere(c.ctx, c.ws, l.ID, nil); err != nil {
					return noContent{}, err
				}
				for _, tr := range b.SlotOverride {
					_, _, err := c.srv.cfg.Store.ConcurrencyAcquire(c.ctx, c.ws, []string{l.Name}, 1, v1LeaseTTL, &model.LeaseHolder{Type: "task_run", ID: tr})
					if err != nil && !errors.Is(err, store.ErrSlotsBusy) {
						return noContent{}, err
					}
				}
				return noContent{}, nil
			}, tagParam)),
		op(wsWrite, "DELETE", "/concurrency_limits/{id}", tag, "Delete a tag's concurrency limit by id", 200, func(c *call, _ *noBody) (noContent, error) {
			lid := c.id("id")
			l, err := c.tagLimitByID(lid)
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, c.deleteTagLimit(l)
		}, id),
		op(wsWrite, "DELETE", "/concurrency_limits/tag/{tag}", tag, "Delete a tag's concurrency limit", 200, func(c *call, _ *noBody) (noContent, error) {
			l, err := c.tagLimitByTag(c.r.PathValue("tag"))
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, c.deleteTagLimit(l)
		}, tagParam),
		op(wsWrite, "POST", "/concurrency_limits/increment", tag, "Take one slot of each tag's limit for a task run (423 with Retry-After when one is full)", 200,
			func(c *call, b *tagSlots) ([]model.MinimalConcurrencyLimit, error) {
				names := make([]string, 0, len(b.Names))
				for _, t := range b.Names {
					l, ok, err := c.tagLimitIfAny(t)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue // a tag without a limit does not constrain
					}
					if l.Limit == 0 {
						return nil, &Error{Status: http.StatusLocked, Detail: "The concurrency limit on tag \"" + t + "\" is 0 and will deadlock if the task tries to run again."}
					}
					if l.Active {
						names = append(names, l.Name)
					}
				}
				_, limits, err := c.srv.cfg.Store.ConcurrencyAcquire(c.ctx, c.ws, names, 1, v1LeaseTTL, &model.LeaseHolder{Type: "task_run", ID: b.TaskRunID})
				if errors.Is(err, store.ErrSlotsBusy) {
					return nil, &Error{Status: http.StatusLocked, Detail: "Concurrency limit for the " + strings.Join(b.Names, ", ") + " tag has been reached", RetryAfter: tagLimitWait, cause: err}
				}
				for i := range limits {
					limits[i].Name = strings.TrimPrefix(limits[i].Name, tagPrefix)
				}
				return nonNil(limits), err
			}),
		op(wsWrite, "POST", "/concurrency_limits/decrement", tag, "Give back a task run's slots of the tags' limits", 200,
			func(c *call, b *tagSlots) ([]model.MinimalConcurrencyLimit, error) {
				out := []model.MinimalConcurrencyLimit{}
				holder := &model.LeaseHolder{Type: "task_run", ID: b.TaskRunID}
				for _, t := range b.Names {
					l, ok, err := c.tagLimitIfAny(t)
					if err != nil {
						return nil, err
					}
					if !ok {
						continue
					}
					n, err := c.srv.cfg.Store.ConcurrencyReleaseWhere(c.ctx, c.ws, l.ID, holder)
					if err != nil {
						return nil, err
					}
					if n > 0 {
						out = append(out, model.MinimalConcurrencyLimit{ID: l.ID, Name: t, Limit: l.Limit})
					}
				}
				return out, nil
			}),
		op(wsWrite, "POST", "/v2/concurrency_limits/increment", "Concurrency Limits V2", "Take slots on the named limits without a lease (423 when one is full)", 200,
			func(c *call, b *slotsBody) ([]model.MinimalConcurrencyLimit, error) {
				if err := b.validate(); err != nil {
					return nil, err
				}
				res, err := c.srv.cfg.Store.ConcurrencyIncrement(c.ctx, c.ws, b.Names, b.Slots)
				return nonNil(res), err
			}),
		op(wsWrite, "POST", "/v2/concurrency_limits/decrement", "Concurrency Limits V2", "Give back slots taken without a lease", 200,
			func(c *call, b *slotsBody) ([]model.MinimalConcurrencyLimit, error) {
				if err := b.validate(); err != nil {
					return nil, err
				}
				if b.OccupancySeconds != nil && *b.OccupancySeconds <= 0 {
					return nil, errorf(http.StatusUnprocessableEntity, "field \"occupancy_seconds\" must be > 0")
				}
				res, err := c.srv.cfg.Store.ConcurrencyDecrement(c.ctx, c.ws, b.Names, b.Slots)
				return nonNil(res), err
			}),
	}
}

// deleteTagLimit frees a tag limit's leases, then deletes it.
func (c *call) deleteTagLimit(l model.ConcurrencyLimit) error {
	if _, err := c.srv.cfg.Store.ConcurrencyReleaseWhere(c.ctx, c.ws, l.ID, nil); err != nil {
		return err
	}
	return notFoundAs(c.srv.cfg.Store.ConcurrencyLimitDelete(c.ctx, c.ws, l.ID.String()), "concurrency limit", l.ID)
}
