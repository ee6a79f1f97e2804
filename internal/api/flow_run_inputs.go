package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/runs"
)

// Pausing with input, resuming, and the flow-run input key/value store the
// client uses for both (and for send_input/receive_input). A paused run's
// state names its keyset: the schema key the client wrote before pausing
// and the response key resume writes the validated input to.

// inputCreate is the body of POST /flow_runs/{id}/input.
type inputCreate struct {
	Key    string  `json:"key" required:"true"`
	Value  string  `json:"value" required:"true"`
	Sender *string `json:"sender"`
}

// inputFilter is the body of POST /flow_runs/{id}/input/filter.
type inputFilter struct {
	Prefix      string   `json:"prefix" required:"true"`
	Limit       *int     `json:"limit"`
	ExcludeKeys []string `json:"exclude_keys"`
}

// resumeBody is the body of POST /flow_runs/{id}/resume.
type resumeBody struct {
	RunInput map[string]any `json:"run_input"`
}

// bulkSetState is the body of POST /flow_runs/bulk_set_state.
type bulkSetState struct {
	FlowRuns *model.FlowRunFilter `json:"flow_runs"`
	State    model.StateCreate    `json:"state" required:"true"`
	Force    bool                 `json:"force"`
	Limit    *int                 `json:"limit"`
}

// flowRunResult is one run's verdict in a bulk set-state.
type flowRunResult struct {
	FlowRunID model.ID                   `json:"flow_run_id"`
	Status    model.SetStateStatus       `json:"status"`
	State     *model.State               `json:"state"`
	Details   model.OrchestrationDetails `json:"details"`
}

// bulkSetStateResult answers a bulk set-state.
type bulkSetStateResult struct {
	Results []flowRunResult `json:"results"`
}

// savedSearchCreate is the body of PUT /saved_searches/.
type savedSearchCreate struct {
	Name    string                    `json:"name" required:"true"`
	Filters []model.SavedSearchFilter `json:"filters"`
}

// validInputKey mirrors Prefect's key rule: lowercase letters, digits and
// dashes (keys also travel in URL paths).
func validInputKey(k string) error {
	if k == "" {
		return errorf(http.StatusUnprocessableEntity, "field \"key\" must not be empty")
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return errorf(http.StatusUnprocessableEntity, "field \"key\": %q may hold only lowercase letters, digits and dashes", k)
		}
	}
	return nil
}

func flowRunInputRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	key := param{name: "key", in: "path", typ: "string", required: true}
	const tag = "Flow Runs"
	return []route{
		op(wsWrite, "POST", "/flow_runs/{id}/input", tag, "Store a key/value input of a flow run (409 if the key exists)", 201, func(c *call, b *inputCreate) (noContent, error) {
			if err := validInputKey(b.Key); err != nil {
				return noContent{}, err
			}
			_, err := c.srv.cfg.Store.FlowRunInputCreate(c.ctx, c.ws, model.FlowRunInput{FlowRunID: c.id("id"), Key: b.Key, Value: b.Value, Sender: b.Sender})
			return noContent{}, err
		}, id),
		op(wsRead, "POST", "/flow_runs/{id}/input/filter", tag, "A flow run's inputs whose key starts with prefix (limit default 1)", 200, func(c *call, b *inputFilter) ([]model.FlowRunInput, error) {
			limit := 1
			if b.Limit != nil {
				limit = *b.Limit
			}
			if limit < 0 || limit > maxLimit {
				return nil, errorf(http.StatusUnprocessableEntity, "field \"limit\" must be between 0 and %d", maxLimit)
			}
			res, err := c.srv.cfg.Store.FlowRunInputFilter(c.ctx, c.ws, c.id("id"), b.Prefix, limit, b.ExcludeKeys)
			return nonNil(res), err
		}, id),
		{access: wsRead, method: "GET", path: "/flow_runs/{id}/input/{key}", tag: tag, summary: "One input's value as sent (text/plain)", params: []param{id, key},
			raw: func(w http.ResponseWriter, r *http.Request) {
				s := r.Context().Value(srvKey{}).(*Server)
				rid, err := parsePathID(r, "id")
				if err != nil {
					writeError(w, err.(*Error))
					return
				}
				in, err := s.cfg.Store.FlowRunInputGet(r.Context(), workspaceOf(r), rid, r.PathValue("key"))
				if err != nil {
					writeError(w, toAPIError(err))
					return
				}
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(in.Value))
			}},
		op(wsWrite, "DELETE", "/flow_runs/{id}/input/{key}", tag, "Delete one input of a flow run", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, c.srv.cfg.Store.FlowRunInputDelete(c.ctx, c.ws, c.id("id"), c.r.PathValue("key"))
		}, id, key),
		optionalBody(op(wsWrite, "POST", "/flow_runs/{id}/resume", tag, "Resume a paused flow run; run_input is validated against the schema the run waits for and stored for it", 201, resumeFlowRun, id)),
		op(wsWrite, "POST", "/flow_runs/bulk_set_state", tag, "Propose one state to each flow run matching a filter (at most limit, default and maximum 50)", 200, bulkSetFlowRunState),
		alsoOK(op(wsWrite, "PUT", "/saved_searches", "SavedSearches", "Create a saved search (201), or replace the filters of the one with that name (200)", 201, func(c *call, b *savedSearchCreate) (model.SavedSearch, error) {
			if strings.TrimSpace(b.Name) == "" {
				return model.SavedSearch{}, errorf(http.StatusUnprocessableEntity, "field \"name\" must not be empty")
			}
			out, created, err := c.srv.cfg.Store.SavedSearchUpsert(c.ctx, c.ws, b.Name, nonNil(b.Filters))
			if err == nil && !created {
				c.setStatus(http.StatusOK)
			}
			return out, err
		})),
		op(wsRead, "GET", "/saved_searches/{id}", "SavedSearches", "Read a saved search", 200, func(c *call, _ *noBody) (model.SavedSearch, error) {
			return c.srv.cfg.Store.SavedSearchGet(c.ctx, c.ws, c.id("id"))
		}, id),
		optionalBody(op(wsRead, "POST", "/saved_searches/filter", "SavedSearches", "List saved searches by name", 200, func(c *call, b *windowQuery) ([]model.SavedSearch, error) {
			if err := checkWindow(&b.Offset, &b.Limit); err != nil {
				return nil, err
			}
			res, err := c.srv.cfg.Store.SavedSearchList(c.ctx, c.ws, b.Offset, b.Limit)
			return nonNil(res), err
		})),
		op(wsWrite, "DELETE", "/saved_searches/{id}", "SavedSearches", "Delete a saved search", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, c.srv.cfg.Store.SavedSearchDelete(c.ctx, c.ws, c.id("id"))
		}, id),
	}
}

