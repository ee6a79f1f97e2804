package tenancy

import (
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// Kind classifies a refusal; the API maps each kind to its HTTP status in
// one place (api/errors.go).
type Kind int

const (
	// Unauthenticated: no credential, or one that does not hold (401).
	Unauthenticated Kind = iota + 1
	// Forbidden: the caller is known but its role does not allow it (403).
	Forbidden
	// NotFound: the object does not exist for this caller (404).
	NotFound
	// Conflict: the change would break a uniqueness or ownership rule (409).
	Conflict
	// Invalid: a field of the request is wrong; the message names it (422).
	Invalid
	// Throttled: too many failed attempts; retry after RetryAfter (429).
	Throttled
	// BadRequest: the request cannot be used as sent (a sign-in callback
	// with a wrong, expired or replayed state or code) (400).
	BadRequest
	// Upstream: an identity provider failed or could not be reached (502).
	Upstream
	// Gone: a one-time link that expired or was withdrawn (410).
	Gone
)

// Error is a decision the caller shows to the client: what kind of refusal
// it is and a message that is safe to send (it never contains a secret).
type Error struct {
	Kind Kind
	// Msg is the public message.
	Msg string
	// RetryAfter is set on Throttled (sign-in).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

func fail(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Errors for the common authentication outcomes. Messages are deliberately
// the same for "no such key" and "wrong key" so that probing learns nothing.
var (
	// ErrUnauthenticated: no credential, or one that is unknown, revoked or
	// expired.
	ErrUnauthenticated = &Error{Kind: Unauthenticated, Msg: "Invalid authentication credentials: a valid API key (Authorization: Bearer <key>) or a signed-in session is required"}
	// ErrBadSignIn: the e-mail/password pair does not match.
	ErrBadSignIn = &Error{Kind: Unauthenticated, Msg: "Invalid e-mail or password"}
)

// publicStoreError turns store sentinels into public errors naming what.
func publicStoreError(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(NotFound, "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		return fail(Conflict, "%s already exists", what)
	}
	return err
}
