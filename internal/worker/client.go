// Package worker is Baton's process worker: it polls a work pool, claims due
// flow runs, runs each as a subprocess (the deployment's command, or
// Prefect's engine for Python deployments) with its environment and working
// directory, streams the output as logs, heartbeats, and honours
// cancellation. It talks to the server only through the public REST API.
package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client is a small JSON client for Baton's (Prefect-compatible) REST API,
// shared by the worker and the client-side CLI verbs.
type Client struct {
	// BaseURL is the API root, e.g. http://127.0.0.1:4200/api.
	BaseURL string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// HTTP is the transport (a client with a 90 s timeout when nil).
	HTTP *http.Client
}

// APIError is a non-2xx answer.
type APIError struct {
	Status int
	Method string
	Path   string
	Detail string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Detail)
}

// IsStatus reports whether err is an APIError with that status.
func IsStatus(err error, status int) bool {
	ae, ok := err.(*APIError)
	return ok && ae.Status == status
}

var defaultHTTP = &http.Client{Timeout: 90 * time.Second}

// Do sends body (nil for none) as JSON and decodes a JSON answer into out
// (nil to discard it).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	req.Header.Set("User-Agent", "baton-worker")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		detail := strings.TrimSpace(string(raw))
		var e struct {
			Detail any `json:"detail"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Detail != nil {
			detail = fmt.Sprint(e.Detail)
		}
		return &APIError{Status: resp.StatusCode, Method: method, Path: path, Detail: detail}
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
