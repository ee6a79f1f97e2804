package model

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
