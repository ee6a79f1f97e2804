// Package outbound holds Baton's HTTP client for calls it makes to other
// services on a user's behalf (identity providers' token, discovery and
// user endpoints), so that the domain packages that make those calls
// (tenancy's single sign-on) need not import net/http: serving HTTP is
// internal/api's business, and the boundary test in internal/runs keeps
// net/http out of the domain packages.
package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// client is shared by every outbound call; its timeout bounds a call that
// the caller's context does not.
var client = &http.Client{Timeout: 20 * time.Second}

// OIDCContext returns ctx carrying the outbound client, as go-oidc and
// golang.org/x/oauth2 expect it for discovery, key and token requests.
func OIDCContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, client)
}

// ErrUnreachable is returned by GetJSON when no answer came back.
var ErrUnreachable = errors.New("outbound: no answer")

// StatusError is returned by GetJSON for an answer other than 200.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("outbound: answered %d", e.Code) }

// ErrMalformed is returned by GetJSON when a 200 answer is not the JSON
// expected.
var ErrMalformed = errors.New("outbound: malformed JSON")

// GetJSON GETs url with the given request headers and decodes a 200
// answer's JSON (at most 1 MiB) into out.
func GetJSON(ctx context.Context, url string, headers map[string]string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &StatusError{Code: resp.StatusCode}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
