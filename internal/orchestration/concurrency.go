package orchestration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// Concurrency rules: Prefect's SecureTaskConcurrencySlots and
// ReleaseTaskConcurrencySlots (tag limits) and SecureFlowConcurrencySlots,
// ValidateDeploymentConcurrencyAtRunning,
// RemoveDeploymentConcurrencyLeaseForOldClientVersions,
// EnforceDeploymentConcurrencyOnLate and ReleaseFlowConcurrencySlots
// (deployment limits). The limits a decision looks at are gathered by the
// caller before the write; what the decision does to slots is
// Outcome.Slots, which the store applies in the same transaction, refusing
// (so the caller decides again) when the gathered picture no longer holds.

// Settings of Prefect's server these rules use, at Prefect's defaults.
const (
	// TagSlotWait is PREFECT_SERVER_TASKS_TAG_CONCURRENCY_SLOT_WAIT_SECONDS:
	// the longest a task waits before proposing RUNNING again when a tag
	// limit is full.
	TagSlotWait = 10 * time.Second
	// DeploymentSlotWait is
	// PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS: how far
	// ahead a run that found its deployment's limit full is rescheduled
	// (AwaitingConcurrencySlot).
	DeploymentSlotWait = 30 * time.Second
	// DeploymentLeaseTTL is
	// PREFECT_SERVER_CONCURRENCY_INITIAL_DEPLOYMENT_LEASE_DURATION: how long
	// a deployment run's slot lease lasts unless its concurrency_options
	// set grace_period_seconds (a client from 3.4.11 on renews it).
	DeploymentLeaseTTL = 300 * time.Second
	// TagLeaseTTL is Prefect's V1_LEASE_TTL: a task run's tag slot taken by
	// orchestration is held until the task run leaves RUNNING (such
	// clients cannot renew leases); a task run whose flow run ended gives
	// it back through the lease reaper.
	TagLeaseTTL = 100 * 365 * 24 * time.Hour
)

// minLeasingClient is the first client version that keeps a deployment
// run's lease alive (Prefect's MIN_CLIENT_VERSION_FOR_CONCURRENCY_LIMIT_LEASING).
var minLeasingClient = clientVersion{3, 4, 11, 0}

// workerManagedVersions are the client versions whose workers took
// deployment slots themselves, so orchestration must not take one again
// (Prefect's WORKER_VERSIONS_THAT_MANAGE_DEPLOYMENT_CONCURRENCY).
var workerManagedVersions = map[string]bool{"3.0.0rc20": true, "3.0.0": true, "3.0.1": true, "3.0.2": true, "3.0.3": true}

// clientVersion is a parsed Prefect version: major, minor, patch and a
// rank that orders a pre-release (rc, a, b, dev: -1) before its release
// (0) and a post-release (1) after it.
type clientVersion [4]int

// parseClientVersion reads "3.4.11", "3.0.0rc20" or "3.1.15.post1"; ok is
// false for anything else (an unknown client).
func parseClientVersion(s string) (clientVersion, bool) {
	var v clientVersion
	rest := s
	for i := 0; i < 3; i++ {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 {
			return v, false
		}
		n, err := strconv.Atoi(rest[:j])
		if err != nil {
			return v, false
		}
		v[i] = n
		rest = rest[j:]
		if i < 2 {
			if !strings.HasPrefix(rest, ".") {
				return v, false
			}
			rest = rest[1:]
		}
	}
	rest = strings.TrimPrefix(strings.TrimPrefix(rest, "."), "-")
	switch {
	case rest == "" || strings.HasPrefix(rest, "+"):
	case strings.HasPrefix(rest, "post"):
		v[3] = 1
	default:
		v[3] = -1 // rc, a, b, dev
	}
	return v, true
}

func (v clientVersion) less(o clientVersion) bool {
	for i := range v {
		if v[i] != o[i] {
			return v[i] < o[i]
		}
	}
	return false
}

// leasingClient reports whether a client keeps deployment leases alive
// itself; an unknown client (the server's own proposals, Baton's worker) is
// treated as an old one, as Prefect does.
func leasingClient(version string) bool {
	v, ok := parseClientVersion(version)
	return ok && !v.less(minLeasingClient)
}

// DeploymentConcurrency is what a flow-run decision needs to know about its
// deployment's concurrency, gathered before the write.
type DeploymentConcurrency struct {
	// Missing is true when the run's deployment no longer exists.
	Missing bool
	// Limit is the deployment's global concurrency limit ("deployment:<id>");
	// nil when the deployment has none.
	Limit *model.DeploymentConcurrencyLimit
	// Options are the deployment's concurrency options (nil: ENQUEUE and
	// the default lease duration).
	Options *model.ConcurrencyOptions
	// LeaseID is the lease LeaseAlive is about: the one the run's current
	// state names, looked up only when a decision may renew it.
	LeaseID *model.ID
	// LeaseAlive reports whether that lease still exists.
	LeaseAlive bool
}

