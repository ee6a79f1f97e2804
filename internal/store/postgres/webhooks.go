package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func writeWebhook(tx *wtx, ws model.ID, w *model.Webhook, insert bool) error {
	body, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO webhooks (workspace_id, id, slug, name, created, updated, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(w.ID), w.Slug, w.Name, w.Created.Micros(), w.Updated.Micros(), body)
	} else {
		_, err = tx.exec(`UPDATE webhooks SET slug = ?, name = ?, updated = ?, body = ? WHERE workspace_id = ? AND id = ?`,
			w.Slug, w.Name, w.Updated.Micros(), body, idv(ws), idv(w.ID))
	}
	if isUnique(err) {
		return fmt.Errorf("webhook slug: %w", store.ErrConflict)
	}
	return err
}

// WebhookCreate inserts a webhook.
func (s *Store) WebhookCreate(ctx context.Context, ws model.ID, w model.Webhook) error {
	if err := s.write(ctx, func(tx *wtx) error { return writeWebhook(tx, ws, &w, true) }); err != nil {
		return fmt.Errorf("postgres: create webhook: %w", err)
	}
	return nil
}

// WebhookGet reads one webhook.
func (s *Store) WebhookGet(ctx context.Context, ws, id model.ID) (model.Webhook, error) {
	var w model.Webhook
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM webhooks WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
	if noRows(err) {
		return w, notFound("webhook", id)
	}
	if err != nil {
		return w, fmt.Errorf("postgres: get webhook: %w", err)
	}
	return w, unmarshalBody(body, &w)
}

// WebhookList returns the workspace's webhooks by name.
func (s *Store) WebhookList(ctx context.Context, ws model.ID) ([]model.Webhook, error) {
	return listBodies[model.Webhook](ctx, s, `SELECT body FROM webhooks WHERE workspace_id = ? ORDER BY name, id`, []any{idv(ws)})
}

// WebhookUpdate applies fn to a webhook.
func (s *Store) WebhookUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Webhook) error) (model.Webhook, error) {
	var w model.Webhook
	err := s.write(ctx, func(tx *wtx) error {
		var body []byte
		err := tx.queryRow(`SELECT body FROM webhooks WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
		if noRows(err) {
			return notFound("webhook", id)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &w); err != nil {
			return err
		}
		if err := fn(&w); err != nil {
			return err
		}
		w.Updated = tx.s.now()
		return writeWebhook(tx, ws, &w, false)
	})
	if err != nil {
		return model.Webhook{}, fmt.Errorf("postgres: update webhook: %w", err)
	}
	return w, nil
}

// WebhookDelete deletes a webhook.
func (s *Store) WebhookDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM webhooks WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("webhook", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete webhook: %w", err)
	}
	return nil
}

// WebhookBySlug finds a webhook by slug across workspaces.
func (s *Store) WebhookBySlug(ctx context.Context, slug string) (model.ID, model.Webhook, error) {
	var w model.Webhook
	var wsb, body []byte
	err := s.queryRow(ctx, `SELECT workspace_id, body FROM webhooks WHERE slug = ?`, slug).Scan(&wsb, &body)
	if noRows(err) {
		return model.Nil, w, fmt.Errorf("webhook: %w", store.ErrNotFound)
	}
	if err != nil {
		return model.Nil, w, fmt.Errorf("postgres: webhook by slug: %w", err)
	}
	ws, err := scanID(wsb)
	if err != nil {
		return model.Nil, w, err
	}
	return ws, w, unmarshalBody(body, &w)
}
