package api

import (
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// leaseAcquire is the body of /v2/concurrency_limits/increment-with-lease.
type leaseAcquire struct {
	Names         []string           `json:"names" required:"true"`
	Slots         int                `json:"slots" required:"true"`
	Mode          string             `json:"mode"`
	LeaseDuration *float64           `json:"lease_duration"`
	Holder        *model.LeaseHolder `json:"holder"`
}

// leaseResponse answers an acquisition.
type leaseResponse struct {
	LeaseID model.ID                        `json:"lease_id"`
	Limits  []model.MinimalConcurrencyLimit `json:"limits"`
}

// leaseRef is the body of decrement-with-lease.
type leaseRef struct {
	LeaseID model.ID `json:"lease_id" required:"true"`
}

// leaseRenew is the body of leases/{lease_id}/renew.
type leaseRenew struct {
	LeaseDuration *float64 `json:"lease_duration"`
}

// windowQuery is an offset/limit body.
type windowQuery struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func leaseTTL(d *float64) (time.Duration, error) {
	if d == nil {
		return 300 * time.Second, nil
	}
	if *d < 60 || *d > 86400 {
		return 0, errorf(http.StatusUnprocessableEntity, "field \"lease_duration\" must be between 60 and 86400 seconds, got %v", *d)
	}
	return time.Duration(*d * float64(time.Second)), nil
}

func concurrencyRoutes() []route {
	idOrName := param{name: "id_or_name", in: "path", typ: "string", required: true}
	return []route{
		op(wsWrite, "POST", "/v2/concurrency_limits", "Concurrency Limits V2", "Create a global concurrency limit", 201, func(c *call, b *model.ConcurrencyLimitCreate) (model.ConcurrencyLimit, error) {
			if b.Name == "" {
				return model.ConcurrencyLimit{}, errorf(http.StatusUnprocessableEntity, "field \"name\" must not be empty")
			}
			if b.Limit < 0 {
				return model.ConcurrencyLimit{}, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be >= 0")
			}
			return c.srv.cfg.Store.ConcurrencyLimitCreate(c.ctx, c.ws, *b)
		}),
		op(wsRead, "GET", "/v2/concurrency_limits/{id_or_name}", "Concurrency Limits V2", "Read a limit by id or name", 200, func(c *call, _ *noBody) (model.ConcurrencyLimit, error) {
			key := c.r.PathValue("id_or_name")
			l, err := c.srv.cfg.Store.ConcurrencyLimitGet(c.ctx, c.ws, key)
			return l, notFoundAs(err, "concurrency limit", key)
		}, idOrName),
		op(wsWrite, "PATCH", "/v2/concurrency_limits/{id_or_name}", "Concurrency Limits V2", "Update a limit", 204, func(c *call, b *model.ConcurrencyLimitUpdate) (noContent, error) {
			key := c.r.PathValue("id_or_name")
			if b.Limit != nil && *b.Limit < 0 {
				return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be >= 0")
			}
			return noContent{}, notFoundAs(c.srv.cfg.Store.ConcurrencyLimitUpdate(c.ctx, c.ws, key, *b), "concurrency limit", key)
		}, idOrName),
		op(wsWrite, "DELETE", "/v2/concurrency_limits/{id_or_name}", "Concurrency Limits V2", "Delete a limit", 204, func(c *call, _ *noBody) (noContent, error) {
			key := c.r.PathValue("id_or_name")
			return noContent{}, notFoundAs(c.srv.cfg.Store.ConcurrencyLimitDelete(c.ctx, c.ws, key), "concurrency limit", key)
		}, idOrName),
		optionalBody(op(wsRead, "POST", "/v2/concurrency_limits/filter", "Concurrency Limits V2", "List limits", 200, func(c *call, b *windowQuery) ([]model.ConcurrencyLimit, error) {
			if b.Offset < 0 || b.Limit < 0 || b.Limit > maxLimit {
				return nil, errorf(http.StatusUnprocessableEntity, "\"offset\" must be >= 0 and \"limit\" between 0 and %d", maxLimit)
			}
			if b.Limit == 0 {
				b.Limit = 200
			}
			res, err := c.srv.cfg.Store.ConcurrencyLimitList(c.ctx, c.ws, b.Offset, b.Limit)
			return nonNil(res), err
		})),
		op(wsWrite, "POST", "/v2/concurrency_limits/increment-with-lease", "Concurrency Limits V2", "Take slots on the named limits under a lease; when they are busy the request is held up to a second for a release, then 423 with Retry-After", 200, func(c *call, b *leaseAcquire) (leaseResponse, error) {
			if len(b.Names) == 0 {
				return leaseResponse{}, errorf(http.StatusUnprocessableEntity, "field \"names\" must not be empty")
			}
			if b.Slots <= 0 {
				return leaseResponse{}, errorf(http.StatusUnprocessableEntity, "field \"slots\" must be > 0")
			}
			if b.Mode != "" && b.Mode != "concurrency" {
				return leaseResponse{}, errorf(http.StatusUnprocessableEntity, "field \"mode\": %q is not supported (use \"concurrency\")", b.Mode)
			}
			ttl, err := leaseTTL(b.LeaseDuration)
			if err != nil {
				return leaseResponse{}, err
			}
			lease, limits, err := c.acquireHeld(b.Names, b.Slots, ttl, b.Holder)
			if err != nil {
				return leaseResponse{}, err
			}
			resp := leaseResponse{Limits: nonNil(limits)}
			if lease != nil {
				resp.LeaseID = lease.ID
			} else {
				resp.LeaseID = model.NewID()
			}
			return resp, nil
		}),
		op(wsWrite, "POST", "/v2/concurrency_limits/decrement-with-lease", "Concurrency Limits V2", "Release a lease's slots", 204, func(c *call, b *leaseRef) (noContent, error) {
			return noContent{}, c.srv.cfg.Store.ConcurrencyRelease(c.ctx, c.ws, b.LeaseID)
		}),
		optionalBody(op(wsWrite, "POST", "/v2/concurrency_limits/leases/{lease_id}/renew", "Concurrency Limits V2", "Extend a lease", 204, func(c *call, b *leaseRenew) (noContent, error) {
			lid := c.id("lease_id")
			ttl, err := leaseTTL(b.LeaseDuration)
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, notFoundAs(c.srv.cfg.Store.ConcurrencyRenew(c.ctx, c.ws, lid, ttl), "lease", lid)
		}, param{name: "lease_id", in: "path", typ: "uuid", required: true})),
	}
}
