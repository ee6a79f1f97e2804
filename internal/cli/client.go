package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/batonhq/baton/internal/worker"
)

// client resolves the API URL and key (see resolve) and returns a client
// for them. The settings are remembered so that errors can say which
// address was tried and where it came from.
func (a *app) client() (*worker.Client, error) {
	ps, err := a.loadProfiles()
	if err != nil {
		return nil, err
	}
	s := a.resolve(ps)
	a.used = &s
	if _, err := url.ParseRequestURI(s.APIURL.Value); err != nil || !strings.HasPrefix(s.APIURL.Value, "http") {
		return nil, usageError(fmt.Sprintf("the API URL %q (from %s) is not an http:// or https:// URL", s.APIURL.Value, s.APIURL.Source))
	}
	return &worker.Client{BaseURL: s.APIURL.Value, APIKey: s.APIKey.Value}, nil
}

// connectErr phrases a transport failure: which address, from where, and
// what to try.
func connectErr(addr, source string, err error) error {
	var ae *worker.APIError
	if errors.As(err, &ae) {
		return err
	}
	from := ""
	if source != "" {
		from = " (from " + source + ")"
	}
	reason := "no answer"
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.As(err, &dns):
		reason = "unknown host " + dns.Name
	case errors.As(err, &op) && op.Timeout(), strings.Contains(err.Error(), "Client.Timeout"):
		reason = "timed out"
	case errors.As(err, &op):
		reason = op.Err.Error()
	}
	return fmt.Errorf("cannot reach the Baton API at %s%s: %s.\n"+
		"Is the server running? Start one with `baton server start`, or point the CLI at yours with\n"+
		"--api-url, BATON_API_URL or `baton config set BATON_API_URL=http://HOST:PORT/api` (see `baton config view`)",
		addr, from, reason)
}

// explain turns an error from a command into a message that says what
// happened and what to do; API errors show the server's detail (which the
// server keeps free of internals), never a request dump.
func (a *app) explain(err error) string {
	var ae *worker.APIError
	if !errors.As(err, &ae) {
		var ue *url.Error
		if errors.As(err, &ue) && a.used != nil {
			return connectErr(a.used.APIURL.Value, a.used.APIURL.Source, err).Error()
		}
		return err.Error()
	}
	detail := strings.TrimSpace(ae.Detail)
	if detail == "" {
		detail = "no detail"
	}
	where := ""
	if a.used != nil {
		where = " at " + a.used.APIURL.Value
	}
	switch {
	case ae.Status == 401:
		if a.used != nil && a.used.APIKey.Value == "" {
			return "the server" + where + " needs an API key: log in with `baton cloud login --key K`, or set BATON_API_KEY"
		}
		src := ""
		if a.used != nil {
			src = " (from " + a.used.APIKey.Source + ")"
		}
		return "the server" + where + " refused the API key" + src + ": it may be revoked or expired, or for another server. Log in again with `baton cloud login --key K`"
	case ae.Status == 403:
		return "not allowed: " + detail + " (your role in this workspace does not permit it; ask an account admin)"
	case ae.Status == 404:
		return "not found: " + detail
	case ae.Status == 409:
		return detail
	case ae.Status == 422 || ae.Status == 400:
		return "the server refused the request: " + detail
	case ae.Status == 413:
		return "the request is too large for the server: " + detail
	case ae.Status == 423 || ae.Status == 429 || ae.Status == 503:
		return fmt.Sprintf("the server is busy (%d): %s; try again shortly", ae.Status, detail)
	case ae.Status >= 500:
		return fmt.Sprintf("the server failed (%d %s); its log has the details", ae.Status, detail)
	}
	return fmt.Sprintf("the server answered %d: %s", ae.Status, detail)
}
