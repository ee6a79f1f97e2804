package cli

// `baton cloud login` without --key: the browser flow `prefect cloud login`
// uses. This command serves POST /success and /failure on 127.0.0.1 and
// opens {ui}/auth/client?callback=http://127.0.0.1:PORT; the web UI, once
// the user signed in and authorized, posts {"api_key", "workspace"} there.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/term"
)

// browserLoginResult is what the web UI posts to /success.
type browserLoginResult struct {
	APIKey    string `json:"api_key"`
	Workspace string `json:"workspace"`
}

// uiBase is the web UI's root for an API root (http://h:4200/api →
// http://h:4200).
func uiBase(apiBase string) string {
	return strings.TrimSuffix(strings.TrimRight(apiBase, "/"), "/api")
}

// canOpenBrowser reports whether a browser login can be attended: the
// embedder supplied Env.OpenURL, $BROWSER names a browser, or stdin is a
// terminal with a person at it.
func (a *app) canOpenBrowser() bool {
	if a.env.OpenURL != nil || a.env.Getenv("BROWSER") != "" {
		return true
	}
	_, ok := a.stdinTerminal()
	return ok
}

// stdinTerminal returns stdin when it is an interactive terminal.
func (a *app) stdinTerminal() (*os.File, bool) {
	in, ok := a.env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, false
	}
	return in, true
}

// openURL opens u in the user's browser: Env.OpenURL, else $BROWSER (its
// %s replaced by the URL, or the URL appended), else xdg-open or open.
func (a *app) openURL(u string) error {
	if a.env.OpenURL != nil {
		return a.env.OpenURL(u)
	}
	var cmd *exec.Cmd
	if b := a.env.Getenv("BROWSER"); b != "" {
		args := strings.Fields(b)
		replaced := false
		for i, s := range args {
			if strings.Contains(s, "%s") {
				args[i], replaced = strings.ReplaceAll(s, "%s", u), true
			}
		}
		if !replaced {
			args = append(args, u)
		}
		cmd = exec.Command(args[0], args[1:]...)
	} else if runtime.GOOS == "darwin" {
		cmd = exec.Command("open", u)
	} else {
		cmd = exec.Command("xdg-open", u)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// browserLogin runs the login server, opens the UI and waits for the key.
func (a *app) browserLogin(ctx context.Context, apiBase string, timeout time.Duration) (browserLoginResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return browserLoginResult{}, fmt.Errorf("start the login server: %w", err)
	}
	defer ln.Close()
	origin := uiBase(apiBase)
	type outcome struct {
		res browserLoginResult
		err error
	}
	done := make(chan outcome, 1)
	answer := func(o outcome) {
		select {
		case done <- o:
		default:
		}
	}
	mux := http.NewServeMux()
	cors := func(w http.ResponseWriter) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	}
	mux.HandleFunc("OPTIONS /{path}", func(w http.ResponseWriter, _ *http.Request) { cors(w); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /success", func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		var res browserLoginResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&res); err != nil || res.APIKey == "" {
			http.Error(w, `{"detail":"body must be {\"api_key\": ...}"}`, http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
		answer(outcome{res: res})
	})
	mux.HandleFunc("POST /failure", func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		var f struct {
			Reason string `json:"reason"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&f)
		w.WriteHeader(http.StatusOK)
		if f.Reason == "" {
			f.Reason = "the browser reported a failure"
		}
		answer(outcome{err: errors.New("login failed: " + f.Reason)})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	callback := "http://" + ln.Addr().String()
	loginURL := origin + "/auth/client?callback=" + url.QueryEscape(callback)
	fmt.Fprintf(a.env.Stderr, "Opening the browser to log in. If it does not open, visit:\n  %s\nWaiting for the browser (up to %s)...\n", loginURL, timeout)
	if err := a.openURL(loginURL); err != nil {
		fmt.Fprintf(a.env.Stderr, "Could not open a browser (%v); open the URL above yourself.\n", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return browserLoginResult{}, fmt.Errorf("timed out after %s waiting for the browser login; run again, or log in with --key", timeout)
		}
		return browserLoginResult{}, ctx.Err()
	}
}
