package automations

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Inbound webhooks (a Prefect Cloud feature, free here): a workspace
// creates a webhook and gets a URL, /hooks/{slug}, whose calls become
// events. The webhook's template is Jinja that renders the event's JSON
// ({"event": ..., "resource": {"prefect.resource.id": ...}, ...}) from the
// call: `body` (the JSON body parsed, a form's fields, or the raw text),
// `raw_body`, `headers` (lower-case names), `query` and `method`.

// WebhookInput is the body of POST /webhooks and PUT /webhooks/{id}.
type WebhookInput struct {
	Name        string  `json:"name" required:"true"`
	Description *string `json:"description"`
	Enabled     *bool   `json:"enabled"`
	Template    string  `json:"template" required:"true"`
}

// newSlug is a random URL-safe 22-character secret.
func newSlug() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (in *WebhookInput) check() error {
	if strings.TrimSpace(in.Name) == "" {
		return invalidf("name", "must not be empty")
	}
	if err := ValidateTemplate(in.Template); err != nil {
		return invalidf("template", "is not a valid template: %v", err)
	}
	return nil
}

// CreateWebhook stores a new webhook with a fresh slug.
func (s *Service) CreateWebhook(ctx context.Context, ws model.ID, in *WebhookInput) (model.Webhook, error) {
	if err := in.check(); err != nil {
		return model.Webhook{}, err
	}
	now := model.NewTime(s.now())
	w := model.Webhook{ID: model.NewID(), Created: now, Updated: now, Name: in.Name, Enabled: in.Enabled == nil || *in.Enabled, Template: in.Template, Slug: newSlug()}
	if in.Description != nil {
		w.Description = *in.Description
	}
	return w, s.st.WebhookCreate(ctx, ws, w)
}

// ReplaceWebhook replaces a webhook's name, description and template (PUT).
func (s *Service) ReplaceWebhook(ctx context.Context, ws, id model.ID, in *WebhookInput) error {
	if err := in.check(); err != nil {
		return err
	}
	_, err := s.st.WebhookUpdate(ctx, ws, id, func(w *model.Webhook) error {
		w.Name, w.Template = in.Name, in.Template
		if in.Description != nil {
			w.Description = *in.Description
		}
		if in.Enabled != nil {
			w.Enabled = *in.Enabled
		}
		return nil
	})
	return err
}

// SetWebhookEnabled enables or disables a webhook (PATCH).
func (s *Service) SetWebhookEnabled(ctx context.Context, ws, id model.ID, enabled bool) error {
	_, err := s.st.WebhookUpdate(ctx, ws, id, func(w *model.Webhook) error { w.Enabled = enabled; return nil })
	return err
}

// RotateWebhook gives a webhook a new slug; the old URL stops working.
func (s *Service) RotateWebhook(ctx context.Context, ws, id model.ID) (model.Webhook, error) {
	return s.st.WebhookUpdate(ctx, ws, id, func(w *model.Webhook) error { w.Slug = newSlug(); return nil })
}

// WebhookCall is one call to a webhook's URL.
type WebhookCall struct {
	Method      string
	ContentType string
	Headers     map[string]string
	Query       url.Values
	Body        []byte
}

// ErrWebhookGone is a call to a slug that names no enabled webhook.
var ErrWebhookGone = errors.New("no enabled webhook has this URL")

// ReceiveWebhook turns a call into the event the webhook's template
// renders, and returns it with the webhook's workspace. A template that
// fails, or renders something that is not an event, is a *ValidationError.
func (s *Service) ReceiveWebhook(ctx context.Context, slug string, call WebhookCall) (model.ID, model.Event, error) {
	ws, w, err := s.st.WebhookBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !w.Enabled) {
		return model.Nil, model.Event{}, ErrWebhookGone
	}
	if err != nil {
		return model.Nil, model.Event{}, err
	}
	headers := map[string]any{}
	for k, v := range call.Headers {
		headers[strings.ToLower(k)] = v
	}
	query := map[string]any{}
	for k, v := range call.Query {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	var body any = string(call.Body)
	switch {
	case strings.HasPrefix(call.ContentType, "application/x-www-form-urlencoded"):
		if form, err := url.ParseQuery(string(call.Body)); err == nil {
			m := map[string]any{}
			for k, v := range form {
				if len(v) > 0 {
					m[k] = v[0]
				}
			}
			body = m
		}
	default:
		var parsed any
		if len(call.Body) > 0 && json.Unmarshal(call.Body, &parsed) == nil {
			body = parsed
		}
	}
	data := map[string]any{"body": body, "raw_body": string(call.Body), "headers": headers, "query": query, "method": call.Method}
	out, err := RenderTemplate(ctx, w.Template, data)
	if err != nil {
		return model.Nil, model.Event{}, &ValidationError{Field: "template", Msg: err.Error()}
	}
	var e model.Event
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		return model.Nil, model.Event{}, &ValidationError{Field: "template", Msg: fmt.Sprintf("did not render an event's JSON: %v", err)}
	}
	if e.Event == "" || e.ResourceID() == "" {
		return model.Nil, model.Event{}, &ValidationError{Field: "template", Msg: `the event needs "event" and "resource" with "prefect.resource.id"`}
	}
	if e.ID.IsNil() {
		e.ID = model.NewIDv7()
	}
	if e.Occurred.IsZero() {
		e.Occurred = model.NewTime(s.now())
	}
	if e.Related == nil {
		e.Related = []map[string]string{}
	}
	// Every event a webhook makes is related to it, so automations can
	// match on the webhook.
	e.Related = append(e.Related, map[string]string{"prefect.resource.id": "prefect-cloud.webhook." + w.ID.String(),
		"prefect.resource.name": w.Name, "prefect.resource.role": "webhook"})
	return ws, e, nil
}
