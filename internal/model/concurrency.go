package model

import "time"

// ConcurrencyLimit is a named global concurrency limit (v2). Tag limits that
// tasks use are named "tag:<tag>".
type ConcurrencyLimit struct {
	ID                      ID      `json:"id"`
	Created                 Time    `json:"created"`
	Updated                 Time    `json:"updated"`
	Active                  bool    `json:"active"`
	Name                    string  `json:"name"`
	Limit                   int     `json:"limit"`
	ActiveSlots             int     `json:"active_slots"`
	DeniedSlots             int     `json:"denied_slots"`
	SlotDecayPerSecond      float64 `json:"slot_decay_per_second"`
	AvgSlotOccupancySeconds float64 `json:"avg_slot_occupancy_seconds"`
}

// ConcurrencyLimitCreate is the body of POST /v2/concurrency_limits/.
type ConcurrencyLimitCreate struct {
	Name               string   `json:"name" required:"true"`
	Limit              int      `json:"limit" required:"true"`
	Active             *bool    `json:"active"`
	ActiveSlots        int      `json:"active_slots"`
	DeniedSlots        int      `json:"denied_slots"`
	SlotDecayPerSecond *float64 `json:"slot_decay_per_second"`
}

// ConcurrencyLimitUpdate is the body of PATCH /v2/concurrency_limits/{id}.
type ConcurrencyLimitUpdate struct {
	Name               *string  `json:"name"`
	Limit              *int     `json:"limit"`
	Active             *bool    `json:"active"`
	ActiveSlots        *int     `json:"active_slots"`
	DeniedSlots        *int     `json:"denied_slots"`
	SlotDecayPerSecond *float64 `json:"slot_decay_per_second"`
}

// LeaseHolder names who holds a concurrency lease (a task run, a flow run).
type LeaseHolder struct {
	Type string `json:"type"`
	ID   ID     `json:"id"`
}

// ConcurrencyLease is a time-bounded claim on slots of one or more limits;
// it is released explicitly or expires and is revoked by the server.
type ConcurrencyLease struct {
	ID          ID           `json:"id"`
	ResourceIDs []ID         `json:"resource_ids"`
	Slots       int          `json:"slots"`
	Expiration  Time         `json:"expiration"`
	Holder      *LeaseHolder `json:"holder"`
}

// MinimalConcurrencyLimit is how acquisition responses describe a limit.
type MinimalConcurrencyLimit struct {
	ID    ID     `json:"id"`
	Name  string `json:"name"`
	Limit int    `json:"limit"`
}

// DeploymentConcurrencyLimit is how a deployment shows the global
// concurrency limit that enforces its concurrency_limit (Prefect's
// GlobalConcurrencyLimitResponse): the limit named "deployment:<id>".
type DeploymentConcurrencyLimit struct {
	ID                 ID      `json:"id"`
	Created            Time    `json:"created"`
	Updated            Time    `json:"updated"`
	Active             bool    `json:"active"`
	Name               string  `json:"name"`
	Limit              int     `json:"limit"`
	ActiveSlots        int     `json:"active_slots"`
	SlotDecayPerSecond float64 `json:"slot_decay_per_second"`
}

// DeploymentLimitName is the name of the global concurrency limit that
// enforces a deployment's concurrency_limit, as Prefect names it.
func DeploymentLimitName(deployment ID) string { return "deployment:" + deployment.String() }

// TagLimitPrefix starts the name of the global concurrency limit of a tag
// ("tag:<tag>"); Prefect's v1 tag limits are these limits.
const TagLimitPrefix = "tag:"

// SlotChange is what a run's state change does to concurrency slots (the
// slot halves of Prefect's SecureFlowConcurrencySlots,
// ValidateDeploymentConcurrencyAtRunning, ReleaseFlowConcurrencySlots,
// SecureTaskConcurrencySlots and ReleaseTaskConcurrencySlots). The
// orchestration decision chooses it from limits gathered before the write;
// the store applies it in the transaction that writes the state, in field
// order (releases first), and answers store.ErrSlotsBusy, writing nothing,
// when the picture the decision was made from no longer holds (a limit
// filled up, a lease to renew is gone), so the caller gathers and decides
// again.
type SlotChange struct {
	// Release gives back leases by id.
	Release []LeaseRelease
	// ReleaseHeld gives back the leases a holder holds on some limits.
	ReleaseHeld *HeldRelease
	// Revoke deletes a lease but keeps its slots taken: an old client
	// cannot renew a deployment lease, so its slot is held without one
	// until the run releases it (see LeaseRelease.Fallback).
	Revoke *ID
	// Renew extends a lease the decision found alive.
	Renew *LeaseRenewal
	// Acquire takes one slot on each of its limits under a new lease.
	Acquire *LeaseGrant
}

// IsZero reports whether the change does nothing.
func (c SlotChange) IsZero() bool {
	return len(c.Release) == 0 && c.ReleaseHeld == nil && c.Revoke == nil && c.Renew == nil && c.Acquire == nil
}

// LeaseRelease gives back a lease's slots and deletes it. When the lease
// no longer exists (expired and reaped, or revoked), one slot of each
// Fallback limit is given back instead, as Prefect does; with a nil
// LeaseID the Fallback limits are simply decremented.
type LeaseRelease struct {
	LeaseID  *ID
	Fallback []ID
}

// HeldRelease gives back every lease Holder holds on any of LimitIDs.
type HeldRelease struct {
	Holder   LeaseHolder
	LimitIDs []ID
}

// LeaseRenewal moves a lease's expiration to now + TTL.
type LeaseRenewal struct {
	LeaseID ID
	TTL     time.Duration
}

// LeaseGrant takes one slot on every limit of LimitIDs (all or nothing:
// each must be active and have room) and records them under a lease with
// the decision's id, so the state written with it can name it.
type LeaseGrant struct {
	LeaseID  ID
	LimitIDs []ID
	TTL      time.Duration
	Holder   *LeaseHolder
}
