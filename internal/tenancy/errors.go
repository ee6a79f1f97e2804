package tenancy

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// Error is a decision the caller shows to the client: an HTTP status and a
// message that is safe to send (it never contains a secret).
type Error struct {
	// Status is the HTTP status: 401, 403, 404, 409, 422 or 429.
	Status int
	// Msg is the public message.
	Msg string
	// RetryAfter is set on 429 (throttled sign-in).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

func fail(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// Errors for the common authentication outcomes. Messages are deliberately
// the same for "no such key" and "wrong key" so that probing learns nothing.
var (
	// ErrUnauthenticated: no credential, or one that is unknown, revoked or
	// expired.
	ErrUnauthenticated = &Error{Status: http.StatusUnauthorized, Msg: "Invalid authentication credentials: a valid API key (Authorization: Bearer <key>) or a signed-in session is required"}
	// ErrBadSignIn: the e-mail/password pair does not match.
	ErrBadSignIn = &Error{Status: http.StatusUnauthorized, Msg: "Invalid e-mail or password"}
)

// publicStoreError turns store sentinels into public errors naming what.
func publicStoreError(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		return fail(http.StatusConflict, "%s already exists", what)
	}
	return err
}
