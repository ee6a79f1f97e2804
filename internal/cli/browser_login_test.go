package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// webUI does over HTTP what the web UI's /auth/client page does for a
// signed-in user: sign in, list workspaces, create the CLI's key for the
// picked one, post it to the callback.
func webUI(t *testing.T, api, email, password, pick string) func(string) error {
	return func(loginURL string) error {
		u, err := url.Parse(loginURL)
		if err != nil || u.Path != "/auth/client" {
			return fmt.Errorf("unexpected login URL %q", loginURL)
		}
		callback := u.Query().Get("callback")
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		do := func(method, path, csrf string, body, out any) error {
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			if csrf != "" {
				req.Header.Set("X-CSRF-Token", csrf)
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode >= 300 {
				return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
			}
			if out != nil {
				return json.NewDecoder(resp.Body).Decode(out)
			}
			return nil
		}
		go func() {
			var sess struct {
				CSRF string `json:"csrf_token"`
			}
			var ws []cloudWorkspace
			var key struct {
				Key       string `json:"key"`
				Workspace string `json:"workspace"`
			}
			err := do("POST", api+"/auth/signin", "", map[string]string{"email": email, "password": password}, &sess)
			if err == nil {
				err = do("GET", api+"/me/workspaces", "", nil, &ws)
			}
			id := ""
			for _, w := range ws {
				if w.handle() == pick {
					id = w.WorkspaceID
				}
			}
			if err == nil {
				err = do("POST", api+"/auth/client_key", sess.CSRF, map[string]any{"callback": callback, "workspace_id": id}, &key)
			}
			if err == nil {
				err = do("POST", callback+"/success", "", map[string]string{"api_key": key.Key, "workspace": key.Workspace}, nil)
			}
			if err != nil {
				t.Errorf("web UI: %v", err)
				_ = do("POST", callback+"/failure", "", map[string]string{"reason": err.Error()}, nil)
			}
		}()
		return nil
	}
}

// TestCloudLoginInBrowser: `baton cloud login` without --key opens the UI's
// /auth/client with a loopback callback and, once the browser side posts
// the new key with the workspace picked there, the profile points at that
// workspace (of two) with that key.
func TestCloudLoginInBrowser(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "cloud")
	line := cloudUser(t, srv)
	e := newTestEnv(t)
	e.mustRun(strings.Fields(line)[1:]...)
	e.mustRun("cloud", "workspace", "create", "dev")
	e.mustRun("cloud", "logout")

	e.openURL = webUI(t, srv.api, "ops@example.com", "pa55word-long", "acme/dev")
	code, out, errs := e.run("", "cloud", "login", "--url", srv.api)
	if code != 0 || !strings.Contains(out, "Using workspace acme/dev") || !strings.Contains(errs, "/auth/client?callback=http%3A%2F%2F127.0.0.1%3A") {
		t.Fatalf("browser login: %d\n%s\n%s", code, out, errs)
	}
	p := e.profile().Profiles["default"]
	if !strings.HasPrefix(p["BATON_API_KEY"], "pnu_") || !strings.HasSuffix(p["BATON_API_URL"], "/workspaces/"+wsID(t, e, "acme/dev")) {
		t.Fatalf("profile: %v", p)
	}
	// Cancelled in the browser: the command fails with the reason.
	e.openURL = func(loginURL string) error {
		u, _ := url.Parse(loginURL)
		go func() {
			resp, err := http.Post(u.Query().Get("callback")+"/failure", "application/json", strings.NewReader(`{"reason":"Login was cancelled in the browser."}`))
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
	if code, _, errs := e.run("", "cloud", "login", "--url", srv.api); code != 1 || !strings.Contains(errs, "cancelled in the browser") {
		t.Fatalf("cancelled: %d %s", code, errs)
	}
	// Nobody answers: a timeout naming --key.
	e.openURL = func(string) error { return nil }
	if code, _, errs := e.run("", "cloud", "login", "--url", srv.api, "--timeout", "300ms"); code != 1 || !strings.Contains(errs, "timed out") {
		t.Fatalf("timeout: %d %s", code, errs)
	}
}

func wsID(t *testing.T, e *testEnv, handle string) string {
	var ws []cloudWorkspace
	if err := json.Unmarshal([]byte(e.mustRun("cloud", "workspace", "ls", "-o", "json")), &ws); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.handle() == handle {
			return w.WorkspaceID
		}
	}
	t.Fatalf("no workspace %s", handle)
	return ""
}
