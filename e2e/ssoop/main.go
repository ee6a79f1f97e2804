// Command ssoop runs the identity providers of the browser tests on
// loopback: an OpenID provider and a GitHub-style OAuth2 server (package
// ssotest), plus a control endpoint that queues who signs in next. It
// prints one JSON line with their URLs and credentials, then serves until
// SIGTERM or SIGINT.
//
//	POST {control}/queue {"kind":"oidc"|"github","email":"...","verified":true}
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/batonhq/baton/internal/ssotest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ssoop:", err)
		os.Exit(1)
	}
}

func run() error {
	op, err := ssotest.StartOIDC()
	if err != nil {
		return err
	}
	defer op.Shutdown()
	gh, err := ssotest.StartGitHub("e2e-github-client", "e2e-github-secret")
	if err != nil {
		return err
	}
	defer gh.Close()
	mux := http.NewServeMux()
	n := int64(100)
	mux.HandleFunc("POST /queue", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Kind     string `json:"kind"`
			Email    string `json:"email"`
			Verified bool   `json:"verified"`
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.Email == "" {
			http.Error(w, "body: {kind, email, verified}", http.StatusBadRequest)
			return
		}
		n++
		login := strings.Split(q.Email, "@")[0]
		switch q.Kind {
		case "oidc":
			op.QueueVerifiedUser(fmt.Sprintf("sub-%d", n), q.Email, q.Verified)
		case "github":
			gh.Queue(ssotest.GitHubUser{ID: n, Login: login, Emails: []ssotest.GitHubEmail{{Email: q.Email, Primary: true, Verified: q.Verified}}})
		default:
			http.Error(w, "kind: oidc or github", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, mux) }()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{
		"issuer": op.Issuer(), "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"github_url": gh.URL, "github_api_url": gh.URL + "/api", "github_client_id": gh.ClientID, "github_client_secret": gh.ClientSecret,
		"control": "http://" + ln.Addr().String(),
	})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}