// leaseTTL is the deployment lease's duration: the grace period its
// options set, else Prefect's default.
func (d *DeploymentConcurrency) leaseTTL() time.Duration {
	if d.Options != nil && d.Options.GracePeriodSeconds != nil {
		return time.Duration(*d.Options.GracePeriodSeconds) * time.Second
	}
	return DeploymentLeaseTTL
}

// hasRoom reports whether one more slot of l fits, as the store's grant
// checks it (an inactive limit grants nothing, as in Prefect).
func hasRoom(active bool, slots, limit int) bool { return active && slots+1 <= limit }

// --- task runs ---------------------------------------------------------

// secureTaskConcurrencySlots is SecureTaskConcurrencySlots: a task run
// proposing RUNNING takes one slot of each active limit of its tags under
// one lease it holds; a limit of 0 aborts (the task would wait forever), a
// full limit makes it wait (a jittered delay around the busiest limit's
// average occupancy, at most TagSlotWait).
func secureTaskConcurrencySlots(c *taskCtx) {
	var active []model.ConcurrencyLimit
	for _, l := range c.in.TagLimits {
		if !l.Active {
			continue
		}
		if l.Limit == 0 {
			c.abort(fmt.Sprintf("The concurrency limit on tag %q is 0 and will deadlock if the task tries to run again.", strings.TrimPrefix(l.Name, model.TagLimitPrefix)))
			return
		}
		active = append(active, l)
	}
	if len(active) == 0 {
		return
	}
	full := false
	var blocking model.ConcurrencyLimit
	busiest := -1.0
	names := make([]string, 0, len(active))
	for _, l := range active {
		names = append(names, strings.TrimPrefix(l.Name, model.TagLimitPrefix))
		if !hasRoom(true, l.ActiveSlots, l.Limit) {
			full = true
		}
		if r := float64(l.ActiveSlots) / float64(l.Limit); r > busiest {
			busiest, blocking = r, l
		}
	}
	if full {
		maxWait := TagSlotWait.Seconds()
		avg := blocking.AvgSlotOccupancySeconds
		if avg <= 0 {
			avg = maxWait
		}
		delay := math.RoundToEven(jittered(min(avg, maxWait), 0.3, c.in.Rand()))
		c.wait(int(delay), "Concurrency limit reached for tags: "+strings.Join(names, ", "))
		return
	}
	grant := &model.LeaseGrant{LeaseID: model.NewID(), TTL: TagLeaseTTL, Holder: &model.LeaseHolder{Type: "task_run", ID: c.run.ID}}
	for _, l := range active {
		grant.LimitIDs = append(grant.LimitIDs, l.ID)
	}
	c.afterWrite(func() { c.slots.Acquire = grant })
}

// releaseTaskConcurrencySlots is ReleaseTaskConcurrencySlots, applied to
// every written task-run state (forced ones too): leaving RUNNING for
// anything but CANCELLING gives back the slots the task run holds on its
// tags' limits.
func (c *taskCtx) releaseTaskConcurrencySlots() {
	if c.proposed == nil || len(c.in.TagLimits) == 0 {
		return
	}
	if t := c.proposed.Type; t == model.StateRunning || t == model.StateCancelling {
		return
	}
	rel := &model.HeldRelease{Holder: model.LeaseHolder{Type: "task_run", ID: c.run.ID}}
	for _, l := range c.in.TagLimits {
		rel.LimitIDs = append(rel.LimitIDs, l.ID)
	}
	c.slots.ReleaseHeld = rel
}

// --- flow runs ---------------------------------------------------------

// validateDeploymentConcurrencyAtRunning is
// ValidateDeploymentConcurrencyAtRunning (PENDING → RUNNING): the run keeps
// its lease id; for a client that maintains leases, the lease is renewed,
// or, if it was reaped while the run's infrastructure started, a slot is
// taken again, else the run is cancelled (its infrastructure is up, so it
// cannot wait).
func validateDeploymentConcurrencyAtRunning(c *flowCtx) {
	lease := c.initial.StateDetails.DeploymentConcurrencyLeaseID
	c.proposed.StateDetails.DeploymentConcurrencyLeaseID = lease
	dc := c.in.Deployment
	if lease == nil || !leasingClient(c.in.ClientVersion) || c.run.DeploymentID == nil || dc == nil || dc.Limit == nil {
		return
	}
	ttl := dc.leaseTTL()
	if dc.LeaseAlive {
		c.afterWrite(func() { c.slots.Renew = &model.LeaseRenewal{LeaseID: *lease, TTL: ttl} })
		return
	}
	if hasRoom(dc.Limit.Active, dc.Limit.ActiveSlots, dc.Limit.Limit) {
		grant := &model.LeaseGrant{LeaseID: model.NewID(), LimitIDs: []model.ID{dc.Limit.ID}, TTL: ttl,
			Holder: &model.LeaseHolder{Type: "flow_run", ID: c.run.ID}}
		id := grant.LeaseID
		c.proposed.StateDetails.DeploymentConcurrencyLeaseID = &id
		c.afterWrite(func() { c.slots.Acquire = grant })
		return
	}
	cancelled := newState(model.StateCancelled, "", c.proposed.Timestamp)
	cancelled.Message = strPtr("Deployment concurrency slot lost during provisioning - no slots available to continue execution")
	c.reject(cancelled, "Deployment concurrency limit reached after lease expiry.")
}

