package cli

import (
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	loginLine = regexp.MustCompile(`(?m)^  (baton cloud login .*)$`)
	keyLine   = regexp.MustCompile(`(?m)^(pn[ub]_[A-Za-z0-9]+)$`)
)

// cloudUser bootstraps a cloud-mode server with a user owning acme/prod and
// returns the printed login command.
func cloudUser(t *testing.T, srv testServer) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(srv.api, "http://"), "/api"))
	admin := newTestEnv(t)
	admin.vars["BATON_HOME"] = srv.home
	admin.vars["BATON_PORT"] = port
	code, out, errs := admin.run("pa55word-long\n", "admin", "create-user", "--email", "ops@example.com", "--password-stdin",
		"--account", "acme", "--workspace", "prod", "--api-key-name", "boot")
	if code != 0 {
		t.Fatalf("create-user: %d %s", code, errs)
	}
	if strings.Contains(out, "pa55word") || strings.Count(out, "pnu_") != 1 {
		t.Fatalf("the output must show the key exactly once and never the password:\n%s", out)
	}
	m := loginLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no login line in:\n%s", out)
	}
	return m[1]
}

// TestAdminLoginLineWorksAsPrinted runs the exact command `admin
// create-user` prints, in a fresh environment with no settings at all.
func TestAdminLoginLineWorksAsPrinted(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "cloud")
	line := cloudUser(t, srv)
	e := newTestEnv(t)
	args := strings.Fields(line)[1:]
	out := e.mustRun(args...)
	if !strings.Contains(out, "Using workspace acme/prod") {
		t.Fatalf("login: %s", out)
	}
	p := e.profile().Profiles["default"]
	if !strings.HasPrefix(p["BATON_API_URL"], srv.api+"/accounts/") || !strings.HasPrefix(p["BATON_API_KEY"], "pnu_") {
		t.Fatalf("profile after login: %v", p)
	}
	// The profile now reaches the workspace.
	e.mustRun("work-pool", "create", "cloudy")
	if out := e.mustRun("work-pool", "ls"); !strings.Contains(out, "cloudy") {
		t.Fatalf("work-pool ls in the workspace: %s", out)
	}
}

