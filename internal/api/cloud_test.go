package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// syncBuffer collects the server's log output for the secrets test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cloudServer is a cloud-mode API over a real SQLite file, with the log
// captured at debug level.
type cloudServer struct {
	*httptest.Server
	t      *testing.T
	srv    *Server
	ten    *tenancy.Service
	dbPath string
	logs   *syncBuffer
}

func newCloudServer(t *testing.T) *cloudServer {
	t.Helper()
	return newModeServer(t, tenancy.ModeCloud)
}

// newModeServer is newCloudServer in the given tenancy mode; opts adjust
// the tenancy service's configuration (mail, clock).
func newModeServer(t *testing.T, mode tenancy.Mode, opts ...func(*tenancy.Config)) *cloudServer {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "baton.db")
	logs := &syncBuffer{}
	cfg := testConfig(t, dbPath, mode, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ten := cfg.Tenancy
	return &cloudServer{Server: hs, t: t, srv: srv, ten: ten, dbPath: dbPath, logs: logs}
}

// tenant is a bootstrapped user with a key and their workspace.
type tenant struct {
	user    model.User
	account model.Account
	ws      model.WorkspaceDetails
	key     string
}

// base is the tenant's workspace API prefix (relative to the server).
func (tn tenant) base() string {
	return "/api/accounts/" + tn.account.ID.String() + "/workspaces/" + tn.ws.ID.String()
}

