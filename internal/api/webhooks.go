package api

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
)

// webhookPatch is the body of PATCH /webhooks/{id}.
type webhookPatch struct {
	Enabled *bool `json:"enabled" required:"true"`
}

// webhookRoutes manage inbound webhooks (Prefect Cloud's /webhooks API); the
// calls themselves arrive at /hooks/{slug} (serveHook).
func webhookRoutes() []route {
	const tag = "Webhooks"
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	return []route{
		op(wsWrite, "POST", "/webhooks", tag, "Create an inbound webhook (its URL is /hooks/{slug})", 201, func(c *call, b *automations.WebhookInput) (model.Webhook, error) {
			return c.automations().CreateWebhook(c.ctx, c.ws, b)
		}),
		optionalBody(op(wsRead, "POST", "/webhooks/filter", tag, "List the workspace's webhooks", 200, func(c *call, _ *struct{}) ([]model.Webhook, error) {
			out, err := c.srv.cfg.Store.WebhookList(c.ctx, c.ws)
			return nonNil(out), err
		})),
		op(wsRead, "GET", "/webhooks/{id}", tag, "Read a webhook", 200, func(c *call, _ *noBody) (model.Webhook, error) {
			wid := c.id("id")
			w, err := c.srv.cfg.Store.WebhookGet(c.ctx, c.ws, wid)
			return w, notFoundAs(err, "webhook", wid)
		}, id),
		op(wsWrite, "PUT", "/webhooks/{id}", tag, "Replace a webhook's name, description and template", 204, func(c *call, b *automations.WebhookInput) (noContent, error) {
			wid := c.id("id")
			return noContent{}, notFoundAs(c.automations().ReplaceWebhook(c.ctx, c.ws, wid, b), "webhook", wid)
		}, id),
		op(wsWrite, "PATCH", "/webhooks/{id}", tag, "Enable or disable a webhook", 204, func(c *call, b *webhookPatch) (noContent, error) {
			wid := c.id("id")
			return noContent{}, notFoundAs(c.automations().SetWebhookEnabled(c.ctx, c.ws, wid, *b.Enabled), "webhook", wid)
		}, id),
		op(wsWrite, "DELETE", "/webhooks/{id}", tag, "Delete a webhook", 204, func(c *call, _ *noBody) (noContent, error) {
			wid := c.id("id")
			return noContent{}, notFoundAs(c.srv.cfg.Store.WebhookDelete(c.ctx, c.ws, wid), "webhook", wid)
		}, id),
		op(wsWrite, "POST", "/webhooks/{id}/rotate", tag, "Give a webhook a new URL (the old one stops working)", 200, func(c *call, _ *noBody) (model.Webhook, error) {
			wid := c.id("id")
			w, err := c.automations().RotateWebhook(c.ctx, c.ws, wid)
			return w, notFoundAs(err, "webhook", wid)
		}, id),
	}
}

// serveHook turns a call to a webhook's URL into an event of its workspace:
// 204 when the event is recorded, 404 for a URL no enabled webhook has, 400
// when the template does not render an event.
func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	slug := strings.Trim(strings.TrimPrefix(r.URL.Path, "/hooks/"), "/")
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		writeError(w, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on a webhook", r.Method))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, errorf(http.StatusRequestEntityTooLarge, "webhook bodies are limited to 1 MB"))
		return
	}
	headers := map[string]string{}
	for k := range r.Header {
		if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[k] = r.Header.Get(k)
	}
	ws, ev, err := s.cfg.Automations.ReceiveWebhook(r.Context(), slug, automations.WebhookCall{Method: r.Method, ContentType: r.Header.Get("Content-Type"),
		Headers: headers, Query: r.URL.Query(), Body: body})
	var ve *automations.ValidationError
	switch {
	case errors.Is(err, automations.ErrWebhookGone):
		writeError(w, errorf(http.StatusNotFound, "Not Found"))
		return
	case errors.As(err, &ve):
		writeError(w, errorf(http.StatusBadRequest, "%s", ve.Error()))
		return
	case err != nil:
		writeError(w, toAPIError(err))
		return
	}
	if err := events.Validate(&ev); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "the template rendered an invalid event: %v", err))
		return
	}
	events.Normalize(&ev)
	if err := s.cfg.Ingest.Accept(r.Context(), ws, []model.Event{ev}); err != nil {
		writeError(w, toAPIError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
