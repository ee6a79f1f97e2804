package events

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/batonhq/baton/internal/model"
)

// Limits of one event, as the Prefect server enforces them.
const (
	// MaxEventBytes is the largest accepted event document (1.5 MB,
	// PREFECT_SERVER_EVENTS_MAXIMUM_SIZE_BYTES).
	MaxEventBytes = 1_500_000
	// MaxEventNameLength bounds the event name.
	MaxEventNameLength = 1024
	// MaxResourceLabels bounds the labels of the resource and of each
	// related resource.
	MaxResourceLabels = 500
	// MaxRelatedResources bounds the related list.
	MaxRelatedResources = 100
)

// DecodeEvent parses and validates one event document as a client sends it
// (on /events/in or POST /events). Received is left for Ingest to set.
func DecodeEvent(data []byte) (model.Event, error) {
	var e model.Event
	if len(data) > MaxEventBytes {
		return e, fmt.Errorf("event is %d bytes, more than the %d allowed", len(data), MaxEventBytes)
	}
	if err := model.CheckJSONDepth(data, model.MaxJSONDepth); err != nil {
		return e, fmt.Errorf("invalid event: %w", err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("invalid event JSON: %w", err)
	}
	if err := Validate(&e); err != nil {
		return e, err
	}
	Normalize(&e)
	return e, nil
}

// Normalize replaces a missing payload with {} and missing related with []:
// the Prefect client's event model rejects null for both, so every event
// Baton stores or sends carries them.
func Normalize(e *model.Event) {
	if len(e.Payload) == 0 || string(e.Payload) == "null" {
		e.Payload = json.RawMessage("{}")
	}
	if e.Related == nil {
		e.Related = []map[string]string{}
	}
}

// Validate checks the required fields and the size limits of an event.
func Validate(e *model.Event) error {
	switch {
	case e.ID.IsNil():
		return fmt.Errorf("event: id is required")
	case e.Occurred.IsZero():
		return fmt.Errorf("event %s: occurred is required", e.ID)
	case e.Event == "":
		return fmt.Errorf("event %s: event name is required", e.ID)
	case utf8.RuneCountInString(e.Event) > MaxEventNameLength:
		return fmt.Errorf("event %s: event name is longer than %d characters", e.ID, MaxEventNameLength)
	case e.Resource[labelResourceID] == "":
		return fmt.Errorf("event %s: resource needs a %s label", e.ID, labelResourceID)
	case len(e.Resource) > MaxResourceLabels:
		return fmt.Errorf("event %s: resource has more than %d labels", e.ID, MaxResourceLabels)
	case len(e.Related) > MaxRelatedResources:
		return fmt.Errorf("event %s: more than %d related resources", e.ID, MaxRelatedResources)
	}
	for i, r := range e.Related {
		switch {
		case r[labelResourceID] == "":
			return fmt.Errorf("event %s: related[%d] needs a %s label", e.ID, i, labelResourceID)
		case r[labelResourceRole] == "":
			return fmt.Errorf("event %s: related[%d] needs a %s label", e.ID, i, labelResourceRole)
		case len(r) > MaxResourceLabels:
			return fmt.Errorf("event %s: related[%d] has more than %d labels", e.ID, i, MaxResourceLabels)
		}
	}
	return nil
}
