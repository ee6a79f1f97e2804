package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// effective runs `baton config view -o json` and returns the resolved
// settings.
func effective(t *testing.T, e *testEnv, args ...string) clientSettings {
	t.Helper()
	var out clientSettings
	if err := json.Unmarshal([]byte(e.mustRun(append(args, "config", "view", "-o", "json", "--show-secrets")...)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func writePrefectProfiles(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles.toml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServerAddressPrecedence(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	// The Prefect profile a `prefect config set` / `prefect cloud login` left.
	writePrefectProfiles(t, filepath.Join(e.home, "user-home", ".prefect"), `
active = "work"
[profiles.ephemeral]
PREFECT_SERVER_ALLOW_EPHEMERAL_MODE = true
[profiles.work]
PREFECT_API_URL = "http://prefect-profile:4200/api"
PREFECT_API_KEY = "pnu_fromprefectprofile"
[profiles.other]
PREFECT_API_URL = "http://other-prefect-profile:4200/api"
`)
	steps := []struct {
		name   string
		vars   map[string]string
		flag   bool
		url    string
		source string
	}{
		{"Prefect profile", nil, false, "http://prefect-profile:4200/api", `Prefect profile "work"`},
		{"PREFECT_PROFILE picks the Prefect profile", map[string]string{"PREFECT_PROFILE": "other"}, false, "http://other-prefect-profile:4200/api", `Prefect profile "other"`},
	}
	for _, s := range steps {
		e.vars = s.vars
		if e.vars == nil {
			e.vars = map[string]string{}
		}
		got := effective(t, e)
		if got.APIURL.Value != s.url || !strings.Contains(got.APIURL.Source, s.source) {
			t.Errorf("%s: %+v", s.name, got.APIURL)
		}
	}
	e.vars = map[string]string{}
	if got := effective(t, e); got.APIKey.Value != "pnu_fromprefectprofile" {
		t.Errorf("the Prefect profile's key is not used: %+v", got.APIKey)
	}

	// The Baton profile beats the Prefect profile; `config set` takes the
	// environment's names (PREFECT_API_URL is stored as BATON_API_URL).
	out := e.mustRun("config", "set", "PREFECT_API_URL=http://baton-profile:4200/api")
	if !strings.Contains(out, "stored as BATON_API_URL") {
		t.Errorf("config set PREFECT_API_URL: %q", out)
	}
	if p := e.profile().Profiles["default"]; p["BATON_API_URL"] != "http://baton-profile:4200/api" {
		t.Fatalf("profile after config set: %v", p)
	}
	layers := []struct {
		name   string
		set    map[string]string
		flag   string
		url    string
		source string
	}{
		{"profile", nil, "", "http://baton-profile:4200/api", `profile "default"`},
		{"BATON_HOST/BATON_PORT", map[string]string{"BATON_PORT": "4300"}, "", "http://127.0.0.1:4300/api", "environment BATON_HOST/BATON_PORT"},
		{"BATON_HOST 0.0.0.0 is dialled on loopback", map[string]string{"BATON_HOST": "0.0.0.0", "BATON_PORT": "4301"}, "", "http://127.0.0.1:4301/api", "BATON_HOST/BATON_PORT"},
		{"PREFECT_API_URL", map[string]string{"BATON_PORT": "4300", "PREFECT_API_URL": "http://prefect-env:4200/api"}, "", "http://prefect-env:4200/api", "environment PREFECT_API_URL"},
		{"BATON_API_URL", map[string]string{"BATON_PORT": "4300", "PREFECT_API_URL": "http://prefect-env:4200/api", "BATON_API_URL": "http://baton-env:4200/api/"}, "", "http://baton-env:4200/api", "environment BATON_API_URL"},
		{"--api-url", map[string]string{"BATON_API_URL": "http://baton-env:4200/api"}, "http://flag:4200/api", "http://flag:4200/api", "flag --api-url"},
	}
	for _, l := range layers {
		e.vars = map[string]string{}
		for k, v := range l.set {
			e.vars[k] = v
		}
		var args []string
		if l.flag != "" {
			args = []string{"--api-url", l.flag}
		}
		got := effective(t, e, args...)
		if got.APIURL.Value != l.url || !strings.Contains(got.APIURL.Source, l.source) {
			t.Errorf("%s: got %+v, want %s from %s", l.name, got.APIURL, l.url, l.source)
		}
	}

	// With nothing anywhere: the default, and a cloud URL derived from it.
	bare := newTestEnv(t)
	got := effective(t, bare)
	if got.APIURL.Value != defaultAPIURL || got.APIURL.Source != "default" || got.CloudURL.Value != defaultAPIURL {
		t.Errorf("defaults: %+v", got)
	}
	// A workspace URL from any source finds its cloud root.
	bare.vars["PREFECT_API_URL"] = "http://h:1/api/accounts/a/workspaces/w"
	if got := effective(t, bare); got.CloudURL.Value != "http://h:1/api" {
		t.Errorf("cloud URL from a workspace URL: %+v", got.CloudURL)
	}
	// BATON_PROFILE and --profile pick a profile for one invocation.
	e.vars = map[string]string{}
	e.mustRun("profile", "create", "staging")
	e.mustRun("--profile", "staging", "config", "set", "BATON_API_URL=http://staging:4200/api")
	if got := effective(t, e, "--profile", "staging"); got.APIURL.Value != "http://staging:4200/api" || got.Profile != "staging" {
		t.Errorf("--profile staging: %+v", got)
	}
	e.vars["BATON_PROFILE"] = "staging"
	if got := effective(t, e); got.APIURL.Value != "http://staging:4200/api" {
		t.Errorf("BATON_PROFILE=staging: %+v", got)
	}
	if p := e.profile(); p.Active != "default" {
		t.Errorf("--profile changed the active profile: %v", p.Active)
	}
}

// TestClientFindsAServerStartedWithBatonPort is the case: the
// server was started with BATON_PORT and no profile says otherwise, so the
// CLI must not dial 4200.
func TestClientFindsAServerStartedWithBatonPort(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(srv.api, "http://"), "/api"))
	e := newTestEnv(t)
	e.vars["BATON_PORT"] = port
	e.mustRun("work-pool", "create", "by-port")
	if out := e.mustRun("work-pool", "ls"); !strings.Contains(out, "by-port") {
		t.Errorf("work-pool ls: %q", out)
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
		{[]string{"config", "set", "BATON_API_URL=http://h:1/api", "PREFECT_API_KEY=pnu_abcdefghijklmnop"}, 0, "Updated"},
		{[]string{"config", "set", "NOPE=1"}, 2, ""},
		{[]string{"profile", "inspect"}, 0, "BATON_API_KEY=pnu_abcd********"},
		{[]string{"config", "view"}, 0, "http://h:1/api"},
		{[]string{"profile", "ls"}, 0, "* work"},
		{[]string{"profile", "delete", "work"}, 1, ""},
		{[]string{"profile", "rename", "work", "job"}, 0, "Renamed"},
		{[]string{"config", "unset", "PREFECT_API_KEY"}, 0, "Unset BATON_API_KEY"},
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
	// A variable in the environment overrides what config set stores: say so.
	e.vars["PREFECT_API_URL"] = "http://env:1/api"
	if _, _, errs := e.run("", "config", "set", "BATON_API_URL=http://p:1/api"); !strings.Contains(errs, "PREFECT_API_URL is also set in the environment") {
		t.Errorf("no warning about the environment: %q", errs)
	}
	info, err := os.Stat(filepath.Join(e.home, "profiles.toml"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("profiles.toml mode: %v %v", info, err)
	}
}
