package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/automations"
	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/tenancy"
)

// Error is the one error type handlers return for anything a client should
// see: an HTTP status, a public detail rendered as {"detail": ...}, and an
// internal cause that is logged but never sent.
type Error struct {
	Status     int
	Detail     any
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %v: %v", e.Status, e.Detail, e.cause)
	}
	return fmt.Sprintf("%d %v", e.Status, e.Detail)
}

func (e *Error) Unwrap() error { return e.cause }

// errorf builds a client-facing error with a formatted detail.
func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Detail: fmt.Sprintf(format, args...)}
}

// notFound names the missing object.
func notFound(kind string, id any) *Error {
	return errorf(http.StatusNotFound, "%s %v not found", kind, id)
}

// toAPIError maps any error to an *Error: API errors pass through, tenancy
// decisions keep their status and public message, store sentinels become
// 404/409/423, and everything else is an internal 500. It is the one place
// domain errors become HTTP: handlers return them as they come.
func toAPIError(err error) *Error {
	var ae *Error
	var te *tenancy.Error
	var pe *runs.ParameterError
	var ve *automations.ValidationError
	var anf *automations.NotFoundError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &te):
		return &Error{Status: tenancyStatus[te.Kind], Detail: te.Msg, RetryAfter: te.RetryAfter, cause: err}
	case errors.As(err, &ve):
		return &Error{Status: http.StatusUnprocessableEntity, Detail: ve.Error(), cause: err}
	case errors.As(err, &anf):
		return &Error{Status: http.StatusNotFound, Detail: anf.Error(), cause: err}
	case errors.As(err, &pe):
		return &Error{Status: http.StatusConflict, Detail: pe.Error(), cause: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Detail: sentinelDetail(err, store.ErrNotFound), cause: err}
	case errors.Is(err, store.ErrStorageFull):
		return &Error{Status: http.StatusServiceUnavailable, RetryAfter: 5 * time.Second, cause: err,
			Detail: "the server's database disk is full; the write was not stored. Retry once space is freed"}
	case errors.Is(err, store.ErrBusy):
		return &Error{Status: http.StatusServiceUnavailable, RetryAfter: time.Second, cause: err,
			Detail: "the server is writing more than it can keep up with; the write was not stored. Retry shortly"}
	case errors.Is(err, store.ErrInvalidQuery):
		return &Error{Status: http.StatusUnprocessableEntity, Detail: err.Error(), cause: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Detail: sentinelDetail(err, store.ErrConflict), cause: err}
	case errors.Is(err, blocks.ErrProtected):
		return &Error{Status: http.StatusForbidden, Detail: publicDetail(err), cause: err}
	case errors.Is(err, blocks.ErrInvalidData):
		return &Error{Status: http.StatusUnprocessableEntity, Detail: publicDetail(err), cause: err}
	case errors.Is(err, blocks.ErrBadReference):
		return &Error{Status: http.StatusBadRequest, Detail: publicDetail(err), cause: err}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Detail: strings.TrimSuffix(sentinelDetail(err, store.ErrInvalid), " "+store.ErrInvalid.Error()), cause: err}
	case errors.Is(err, store.ErrSlotsBusy):
		return &Error{Status: http.StatusLocked, Detail: "concurrency slots are busy, retry later", RetryAfter: time.Second, cause: err}
	default:
		return &Error{Status: http.StatusInternalServerError, Detail: "Internal Server Error", cause: err}
	}
}

// sentinelDetail is the public message of a store sentinel error: the
// message of the error that wraps the sentinel directly, where the store
// names the object (`work pool "x": already exists` becomes `work pool "x"
// already exists`), without the layers above it, which name internals
// (the engine, the operation).
func sentinelDetail(err, sentinel error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if errors.Unwrap(e) == sentinel {
			return strings.Replace(e.Error(), ": "+sentinel.Error(), " "+sentinel.Error(), 1)
		}
	}
	return sentinel.Error()
}

// publicDetail is an error's text without the sentinel's own suffix
// ("...: protected"), which means nothing to a client.
func publicDetail(err error) string {
	msg := err.Error()
	for _, s := range []error{blocks.ErrProtected, blocks.ErrInvalidData, blocks.ErrBadReference} {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}

// tenancyStatus is the HTTP status of each kind of tenancy refusal.
var tenancyStatus = map[tenancy.Kind]int{
	tenancy.Unauthenticated: http.StatusUnauthorized,
	tenancy.Forbidden:       http.StatusForbidden,
	tenancy.NotFound:        http.StatusNotFound,
	tenancy.Conflict:        http.StatusConflict,
	tenancy.Invalid:         http.StatusUnprocessableEntity,
	tenancy.Throttled:       http.StatusTooManyRequests,
	tenancy.BadRequest:      http.StatusBadRequest,
	tenancy.Upstream:        http.StatusBadGateway,
	tenancy.Gone:            http.StatusGone,
}

// writeError renders err. 500s use Prefect's {"exception_message": ...}
// shape; everything else {"detail": ...}.
func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
	}
	if e.Status == http.StatusInternalServerError {
		writeJSON(w, e.Status, map[string]any{"exception_message": "Internal Server Error"})
		return
	}
	writeJSON(w, e.Status, map[string]any{"detail": e.Detail})
}

// streamMin is the list length from which responses are streamed.
const streamMin = 16

// jsonStreamer is a response that writes its own JSON piece by piece
// (pages of results), so a large answer is never held whole in memory.
type jsonStreamer interface {
	streamJSON(w *bufio.Writer) error
}

// writeJSON renders v with status. Lists (and pages of them) are streamed
// one element at a time through a small buffer instead of being encoded
// whole first, so a large answer costs one element of extra memory rather
// than a second copy of the answer; smaller values are encoded at once.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if st, ok := streamerOf(v); ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		bw := bufio.NewWriterSize(w, 32<<10)
		if err := st.streamJSON(bw); err != nil {
			// The status is sent; cut the connection so the client sees
			// a broken answer instead of a truncated one that parses.
			panic(http.ErrAbortHandler)
		}
		if err := bw.Flush(); err != nil {
			return // the client went away
		}
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"exception_message":"Internal Server Error"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// streamerOf returns v as a jsonStreamer when it is worth streaming.
func streamerOf(v any) (jsonStreamer, bool) {
	if st, ok := v.(jsonStreamer); ok {
		return st, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 && rv.Len() >= streamMin {
		return sliceStream{rv}, true
	}
	return nil, false
}

// sliceStream streams a list element by element.
type sliceStream struct{ v reflect.Value }

func (s sliceStream) streamJSON(w *bufio.Writer) error { return streamList(w, s.v) }

// streamList writes a JSON array of v's elements, each encoded on its own.
func streamList(w *bufio.Writer, v reflect.Value) error {
	if v.IsNil() {
		_, err := w.WriteString("null")
		return err
	}
	if err := w.WriteByte('['); err != nil {
		return err
	}
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			if err := w.WriteByte(','); err != nil {
				return err
			}
		}
		b, err := json.Marshal(v.Index(i).Interface())
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.WriteByte(']')
}