func (s *cloudServer) bootstrap(email, account, workspace string) tenant {
	s.t.Helper()
	res, err := s.ten.Bootstrap(context.Background(), tenancy.SignUp{Email: email, Password: "pw-" + email, AccountHandle: account, WorkspaceHandle: workspace})
	if err != nil {
		s.t.Fatal(err)
	}
	k, err := s.ten.CreateAPIKey(context.Background(), res.User.ID, "test", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return tenant{user: res.User, account: res.Account, ws: *res.Workspace, key: k.Key}
}

// call sends a request with an optional bearer key and JSON body and
// returns the status and raw body.
func (s *cloudServer) call(key, method, path string, body any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// mustCall is call that fails the test on an unexpected status and decodes
// the body into a map.
func (s *cloudServer) mustCall(key, method, path string, body any, want int) map[string]any {
	s.t.Helper()
	code, raw := s.call(key, method, path, body)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// openAPIRoute is one operation of the generated document.
type openAPIRoute struct {
	method, path string
	params       map[string]string // path parameter -> schema format/type
	hasBody      bool
	access       string // x-baton-access
}

// documentRoutes reads GET /api/openapi.json: the test walks what the
// server publishes, so a new route is walked without editing the test.
func (s *cloudServer) documentRoutes() []openAPIRoute {
	s.t.Helper()
	code, raw := s.call("", "GET", "/api/openapi.json", nil)
	if code != 200 {
		s.t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string         `json:"name"`
				In     string         `json:"in"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
			RequestBody any    `json:"requestBody"`
			Access      string `json:"x-baton-access"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		s.t.Fatal(err)
	}
	var out []openAPIRoute
	for p, ops := range doc.Paths {
		for m, o := range ops {
			rt := openAPIRoute{method: strings.ToUpper(m), path: p, params: map[string]string{}, hasBody: o.RequestBody != nil, access: o.Access}
			for _, prm := range o.Parameters {
				if prm.In == "path" {
					f, _ := prm.Schema["format"].(string)
					if f == "" {
						f, _ = prm.Schema["type"].(string)
					}
					rt.params[prm.Name] = f
				}
			}
			out = append(out, rt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	if len(out) < 40 {
		s.t.Fatalf("openapi.json lists only %d operations", len(out))
	}
	return out
}

// objects are one tenant's rows, created through the API, whose ids and
// names the walk plants in the other tenant's requests.
type objects struct {
	ids   map[string]string // path prefix ("flows") -> id
	names map[string]string // param name -> name
	all   []string          // every id, to look for in responses
}

func (s *cloudServer) seed(tn tenant) objects {
	s.t.Helper()
	o := objects{ids: map[string]string{}, names: map[string]string{}}
	add := func(prefix, id string) {
		o.ids[prefix] = id
		o.all = append(o.all, id)
	}
	flow := s.mustCall(tn.key, "POST", tn.base()+"/flows", map[string]any{"name": "secret-flow"}, 201)
	add("flows", flow["id"].(string))
	o.names["flow_name"] = "secret-flow"
	fr := s.mustCall(tn.key, "POST", tn.base()+"/flow_runs", map[string]any{"flow_id": flow["id"], "name": "secret-run"}, 201)
	add("flow_runs", fr["id"].(string))
	tr := s.mustCall(tn.key, "POST", tn.base()+"/task_runs", map[string]any{"flow_run_id": fr["id"], "task_key": "k", "dynamic_key": "0", "name": "secret-task"}, 201)
	add("task_runs", tr["id"].(string))
	// The rest is best effort: resources owned by other engineers may still
	// be changing shape; a missing one just leaves a random id in its place.
	try := func(prefix, path string, body map[string]any) map[string]any {
		code, raw := s.call(tn.key, "POST", tn.base()+path, body)
		if code != 201 && code != 200 {
			s.t.Logf("seed %s: %d %s (walk uses a random id instead)", path, code, raw)
			return nil
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		if id, ok := out["id"].(string); ok && prefix != "" {
			add(prefix, id)
		}
		return out
	}
	if try("work_pools", "/work_pools", map[string]any{"name": "secret-pool", "type": "process"}) != nil {
		o.names["work_pool_name"] = "secret-pool"
		o.names["name"] = "secret-pool"
	}
	if d := try("deployments", "/deployments", map[string]any{"name": "secret-dep", "flow_id": flow["id"]}); d != nil {
		o.names["deployment_name"] = "secret-dep"
	}
	if try("v2/concurrency_limits", "/v2/concurrency_limits", map[string]any{"name": "secret-limit", "limit": 1}) != nil {
		o.names["id_or_name"] = "secret-limit"
	}
	// A variable with the pool's name, so /variables/name/{name} is walked
	// with a name that exists in bob's workspace.
	try("variables", "/variables", map[string]any{"name": "secret-pool", "value": "bobs"})
	if try("artifacts", "/artifacts", map[string]any{"key": "secret-key", "type": "markdown", "data": "# bob", "flow_run_id": fr["id"]}) != nil {
		o.names["key"] = "secret-key"
	}
	if bt := try("block_types", "/block_types", map[string]any{"name": "Bob Type", "slug": "bob-type"}); bt != nil {
		o.names["slug"] = "bob-type"
		if bs := try("block_schemas", "/block_schemas", map[string]any{"block_type_id": bt["id"], "fields": map[string]any{"title": "Bob",
			"properties": map[string]any{"token": map[string]any{"type": "string"}}, "secret_fields": []string{"token"}}}); bs != nil {
			o.names["checksum"] = bs["checksum"].(string)
			if try("block_documents", "/block_documents", map[string]any{"name": "bob-doc", "block_type_id": bt["id"], "block_schema_id": bs["id"],
				"data": map[string]any{"token": "bobs-token-value"}}) != nil {
				o.names["block_document_name"] = "bob-doc"
			}
		}
	}
	// Account-level objects: a team and an open invitation.
	acc := "/api/accounts/" + tn.account.ID.String()
	team := s.mustCall(tn.key, "POST", acc+"/teams", map[string]any{"name": "secret-team"}, 201)
	o.ids["team"] = team["id"].(string)
	o.all = append(o.all, team["id"].(string))
	inv := s.mustCall(tn.key, "POST", acc+"/invitations", map[string]any{"email": "secret-invitee@example.com", "role": "viewer", "team_id": team["id"]}, 201)
	o.all = append(o.all, inv["id"].(string))
	return o
}

// fill substitutes a route's path parameters with the objects' ids and
// names; ok is false for a parameter the test does not know, which fails
// the test so that a new kind of route gets a deliberate decision here.
func (o objects) fill(rt openAPIRoute, account, workspace, user string, random bool) (string, bool) {
	ok := true
	prefix := strings.Split(strings.TrimPrefix(rt.path, "/"), "/")[0]
	if prefix == "v2" {
		prefix = "v2/" + strings.Split(strings.TrimPrefix(rt.path, "/"), "/")[1]
	}
	path := fillPath(rt.path, func(name string) string {
		switch name {
		case "account_id":
			return account
		case "workspace_id":
			return workspace
		case "user_id":
			return user
		case "countable":
			return "day"
		case "resource_id":
			return "prefect.deployment." + model.NewID().String()
		case "team_id":
			if id, found := o.ids["team"]; found && !random {
				return id
			}
			return model.NewID().String()
		}
		if random {
			if rt.params[name] == "uuid" {
				return model.NewID().String()
			}
			return "no-such-" + name
		}
		if rt.params[name] == "uuid" {
			if id, found := o.ids[prefix]; found && name == "id" {
				return id
			}
			if name == "id" || name == "lease_id" || name == "schedule_id" {
				return model.NewID().String()
			}
			if name == "name" { // a uuid-typed {name}: the pool's id is unknown here
				return model.NewID().String()
			}
		}
		if v, found := o.names[name]; found {
			return v
		}
		if name == "name" || name == "id_or_name" || name == "tag" || name == "key" || name == "view" {
			return "no-such-" + name
		}
		ok = false
		return "unknown"
	})
	return path, ok
}

// selfRoute: routes about the caller (their own keys, sessions, accounts
// list) that take no tenant's ids.
func selfRoute(path string) bool {
	return path == "/me" || strings.HasPrefix(path, "/me/") || strings.HasPrefix(path, "/auth/") || path == "/accounts"
}

// TestTenantIsolationEveryRoute walks every operation of the OpenAPI
// document with alice's key against bob's workspace and bob's object ids,
// with a viewer key against every write, and without a key: only 404, 403
// and 401 come back, nothing of bob's leaks, and bob's data is unchanged.
func TestTenantIsolationEveryRoute(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	alice := s.bootstrap("alice@example.com", "acme", "prod")
	bob := s.bootstrap("bob@example.com", "globex", "main")
	vic := s.bootstrap("vic@example.com", "vic", "home")
	if _, err := s.ten.SetMember(context.Background(), model.RoleOwner, alice.account.ID, "vic@example.com", model.RoleViewer); err != nil {
		t.Fatal(err)
	}
	bobs := s.seed(bob)
	snapshot := func() map[string]string {
		out := map[string]string{}
		for prefix, id := range bobs.ids {
			_, raw := s.call(bob.key, "GET", bob.base()+"/"+prefix+"/"+id, nil)
			out[prefix] = string(raw)
		}
		for _, q := range []string{"/flows/count", "/flow_runs/count", "/task_runs/count", "/deployments/count", "/work_pools/count", "/variables/count", "/artifacts/count", "/artifacts/latest/count", "/block_documents/count"} {
			code, raw := s.call(bob.key, "POST", bob.base()+q, map[string]any{})
			out[q] = string(raw) + " " + http.StatusText(code)
		}
		// Bob's account: teams (members, grants) and open invitations.
		for _, q := range []string{"/teams", "/invitations", "/members"} {
			code, raw := s.call(bob.key, "GET", "/api/accounts/"+bob.account.ID.String()+q, nil)
			out[q] = string(raw) + " " + http.StatusText(code)
		}
		return out
	}
	before := snapshot()

	routes := s.documentRoutes()
	seen := 0
	for _, rt := range routes {
		pattern := rt.method + " " + rt.path
		if rt.access == "anyone" {
			continue
		}
		seen++
		var body any
		if rt.hasBody {
			body = map[string]any{}
		}
		accountRoute := strings.HasPrefix(rt.path, "/accounts/")

		// 1. No credential at all: 401 everywhere.
		if p, ok := bobs.fill(rt, bob.account.ID.String(), bob.ws.ID.String(), bob.user.ID.String(), false); ok {
			target := p
			if !accountRoute && !selfRoute(rt.path) {
				target = bob.base() + p
			} else {
				target = "/api" + p
			}
			if code, raw := s.call("", rt.method, target, body); code != http.StatusUnauthorized {
				t.Errorf("%s without a key: %d, want 401: %.200s", pattern, code, raw)
			}
		}
		if selfRoute(rt.path) {
			continue
		}

		// 2. Alice's key against bob's workspace (or account) URL: 404.
		p, ok := bobs.fill(rt, bob.account.ID.String(), bob.ws.ID.String(), bob.user.ID.String(), false)
		if !ok {
			t.Errorf("%s: the isolation test does not know how to fill its path parameters %v; teach objects.fill", pattern, rt.params)
			continue
		}
		target := bob.base() + p
		if accountRoute {
			target = "/api" + p
		}
		code, raw := s.call(alice.key, rt.method, target, body)
		if code != http.StatusNotFound {
			t.Errorf("%s as alice on bob's workspace: %d, want 404: %.300s", pattern, code, raw)
		}
		if accountRoute {
			continue
		}

		// 3. Alice's key in her own workspace with bob's ids and names: the
		// answer must be the one for ids that exist nowhere, and must not
		// contain any of bob's ids.
		mine := alice.base() + p
		randomPath, _ := bobs.fill(rt, alice.account.ID.String(), alice.ws.ID.String(), alice.user.ID.String(), true)
		code, raw = s.call(alice.key, rt.method, mine, body)
		rcode, _ := s.call(alice.key, rt.method, alice.base()+randomPath, body)
		if strings.Contains(rt.path, "{") && code != rcode {
			t.Errorf("%s as alice with bob's ids: %d, but %d for unknown ids (existence leaks): %.300s", pattern, code, rcode, raw)
		}
		for _, id := range bobs.all {
			// Echoing the id of the request ("flow run X not found") is fine.
			if bytes.Contains(raw, []byte(id)) && !strings.Contains(p, id) {
				t.Errorf("%s as alice with bob's ids: response contains bob's id %s: %.300s", pattern, id, raw)
			}
		}

		// 4. A viewer of alice's workspace: every write is 403.
		if rt.access == "workspace:write" {
			code, raw := s.call(vic.key, rt.method, mine, body)
			if code != http.StatusForbidden {
				t.Errorf("%s as a viewer: %d, want 403: %.300s", pattern, code, raw)
			}
		}
	}
	// The account-level administration as a viewer of the account.
	for _, rt := range routes {
		if rt.access != "account:manage" && rt.access != "account:own" {
			continue
		}
		p, _ := bobs.fill(rt, alice.account.ID.String(), alice.ws.ID.String(), alice.user.ID.String(), true)
		if code, raw := s.call(vic.key, rt.method, "/api"+p, map[string]any{}); code != http.StatusForbidden {
			t.Errorf("%s %s as an account viewer: %d, want 403: %.300s", rt.method, rt.path, code, raw)
		}
	}
	if seen < 40 {
		t.Fatalf("walked only %d routes", seen)
	}
	after := snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("bob's %s changed during the walk:\nbefore %s\nafter  %s", k, v, after[k])
		}
	}
	// The audit log: alice's holds nothing of bob's account, bob's holds
	// alice's refused attempts (and nothing she changed).
	code, raw := s.call(alice.key, "GET", "/api/accounts/"+alice.account.ID.String()+"/audit_log?limit=1000", nil)
	if code != 200 {
		t.Fatalf("alice's audit log: %d %s", code, raw)
	}
	for _, id := range append(bobs.all, bob.account.ID.String(), bob.user.ID.String()) {
		if bytes.Contains(raw, []byte(id)) {
			t.Errorf("alice's audit log mentions bob's %s", id)
		}
	}
	var bobsLog []model.AuditEvent
	_, raw = s.call(bob.key, "GET", "/api/accounts/"+bob.account.ID.String()+"/audit_log?limit=1000&actor_id="+alice.user.ID.String(), nil)
	if err := json.Unmarshal(raw, &bobsLog); err != nil || len(bobsLog) == 0 {
		t.Fatalf("bob's audit log has none of alice's attempts: %v %.300s", err, raw)
	}
	for _, e := range bobsLog {
		if e.Outcome != model.AuditDenied {
			t.Errorf("alice has a %s %s in bob's audit log", e.Outcome, e.Action)
		}
	}
}

// TestSecretsNeverStoredOrLogged runs a full flow (sign-up, sign-in, key
// create/use/rotate/revoke, a failed sign-in) and then greps the SQLite
// files, the log and every API response for the clear-text secrets.
func TestSecretsNeverStoredOrLogged(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	const password = "Sup3r-Secret-Passphrase-42"
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	var responses bytes.Buffer
	send := func(method, path string, body any, csrf string) (int, map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set(csrfHeader, csrf)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		responses.Write(b)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	code, up := send("POST", "/api/auth/signup", map[string]any{"email": "Carol@Example.com", "password": password, "account_handle": "carol", "workspace_handle": "main"}, "")
	if code != 201 {
		t.Fatalf("signup: %d %v", code, up)
	}
	csrf, _ := up["csrf_token"].(string)
	code, created := send("POST", "/api/me/api_keys", map[string]any{"name": "laptop"}, csrf)
	if code != 201 {
		t.Fatalf("create key: %d %v", code, created)
	}
	key := created["key"].(string)
	if !strings.HasPrefix(key, "pnu_") || len(key) != 40 {
		t.Fatalf("key %q is not pnu_ + 36 characters", key)
	}
	ws := "/api/accounts/" + up["account"].(map[string]any)["id"].(string) + "/workspaces/" + up["workspace"].(map[string]any)["id"].(string)
	s.mustCall(key, "POST", ws+"/flows", map[string]any{"name": "f"}, 201)
	code, rotated := send("POST", "/api/me/api_keys/"+created["id"].(string)+"/rotate", nil, csrf)
	if code != 200 {
		t.Fatalf("rotate: %d %v", code, rotated)
	}
	newKey := rotated["key"].(string)
	if c, _ := s.call(key, "POST", ws+"/flows/count", map[string]any{}); c != 401 {
		t.Errorf("old key after rotation: %d, want 401", c)
	}
	s.mustCall(newKey, "POST", ws+"/flows/count", map[string]any{}, 200)
	// A signed-in session with the password, and one failed attempt.
	_, _ = send("POST", "/api/auth/signin", map[string]any{"email": "carol@example.com", "password": password + "x"}, "")
	if code, _ := send("POST", "/api/auth/signin", map[string]any{"email": "carol@example.com", "password": password}, ""); code != 200 {
		t.Fatalf("signin: %d", code)
	}
	code, list := send("GET", "/api/me/api_keys", nil, "")
	if code != 200 {
		t.Fatalf("list keys: %d %v", code, list)
	}
	if code, _ := send("DELETE", "/api/me/api_keys/"+created["id"].(string), nil, csrf); code != 403 {
		t.Errorf("delete with the old session's CSRF token after a new sign-in: %d, want 403", code)
	}
	_, sess := send("GET", "/api/auth/session", nil, "")
	if code, _ := send("DELETE", "/api/me/api_keys/"+created["id"].(string), nil, sess["csrf_token"].(string)); code != 204 {
		t.Errorf("delete key: %d", code)
	}

	var stored []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(s.dbPath + suffix)
		if err == nil {
			stored = append(stored, b...)
		}
	}
	if len(stored) == 0 {
		t.Fatal("read nothing from the database files")
	}
	if !bytes.Contains(stored, []byte("carol@example.com")) {
		t.Fatal("the database files do not even hold the e-mail; the grep would prove nothing")
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "sign-in failed") {
		t.Fatalf("the log does not show the flow; the grep would prove nothing:\n%s", logs)
	}
	// The creation and rotation responses legitimately carry the keys once.
	others := bytes.ReplaceAll(bytes.ReplaceAll(responses.Bytes(), []byte(key), nil), []byte(newKey), nil)
	for _, secret := range []string{password, key, newKey, key[4:], newKey[4:]} {
		if bytes.Contains(stored, []byte(secret)) {
			t.Errorf("the database files contain a secret in clear (%.8s…)", secret)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret in clear (%.8s…)", secret)
		}
	}
	if bytes.Contains(others, []byte(password)) || bytes.Count(responses.Bytes(), []byte(key)) != 1 || bytes.Count(responses.Bytes(), []byte(newKey)) != 1 {
		t.Error("a response other than the creating one contains a key, or one contains the password")
	}
}

// TestSessionCookieAndCSRF checks the cookie's flags and that browser
// writes need the CSRF token and a same-origin Origin.
func TestSessionCookieAndCSRF(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	tn := s.bootstrap("dave@example.com", "dave", "main")
	raw, _ := json.Marshal(map[string]any{"email": "dave@example.com", "password": "pw-dave@example.com"})
	for _, tc := range []struct {
		name   string
		proto  string
		secure bool
	}{{"plain http", "", false}, {"behind a TLS proxy", "https", true}} {
		req, _ := http.NewRequest("POST", s.URL+"/api/auth/signin", bytes.NewReader(raw))
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var c *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				c = ck
			}
		}
		if c == nil {
			t.Fatalf("%s: no session cookie (status %d)", tc.name, resp.StatusCode)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/" {
			t.Errorf("%s: cookie flags HttpOnly=%v SameSite=%v Secure=%v Path=%q", tc.name, c.HttpOnly, c.SameSite, c.Secure, c.Path)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Post(s.URL+"/api/auth/signin", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var info sessionInfo
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.CSRFToken == "" {
		t.Fatal("sign-in returned no CSRF token")
	}
	flows := tn.base() + "/flows"
	for _, tc := range []struct {
		name   string
		method string
		token  string
		origin string
		want   int
	}{
		{"query POST without token", "POST", "", "", 403},
		{"write without token", "POST", "", "", 403},
		{"write with a wrong token", "POST", "nope", "", 403},
		{"write with the token", "POST", info.CSRFToken, "", 201},
		{"write from another origin", "POST", info.CSRFToken, "https://evil.example", 403},
		{"write from our origin", "POST", info.CSRFToken, s.URL, 201},
	} {
		path := flows
		if strings.HasPrefix(tc.name, "query") {
			path = flows + "/filter"
		}
		req, _ := http.NewRequest(tc.method, s.URL+path, strings.NewReader(`{"name":"`+strings.ReplaceAll(tc.name, " ", "-")+`"}`))
		if tc.token != "" {
			req.Header.Set(csrfHeader, tc.token)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, resp.StatusCode, tc.want, b)
		}
	}
	// GET reads carry no token.
	resp, err = browser.Get(s.URL + tn.base() + "/flows/" + model.NewID().String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET with a session: %d, want 404 (authorized, object missing)", resp.StatusCode)
	}
	// A bearer key needs no CSRF token.
	if code, raw := s.call(tn.key, "POST", flows, map[string]any{"name": "from-cli"}); code != 201 {
		t.Errorf("bearer write: %d %s", code, raw)
	}
}

// TestSignInThrottled locks an e-mail after repeated failures, even for the
// right password, and reports Retry-After.
func TestSignInThrottled(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	s.bootstrap("erin@example.com", "erin", "main")
	signin := func(pw string) (int, string) {
		raw, _ := json.Marshal(map[string]any{"email": "erin@example.com", "password": pw})
		resp, err := http.Post(s.URL+"/api/auth/signin", "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 5 {
		if code, _ := signin("wrong"); code != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	code, retry := signin("pw-erin@example.com")
	if code != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("after 5 failures the right password got %d (Retry-After %q), want 429 with Retry-After", code, retry)
	}
}

// TestMeWorkspacesShape checks the fields the Prefect CLI requires.
func TestMeWorkspacesShape(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	tn := s.bootstrap("fay@example.com", "fay", "main")
	code, raw := s.call(tn.key, "GET", "/api/me/workspaces", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil || len(got) != 1 {
		t.Fatalf("%v %s", err, raw)
	}
	for _, f := range []string{"account_id", "account_name", "account_handle", "workspace_id", "workspace_name", "workspace_description", "workspace_handle"} {
		if _, ok := got[0][f].(string); !ok {
			t.Errorf("field %s missing or not a string: %s", f, raw)
		}
	}
	if got[0]["workspace_id"] != tn.ws.ID.String() || got[0]["account_handle"] != "fay" {
		t.Errorf("wrong workspace: %s", raw)
	}
	for _, bad := range []string{"", "pnu_" + strings.Repeat("a", 36), "garbage"} {
		if code, _ := s.call(bad, "GET", "/api/me/workspaces", nil); code != 401 {
			t.Errorf("key %q: %d, want 401", bad, code)
		}
	}
}

// TestEveryRouteDeclaresAccess: a route without a declared access level
// fails here, and the levels that viewers and anonymous callers rely on are
// pinned for the routes where a wrong choice would be a hole.
func TestEveryRouteDeclaresAccess(t *testing.T) {
	t.Parallel()
	srv := &Server{}
	routes := srv.allRoutes()
	got := map[string]access{}
	for _, rt := range routes {
		if rt.access == undeclared {
			t.Errorf("%s %s declares no access level", rt.method, rt.path)
		}
		got[rt.method+" "+rt.path] = rt.access
	}
	for pattern, want := range map[string]access{
		"GET /health":                            anyone,
		"POST /auth/signin":                      anyone,
		"GET /flows/{id}":                        wsRead,
		"POST /flows/filter":                     wsRead,
		"POST /flow_runs/count":                  wsRead,
		"POST /flow_runs/history":                wsRead,
		"POST /events/count-by/{countable}":      wsRead,
		"GET /events/in":                         wsWrite,
		"GET /events/out":                        wsRead,
		"POST /flows":                            wsWrite,
		"PATCH /flows/{id}":                      wsWrite,
		"DELETE /flows/{id}":                     wsWrite,
		"POST /flow_runs/{id}/set_state":         wsWrite,
		"GET /me/api_keys":                       authenticated,
		"POST /accounts/{account_id}/workspaces": accountManage,
		"GET /accounts/{account_id}/members":     accountRead,
		"PATCH /accounts/{account_id}":           accountOwn,
		"GET /accounts/{account_id}/service_accounts/{user_id}/api_keys":       accountManage,
		"GET /accounts/{account_id}/audit_log":                                 accountManage,
		"POST /accounts/{account_id}/invitations":                              accountManage,
		"GET /accounts/{account_id}/invitations":                               accountManage,
		"POST /accounts/{account_id}/teams":                                    accountManage,
		"PUT /accounts/{account_id}/teams/{team_id}/workspaces/{workspace_id}": accountManage,
	} {
		if got[pattern] != want {
			t.Errorf("%s: access %s, want %s", pattern, got[pattern], want)
		}
	}
	// Everything anonymous callers may reach is listed here on purpose.
	var open []string
	for p, a := range got {
		if a == anyone {
			open = append(open, p)
		}
	}
	slices.Sort(open)
	wantOpen := []string{"GET /auth/providers", "GET /auth/session", "GET /auth/sso/{name}/callback", "GET /auth/sso/{name}/start", "GET /csrf-token", "GET /health", "GET /hello", "GET /openapi.json", "GET /ready", "GET /version",
		// The one-time links (the token is the credential) and the reset request.
		"POST /auth/invitations/accept", "POST /auth/invitations/inspect", "POST /auth/password_reset", "POST /auth/password_reset/confirm",
		"POST /auth/signin", "POST /auth/signout", "POST /auth/signup"}
	if !slices.Equal(open, wantOpen) {
		t.Errorf("routes open to anyone:\n got  %v\n want %v", open, wantOpen)
	}
}

// TestServerModeUnknownAccount: in server mode the open caller owns every
// account, and creating a workspace in one that does not exist hit a
// foreign-key error (500). It is a 404 naming the account.
func TestServerModeUnknownAccount(t *testing.T) {
	t.Parallel()
	s := newModeServer(t, tenancy.ModeServer)
	unknown := model.NewID().String()
	for _, rq := range []struct{ method, path string }{
		{"POST", "/api/accounts/" + unknown + "/workspaces"},
		{"GET", "/api/accounts/" + unknown + "/workspaces"},
	} {
		code, body := s.call("", rq.method, rq.path, map[string]any{"name": "w", "handle": "w"})
		if code != 404 || !strings.Contains(string(body), unknown) {
			t.Errorf("%s %s: %d %s, want 404 naming the account", rq.method, rq.path, code, body)
		}
	}
}