func TestCloudWorkspacesKeysAndServiceAccounts(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "cloud")
	line := cloudUser(t, srv)
	e := newTestEnv(t)
	e.mustRun(strings.Fields(line)[1:]...)

	// Workspaces: create (and use), list, delete (confirmation required).
	out := e.mustRun("cloud", "workspace", "create", "staging", "--name", "Staging", "--use")
	if !strings.Contains(out, "Created workspace acme/staging") {
		t.Fatalf("workspace create: %s", out)
	}
	var ws []cloudWorkspace
	if err := json.Unmarshal([]byte(e.mustRun("cloud", "workspace", "ls", "-o", "json")), &ws); err != nil || len(ws) != 2 {
		t.Fatalf("workspace ls -o json: %v %v", ws, err)
	}
	if out := e.mustRun("cloud", "workspace", "ls"); !regexp.MustCompile(`(?m)^\*\s+acme/staging`).MatchString(out) {
		t.Fatalf("the new workspace is not current:\n%s", out)
	}
	// Every workspace has the block types: the one create-user made and the
	// one made through the API (Baton's smtp-email among Prefect's).
	p := e.profile().Profiles["default"]
	staging := p["BATON_API_URL"]
	var urls []string
	for _, w := range ws {
		urls = append(urls, srv.api+"/accounts/"+w.AccountID+"/workspaces/"+w.WorkspaceID)
	}
	if !slices.Contains(urls, staging) {
		t.Fatalf("profile URL %s is not one of %v", staging, urls)
	}
	for _, url := range urls {
		for _, slug := range []string{"smtp-email", "slack-webhook", "secret"} {
			req, _ := http.NewRequest("GET", url+"/block_types/slug/"+slug, nil)
			req.Header.Set("Authorization", "Bearer "+p["BATON_API_KEY"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("block type %s in %s: %d", slug, url, resp.StatusCode)
			}
		}
	}
	if code, _, errs := e.run("", "cloud", "workspace", "delete", "acme/staging"); code != 2 || !strings.Contains(errs, "--yes") {
		t.Fatalf("delete without --yes: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "cloud", "workspace", "delete", "acme/nope", "--yes"); code != 1 || !strings.Contains(errs, `workspace "acme/nope" not found; available: acme/prod, acme/staging`) &&
		!strings.Contains(errs, `available: acme/staging, acme/prod`) {
		t.Fatalf("delete unknown: %d %q", code, errs)
	}
	out = e.mustRun("cloud", "workspace", "delete", "acme/staging", "--yes")
	if !strings.Contains(out, "Deleted workspace acme/staging") || !strings.Contains(out, "cloud workspace set") {
		t.Fatalf("workspace delete: %s", out)
	}
	e.mustRun("cloud", "workspace", "set", "-w", "acme/prod")

	// API keys: create with expiry, list, rotate, revoke.
	out = e.mustRun("cloud", "api-key", "create", "ci", "--expires", "30d")
	ciKey := keyLine.FindString(out)
	if ciKey == "" || !strings.Contains(out, "It expires") {
		t.Fatalf("api-key create: %s", out)
	}
	var keys []apiKeyView
	if err := json.Unmarshal([]byte(e.mustRun("cloud", "api-key", "ls", "-o", "json")), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("api-key ls: %v %v", keys, err)
	}
	if out := e.mustRun("cloud", "api-key", "ls"); !strings.Contains(out, "ci") || strings.Contains(out, ciKey) {
		t.Fatalf("api-key ls must list names, never secrets:\n%s", out)
	}
	out = e.mustRun("cloud", "api-key", "rotate", "ci")
	newCI := keyLine.FindString(out)
	if newCI == "" || newCI == ciKey {
		t.Fatalf("rotate: %s", out)
	}
	other := newTestEnv(t)
	if code, _, errs := other.run("", "cloud", "login", "--key", ciKey, "--url", srv.api); code != 1 || !strings.Contains(errs, "unable to authenticate") {
		t.Fatalf("the rotated-away secret still works: %d %q", code, errs)
	}
	other.mustRun("cloud", "login", "--key", newCI, "--url", srv.api)
	if code, _, errs := e.run("", "cloud", "api-key", "delete", "nope", "--yes"); code != 1 || !strings.Contains(errs, `no API key is named or has the id "nope"`) {
		t.Fatalf("delete unknown key: %d %q", code, errs)
	}
	e.mustRun("cloud", "api-key", "delete", "ci", "--yes")
	if code, _, errs := other.run("", "work-pool", "ls"); code != 1 || !strings.Contains(errs, "refused the API key") {
		t.Fatalf("a revoked key still works: %d %q", code, errs)
	}
	// Rotating the key the profile holds keeps the profile working.
	before := e.profile().Profiles["default"]["BATON_API_KEY"]
	_, _, errs := e.run("", "cloud", "api-key", "rotate", "boot")
	if after := e.profile().Profiles["default"]["BATON_API_KEY"]; after == before || !strings.Contains(errs, "now holds the new secret") {
		t.Fatalf("rotating the key in use did not update the profile: %q", errs)
	}
	e.mustRun("work-pool", "ls")

	// Service accounts and their keys.
	out = e.mustRun("cloud", "service-account", "create", "robot", "--role", "developer")
	botKey := keyLine.FindString(out)
	if !strings.HasPrefix(botKey, "pnb_") {
		t.Fatalf("service-account create: %s", out)
	}
	if out := e.mustRun("cloud", "service-account", "ls"); !strings.Contains(out, "robot") || !strings.Contains(out, "developer") {
		t.Fatalf("service-account ls: %s", out)
	}
	bot := newTestEnv(t)
	bot.mustRun("cloud", "login", "--key", botKey, "-w", "acme/prod", "--url", srv.api)
	bot.mustRun("work-pool", "create", "from-robot")
	out = e.mustRun("cloud", "service-account", "api-key", "create", "robot", "second")
	second := keyLine.FindString(out)
	if !strings.HasPrefix(second, "pnb_") {
		t.Fatalf("service-account api-key create: %s", out)
	}
	var botKeys []apiKeyView
	if err := json.Unmarshal([]byte(e.mustRun("cloud", "service-account", "api-key", "ls", "robot", "-o", "json")), &botKeys); err != nil || len(botKeys) != 2 {
		t.Fatalf("service-account api-key ls: %v %v", botKeys, err)
	}
	out = e.mustRun("cloud", "service-account", "api-key", "rotate", "robot", "second")
	if k := keyLine.FindString(out); !strings.HasPrefix(k, "pnb_") || k == second {
		t.Fatalf("service-account api-key rotate: %s", out)
	}
	e.mustRun("cloud", "service-account", "api-key", "delete", "robot", "second", "--yes")
	if code, _, errs := e.run("", "cloud", "service-account", "delete", "nobody", "--yes"); code != 1 || !strings.Contains(errs, "no service account \"nobody\"; there are: robot") {
		t.Fatalf("delete unknown service account: %d %q", code, errs)
	}
	e.mustRun("cloud", "service-account", "delete", "robot", "--yes")
	if code, _, _ := bot.run("", "work-pool", "ls"); code != 1 {
		t.Fatal("a deleted service account's key still works")
	}
}

func TestCloudLoginMistakes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "cloud")
	line := cloudUser(t, srv)
	key := strings.Fields(line)[4]
	e := newTestEnv(t)
	if code, _, errs := e.run("", "cloud", "login", "--key", "pnu_"+strings.Repeat("x", 36), "--url", srv.api); code != 1 || !strings.Contains(errs, "unable to authenticate") {
		t.Fatalf("wrong key: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "cloud", "login", "--key", key, "-w", "acme/nope", "--url", srv.api); code != 1 || !strings.Contains(errs, `workspace "acme/nope" not found; available: acme/prod`) {
		t.Fatalf("unknown workspace: %d %q", code, errs)
	}
	// Two workspaces and no -w on a non-terminal: say how to pick.
	e.mustRun("cloud", "login", "--key", key, "--url", srv.api)
	e.mustRun("cloud", "workspace", "create", "dev")
	e.mustRun("cloud", "logout")
	if code, _, errs := e.run("", "cloud", "login", "--key", key, "--url", srv.api); code != 2 || !strings.Contains(errs, "pick one with -w") {
		t.Fatalf("several workspaces without -w: %d %q", code, errs)
	}
	// Not logged in.
	if code, _, errs := e.run("", "cloud", "api-key", "ls"); code != 1 || !strings.Contains(errs, "not logged in: run `baton cloud login --key K`") {
		t.Fatalf("not logged in: %d %q", code, errs)
	}
	// The older forms.
	e.mustRun("auth", "login", "--key", key, "-w", "acme/prod", "--url", srv.api)
	e.mustRun("backend", "server")
	if p := e.profile().Profiles["default"]; p["BATON_API_URL"] != defaultAPIURL || p["BATON_API_KEY"] != "" || p["BATON_BACKEND"] != "server" {
		t.Fatalf("after backend server: %v", p)
	}
}

func TestAdminCreateUserRefusals(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code, _, errs := e.run("pa55word-long\n", "admin", "create-user", "--email", "ops@example.com", "--password-stdin", "--account", "ops", "--workspace", "main"); code != 0 {
		t.Fatalf("%s", errs)
	}
	if code, _, errs := e.run("pa55word-long\n", "admin", "create-user", "--email", "ops@example.com", "--password-stdin", "--account", "other"); code != 1 || strings.Contains(errs, "sqlite") {
		t.Fatalf("duplicate e-mail: %d %q", code, errs)
	}
	if code, _, _ := e.run("", "admin", "create-user", "--email", "x@example.com", "--account", "a"); code != 2 {
		t.Fatal("missing --password-stdin accepted")
	}
}

func TestErrorMessagesSayWhatToDo(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	e.mustRun("work-pool", "create", "dup")
	for _, tc := range []struct {
		args []string
		want string
	}{
		// The duplicate name says so, without the store's internals.
		{[]string{"work-pool", "create", "dup"}, `work pool "dup" already exists`},
		{[]string{"work-pool", "inspect", "nope"}, `no work pool "nope" (baton work-pool ls)`},
		{[]string{"deployment", "run", "flow/nope"}, `no deployment "flow/nope" (baton deployment ls)`},
		{[]string{"flow-run", "inspect", "0190f3a0-0000-7000-8000-000000000000"}, "no flow run has the id"},
		{[]string{"flow-run", "logs", "0190f3a0-0000-7000-8000-000000000000"}, "no flow run has the id"},
		{[]string{"deployment", "create", "d", "--pool", "missing", "--command", "true"}, "no work pool \"missing\": create it with `baton work-pool create missing`"},
		{[]string{"deployment", "create", "d", "--pool", "dup", "--command", "true", "--timezone", "Mars/Olympus", "--cron", "0 * * * *"}, `unknown time zone "Mars/Olympus"`},
	} {
		code, _, errs := e.run("", tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) || strings.Contains(errs, "sqlite") || strings.Contains(errs, "POST /") {
			t.Errorf("baton %s: %d %q; want %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
	// Nobody listens: name the address, where it came from, and what to do.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/api"
	ln.Close()
	code, _, errs := e.run("", "--api-url", dead, "flow-run", "ls")
	for _, want := range []string{"cannot reach the Baton API at " + dead + " (from flag --api-url): connection refused", "baton server start", "baton config view"} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("unreachable server: %d %q lacks %q", code, errs, want)
		}
	}
	// --state LATE is accepted (Prefect's state names, any case).
	if code, out, errs := e.run("", "flow-run", "ls", "--state", "LATE"); code != 0 || errs != "" || !strings.Contains(out, "No flow runs found") {
		t.Errorf("--state LATE: %d %q %q", code, out, errs)
	}
}
