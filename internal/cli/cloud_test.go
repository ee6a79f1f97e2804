package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv runs commands in-process with a private BATON_HOME and the given
// extra environment.
type testEnv struct {
	t    *testing.T
	home string
	vars map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	return &testEnv{t: t, home: t.TempDir(), vars: map[string]string{}}
}

func (e *testEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "BATON_HOME" {
			return e.home
		}
		return e.vars[k]
	}}
	code := Run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func (e *testEnv) profile() profilesFile {
	ps, err := loadProfiles(Env{Getenv: func(k string) string {
		if k == "BATON_HOME" {
			return e.home
		}
		return ""
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return ps.f
}

// fakeCloud answers GET /api/me/workspaces for one key.
func fakeCloud(t *testing.T, key string, handles ...string) *httptest.Server {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/me/workspaces" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"detail":"bad key"}`))
			return
		}
		var out []cloudWorkspace
		for i, h := range handles {
			acc, ws, _ := strings.Cut(h, "/")
			out = append(out, cloudWorkspace{AccountID: "a" + acc, AccountHandle: acc, WorkspaceID: "w" + string(rune('0'+i)), WorkspaceHandle: ws})
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(hs.Close)
	return hs
}

func TestCloudLoginLogoutWorkspaces(t *testing.T) {
	t.Parallel()
	key := "pnu_" + strings.Repeat("k", 36)
	hs := fakeCloud(t, key, "acme/prod", "acme/dev")
	e := newTestEnv(t)
	api := hs.URL + "/api"

	if code, _, errs := e.run("", "cloud", "login", "--key", "pnu_"+strings.Repeat("x", 36), "-w", "acme/prod", "--url", api); code != 1 || !strings.Contains(errs, "Unable to authenticate") {
		t.Fatalf("wrong key: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "cloud", "login", "--key", key, "--url", api); code != 1 || !strings.Contains(errs, "pick one with -w") {
		t.Fatalf("several workspaces without -w on a non-terminal: %d %q", code, errs)
	}
	if code, out, errs := e.run("", "cloud", "login", "--key", key, "-w", "acme/dev", "--url", api); code != 0 || !strings.Contains(out, "acme/dev") {
		t.Fatalf("login: %d %q %q", code, out, errs)
	}
	p := e.profile().Profiles["default"]
	if p["BATON_API_URL"] != api+"/accounts/aacme/workspaces/w1" || p["BATON_API_KEY"] != key || p["BATON_CLOUD_API_URL"] != api {
		t.Fatalf("profile after login: %v", p)
	}
	info, err := os.Stat(filepath.Join(e.home, "profiles.toml"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("profiles.toml mode: %v %v", info, err)
	}
	code, out, _ := e.run("", "cloud", "workspace", "ls")
	if code != 0 || !strings.Contains(out, "* acme/dev") || !strings.Contains(out, "  acme/prod") {
		t.Fatalf("workspace ls: %d %q", code, out)
	}
	if code, _, errs := e.run("", "cloud", "workspace", "set", "-w", "acme/prod"); code != 0 {
		t.Fatalf("workspace set: %s", errs)
	}
	if got := e.profile().Profiles["default"]["BATON_API_URL"]; !strings.HasSuffix(got, "/workspaces/w0") {
		t.Fatalf("after set: %s", got)
	}
	if code, _, _ := e.run("", "cloud", "logout"); code != 0 {
		t.Fatal("logout failed")
	}
	if p := e.profile().Profiles["default"]; p["BATON_API_KEY"] != "" || p["BATON_API_URL"] != "" {
		t.Fatalf("after logout: %v", p)
	}
	// The older forms.
	if code, _, errs := e.run("", "auth", "login", "--key", key, "-w", "acme/prod"); code != 0 {
		t.Fatalf("auth login (cloud URL kept in the profile): %s", errs)
	}
	if code, _, _ := e.run("", "backend", "server"); code != 0 {
		t.Fatal("backend server")
	}
	if p := e.profile().Profiles["default"]; p["BATON_API_URL"] != defaultAPIURL || p["BATON_API_KEY"] != "" || p["BATON_BACKEND"] != "server" {
		t.Fatalf("after backend server: %v", p)
	}
}

func TestProfilesAndConfig(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"profile", "create", "work"}, 0, "Created"},
		{[]string{"profile", "create", "work"}, 1, ""},
		{[]string{"profile", "use", "work"}, 0, "work"},
		{[]string{"config", "set", "BATON_API_URL=http://h:1/api", "BATON_API_KEY=pnu_abcdefghijklmnop"}, 0, "Updated"},
		{[]string{"config", "set", "NOPE=1"}, 2, ""},
		{[]string{"profile", "inspect"}, 0, "BATON_API_KEY=pnu_abcd********"},
		{[]string{"config", "view"}, 0, "BATON_API_URL=http://h:1/api (from profile)"},
		{[]string{"profile", "ls"}, 0, "* work"},
		{[]string{"profile", "delete", "work"}, 1, ""},
		{[]string{"profile", "rename", "work", "job"}, 0, "Renamed"},
		{[]string{"config", "unset", "BATON_API_KEY"}, 0, "Unset"},
		{[]string{"config", "unset", "BATON_API_KEY"}, 1, ""},
		{[]string{"profile", "use", "default"}, 0, ""},
		{[]string{"profile", "delete", "job"}, 0, "Deleted"},
	}
	for _, s := range steps {
		code, out, errs := e.run("", s.args...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Fatalf("baton %s: %d %q %q; want %d and %q", strings.Join(s.args, " "), code, out, errs, s.code, s.out)
		}
	}
}

func TestClientSettingPrecedence(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code, _, _ := e.run("", "config", "set", "BATON_API_URL=http://profile/api"); code != 0 {
		t.Fatal("config set")
	}
	ps := func() *profileStore {
		p, _ := loadProfiles(Env{Getenv: func(k string) string { return map[string]string{"BATON_HOME": e.home}[k] }})
		return p
	}()
	for _, tc := range []struct {
		name string
		vars map[string]string
		url  string
		key  string
	}{
		{"profile", nil, "http://profile/api", ""},
		{"env beats profile", map[string]string{"BATON_API_URL": "http://env/api"}, "http://env/api", ""},
		{"prefect only when no baton value", map[string]string{"PREFECT_API_URL": "http://prefect/api", "PREFECT_API_KEY": "pk"}, "http://profile/api", "pk"},
	} {
		env := Env{Getenv: func(k string) string { return tc.vars[k] }}
		got := resolveClient(env, ps)
		if got.APIURL != tc.url || got.APIKey != tc.key {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
	empty := &profileStore{f: profilesFile{Active: "d", Profiles: map[string]map[string]string{"d": {}}}}
	got := resolveClient(Env{Getenv: func(k string) string {
		return map[string]string{"PREFECT_API_URL": "http://h/api/accounts/a/workspaces/w"}[k]
	}}, empty)
	if got.APIURL != "http://h/api/accounts/a/workspaces/w" || got.CloudURL != "http://h/api" {
		t.Errorf("prefect fallback: %+v", got)
	}
}

func TestAdminCreateUser(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	code, out, errs := e.run("pa55word-long\n", "admin", "create-user", "--email", "ops@example.com", "--password-stdin", "--account", "ops", "--workspace", "main", "--api-key-name", "boot")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	if n := strings.Count(out, "pnu_"); n != 1 || strings.Contains(out, "pa55word") {
		t.Fatalf("output should show the key once and never the password:\n%s", out)
	}
	// Joining the existing account works; a duplicate e-mail does not.
	if code, _, errs := e.run("pa55word-long\n", "admin", "create-user", "--email", "ops2@example.com", "--password-stdin", "--account", "ops", "--workspace", "main"); code != 0 {
		t.Fatalf("second user in the same account: %s", errs)
	}
	if code, _, _ := e.run("pa55word-long\n", "admin", "create-user", "--email", "ops@example.com", "--password-stdin", "--account", "other"); code != 1 {
		t.Fatal("duplicate e-mail accepted")
	}
	if code, _, _ := e.run("", "admin", "create-user", "--email", "x@example.com", "--account", "a"); code != 2 {
		t.Fatal("missing --password-stdin accepted")
	}
}