// secureFlowConcurrencySlots is SecureFlowConcurrencySlots: a deployment
// run moving to PENDING (from a state that holds no slot) takes a slot of
// its deployment's limit under a lease named in the PENDING state; when the
// limit is full it is rescheduled as AwaitingConcurrencySlot (ENQUEUE, the
// default) or cancelled (CANCEL_NEW).
func secureFlowConcurrencySlots(c *flowCtx) {
	if c.run.DeploymentID == nil || workerManagedVersions[c.in.ClientVersion] {
		return
	}
	dc := c.in.Deployment
	if dc == nil {
		return
	}
	if dc.Missing {
		c.abort("Deployment not found.")
		return
	}
	if dc.Limit == nil {
		return
	}
	if dc.Limit.Limit == 0 {
		c.abort("The deployment concurrency limit is 0. The flow will deadlock if submitted again.")
		return
	}
	if hasRoom(dc.Limit.Active, dc.Limit.ActiveSlots, dc.Limit.Limit) {
		grant := &model.LeaseGrant{LeaseID: model.NewID(), LimitIDs: []model.ID{dc.Limit.ID}, TTL: dc.leaseTTL()}
		id := grant.LeaseID
		c.proposed.StateDetails.DeploymentConcurrencyLeaseID = &id
		c.afterWrite(func() { c.slots.Acquire = grant })
		return
	}
	const reason = "Deployment concurrency limit reached."
	if dc.Options != nil && dc.Options.CollisionStrategy == "CANCEL_NEW" {
		cancelled := newState(model.StateCancelled, "", c.proposed.Timestamp)
		cancelled.Message = strPtr(reason)
		c.reject(cancelled, reason)
		return
	}
	awaiting := newState(model.StateScheduled, "AwaitingConcurrencySlot", c.proposed.Timestamp)
	awaiting.StateDetails.ScheduledTime = model.TimePtr(c.now.Add(DeploymentSlotWait))
	c.reject(awaiting, reason)
}

// removeDeploymentConcurrencyLeaseForOldClientVersions is
// RemoveDeploymentConcurrencyLeaseForOldClientVersions (PENDING → RUNNING
// or CANCELLING): a client that cannot renew its lease would lose the slot
// when the lease lapses, so the lease is revoked and the slot stays taken
// until the run gives it back.
func removeDeploymentConcurrencyLeaseForOldClientVersions(c *flowCtx) {
	if leasingClient(c.in.ClientVersion) {
		return
	}
	lease := c.initial.StateDetails.DeploymentConcurrencyLeaseID
	if lease == nil {
		return
	}
	id := *lease
	c.afterWrite(func() { c.slots.Revoke = &id })
}

// enforceDeploymentConcurrencyOnLate is EnforceDeploymentConcurrencyOnLate:
// a scheduled run about to be marked Late whose deployment uses CANCEL_NEW
// and is at its limit is cancelled instead.
func enforceDeploymentConcurrencyOnLate(c *flowCtx) {
	if c.proposed.Name != "Late" || c.run.DeploymentID == nil {
		return
	}
	dc := c.in.Deployment
	if dc == nil || dc.Limit == nil || dc.Options == nil || dc.Options.CollisionStrategy != "CANCEL_NEW" {
		return
	}
	if dc.Limit.ActiveSlots >= dc.Limit.Limit {
		cancelled := newState(model.StateCancelled, "", c.proposed.Timestamp)
		cancelled.Message = strPtr("Deployment concurrency limit reached.")
		c.reject(cancelled, "Deployment concurrency limit is full and uses the CANCEL_NEW strategy.")
	}
}

// releaseFlowConcurrencySlots is ReleaseFlowConcurrencySlots, applied to
// every written flow-run state (forced ones too): a deployment run leaving
// PENDING, RUNNING or CANCELLING for a state outside them gives back its
// slot — its lease, or, when the lease is gone (revoked for an old client,
// or never taken), one slot of the deployment's limit. A run rejected into
// AwaitingRetry keeps its slot: it retries in the same process.
func (c *flowCtx) releaseFlowConcurrencySlots() {
	if c.proposed == nil || c.initial == nil || !leaseHolding.has(c.initial.Type) || leaseHolding.has(c.proposed.Type) {
		return
	}
	if c.proposed.Type == model.StateScheduled && c.proposed.Name == "AwaitingRetry" && c.status == model.StatusReject {
		return
	}
	if c.run.DeploymentID == nil {
		return
	}
	var fallback []model.ID
	if dc := c.in.Deployment; dc != nil && dc.Limit != nil {
		fallback = []model.ID{dc.Limit.ID}
	}
	if lease := c.initial.StateDetails.DeploymentConcurrencyLeaseID; lease != nil {
		id := *lease
		c.slots.Release = append(c.slots.Release, model.LeaseRelease{LeaseID: &id, Fallback: fallback})
		return
	}
	if fallback != nil {
		c.slots.Release = append(c.slots.Release, model.LeaseRelease{Fallback: fallback})
	}
}
