package api

import "encoding/json"

// Baton has no automations engine yet. These two routes answer the calls
// the Prefect CLI makes around deployments truthfully for a server without
// automations: there are none related to any resource, and none to delete.
// (Creating one is a 404, which the client reads as "this server has no
// automations".)
func automationRoutes() []route {
	rid := param{name: "resource_id", in: "path", typ: "string", required: true}
	return []route{
		op(wsRead, "GET", "/automations/related-to/{resource_id}", "Automations", "Automations related to a resource (Baton has none yet)", 200,
			func(c *call, _ *noBody) ([]json.RawMessage, error) { return []json.RawMessage{}, nil }, rid),
		op(wsWrite, "DELETE", "/automations/owned-by/{resource_id}", "Automations", "Delete the automations a resource owns (Baton has none yet)", 202,
			func(c *call, _ *noBody) (noContent, error) { return noContent{}, nil }, rid),
	}
}
