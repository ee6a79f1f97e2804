package api

import (
	"net/http"

	"github.com/batonhq/baton/internal/model"
)

// csrfToken is Prefect's CsrfToken: the shape GET /csrf-token would answer
// if Baton issued tokens. It never does (CSRF protection is off for API
// clients, Prefect's default), but the document declares the shape clients
// know.
type csrfToken struct {
	ID         model.ID   `json:"id"`
	Created    model.Time `json:"created"`
	Updated    model.Time `json:"updated"`
	Token      string     `json:"token"`
	Client     string     `json:"client"`
	Expiration model.Time `json:"expiration"`
}

// csrfDisabled is what the Prefect client reads as "CSRF is off".
const csrfDisabled = "CSRF protection is disabled."

func rootRoutes() []route {
	return []route{
		op(anyone, "GET", "/health", "Root", "Health check", 200, func(c *call, _ *noBody) (bool, error) { return true, nil }),
		op(anyone, "GET", "/ready", "Root", "Readiness check (the database answers)", 200, func(c *call, _ *noBody) (map[string]string, error) {
			if _, err := c.srv.cfg.Store.WorkspaceDefault(c.ctx); err != nil {
				return nil, &Error{Status: http.StatusServiceUnavailable, Detail: "database is not ready", cause: err}
			}
			return map[string]string{"message": "OK"}, nil
		}),
		op(anyone, "GET", "/version", "Root", "Prefect API version", 200, func(c *call, _ *noBody) (string, error) { return APIVersion, nil }),
		op(anyone, "GET", "/hello", "Root", "Say hello", 200, func(c *call, _ *noBody) (string, error) { return "👋", nil }),
		op(wsRead, "GET", "/admin/version", "Admin", "Server version (the Prefect release whose API Baton implements)", 200, func(c *call, _ *noBody) (string, error) {
			return PrefectVersion, nil
		}),
		op(wsRead, "GET", "/admin/settings", "Admin", "Server settings the client reads", 200, func(c *call, _ *noBody) (map[string]any, error) {
			return map[string]any{"server": map[string]any{"analytics_enabled": false}, "baton": map[string]any{"version": c.srv.cfg.Version}}, nil
		}),
		op(anyone, "GET", "/csrf-token", "Root", "CSRF token (disabled for API clients: they authenticate with keys, not cookies)", 200, func(c *call, _ *noBody) (csrfToken, error) {
			return csrfToken{}, errorf(http.StatusUnprocessableEntity, csrfDisabled)
		}, param{name: "client", in: "query", typ: "string", required: true}),
		op(anyone, "GET", "/openapi.json", "Root", "This document", 200, func(c *call, _ *noBody) (rawJSON, error) {
			return rawJSON(c.srv.spec), nil
		}),
	}
}

// rawJSON is a pre-encoded JSON response.
type rawJSON []byte

// MarshalJSON returns the bytes as they are.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