// abortResult is an ABORT verdict with its reason (no state written).
func abortResult(reason string) model.OrchestrationResult {
	return model.OrchestrationResult{Status: model.StatusAbort, Details: model.OrchestrationDetails{Type: "abort_details", Reason: reason}}
}

// rejectResult keeps the run in state and says why.
func rejectResult(st *model.State, reason string) model.OrchestrationResult {
	return model.OrchestrationResult{State: st, Status: model.StatusReject, Details: model.OrchestrationDetails{Type: "reject_details", Reason: reason}}
}

func resumeFlowRun(c *call, b *resumeBody) (model.OrchestrationResult, error) {
	rid := c.id("id")
	run, err := c.getFlowRun(rid)
	if err != nil {
		return model.OrchestrationResult{}, err
	}
	c.setStatus(http.StatusOK)
	st := run.State
	if st == nil || st.Type != model.StatePaused {
		return abortResult("Cannot resume a flow run that is not paused."), nil
	}
	keyset := st.StateDetails.RunInputKeyset
	input := b.RunInput
	if len(keyset) > 0 {
		if input == nil {
			input = map[string]any{}
		}
		schema, err := c.srv.cfg.Store.FlowRunInputGet(c.ctx, c.ws, rid, keyset["schema"])
		if isNotFound(err) {
			return rejectResult(st, "Run input schema not found."), nil
		} else if err != nil {
			return model.OrchestrationResult{}, err
		}
		var parsed map[string]any
		if json.Unmarshal([]byte(schema.Value), &parsed) != nil {
			return rejectResult(st, "Run input schema is not valid JSON."), nil
		}
		if err := runs.ValidateParameters(json.RawMessage(schema.Value), input); err != nil {
			return rejectResult(st, fmt.Sprintf("Reason: %v", err)), nil
		}
	}
	proposed := model.StateCreate{Type: model.StateRunning}
	if st.StateDetails.PauseReschedule {
		name := "Resuming"
		proposed = model.StateCreate{Type: model.StateScheduled, Name: &name, StateDetails: model.StateDetails{ScheduledTime: model.TimePtr(c.srv.now())}}
	}
	t, err := c.srv.cfg.Runs.SetFlowRunState(c.ctx, c.ws, rid, runs.Proposal{State: proposed,
		ClientVersion: orchestration.ClientVersionFromUserAgent(c.r.UserAgent())})
	if err != nil {
		return model.OrchestrationResult{}, err
	}
	if len(keyset) > 0 && len(b.RunInput) > 0 && t.Result.Status == model.StatusAccept {
		raw, err := json.Marshal(input)
		if err != nil {
			return model.OrchestrationResult{}, err
		}
		if _, err := c.srv.cfg.Store.FlowRunInputCreate(c.ctx, c.ws, model.FlowRunInput{FlowRunID: rid, Key: keyset["response"], Value: string(raw)}); err != nil {
			return model.OrchestrationResult{}, err
		}
	}
	if t.Written {
		c.setStatus(http.StatusCreated)
	}
	return t.Result, nil
}

func bulkSetFlowRunState(c *call, b *bulkSetState) (bulkSetStateResult, error) {
	n, err := bulkWindow(b.Limit)
	if err != nil {
		return bulkSetStateResult{}, err
	}
	if !validStateType(b.State.Type) {
		return bulkSetStateResult{}, errorf(http.StatusUnprocessableEntity, "field \"state.type\": %q is not a state type", b.State.Type)
	}
	list, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, model.RunQuery{FlowRuns: b.FlowRuns, Limit: n})
	if err != nil {
		return bulkSetStateResult{}, err
	}
	out := bulkSetStateResult{Results: []flowRunResult{}}
	ver := orchestration.ClientVersionFromUserAgent(c.r.UserAgent())
	for _, r := range list {
		t, err := c.srv.cfg.Runs.SetFlowRunState(c.ctx, c.ws, r.ID, runs.Proposal{State: b.State, Force: b.Force, ClientVersion: ver})
		if err != nil {
			if toAPIError(err).Status >= 500 {
				return out, err
			}
			out.Results = append(out.Results, flowRunResult{FlowRunID: r.ID, Status: model.StatusAbort,
				Details: model.OrchestrationDetails{Type: "abort_details", Reason: fmt.Sprint(toAPIError(err).Detail)}})
			continue
		}
		out.Results = append(out.Results, flowRunResult{FlowRunID: r.ID, Status: t.Result.Status, State: t.Result.State, Details: t.Result.Details})
	}
	return out, nil
}

// validStateType reports whether t is one of Prefect's state types.
func validStateType(t model.StateType) bool {
	for _, s := range model.StateTypes {
		if s == t {
			return true
		}
	}
	return false
}
