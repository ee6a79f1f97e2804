package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// cloudWorkspace is one item of GET /api/me/workspaces.
type cloudWorkspace struct {
	AccountID            string `json:"account_id"`
	AccountName          string `json:"account_name"`
	AccountHandle        string `json:"account_handle"`
	WorkspaceID          string `json:"workspace_id"`
	WorkspaceName        string `json:"workspace_name"`
	WorkspaceDescription string `json:"workspace_description"`
	WorkspaceHandle      string `json:"workspace_handle"`
	Role                 string `json:"role"`
}

// handle is "account/workspace", what -w takes.
func (w cloudWorkspace) handle() string { return w.AccountHandle + "/" + w.WorkspaceHandle }

// apiURL is the workspace's API URL under a cloud base.
func (w cloudWorkspace) apiURL(base string) string {
	return strings.TrimRight(base, "/") + "/accounts/" + w.AccountID + "/workspaces/" + w.WorkspaceID
}

// errUnauthenticated is a 401/403 from /me/workspaces.
var errUnauthenticated = errors.New("unable to authenticate")

// fetchWorkspaces calls GET {base}/me/workspaces with the key.
func fetchWorkspaces(ctx context.Context, base, key string) ([]cloudWorkspace, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/me/workspaces", nil)
	if err != nil {
		return nil, fmt.Errorf("bad cloud URL %q: %w", base, err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("User-Agent", "baton/"+Version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("error connecting to %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, errUnauthenticated
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("error connecting to %s: %s %s", base, resp.Status, strings.TrimSpace(string(body)))
	}
	var ws []cloudWorkspace
	if err := json.Unmarshal(body, &ws); err != nil {
		return nil, fmt.Errorf("unexpected answer from %s/me/workspaces: %w", base, err)
	}
	return ws, nil
}

func cloudCommands() map[string]command {
	return map[string]command{
		"login":  {summary: "Log in with an API key and pick a workspace: login --key K [-w account/workspace]", run: cloudLogin},
		"logout": {summary: "Remove the API URL and key from the active profile", run: cloudLogout},
		"workspace": {summary: "List or switch workspaces", subs: map[string]command{
			"ls":  {summary: "List the workspaces the key reaches (* marks the current one)", run: cloudWorkspaceLs},
			"set": {summary: "Switch workspace: set [-w account/workspace]", run: cloudWorkspaceSet},
		}},
	}
}

// keyHint explains a key that was refused.
func keyHint(key string) string {
	switch {
	case strings.HasPrefix(key, "pnu_") || strings.HasPrefix(key, "pnb_"):
		return "the key may be revoked, expired or for another server"
	default:
		return "Baton keys start with pnu_ (users) or pnb_ (service accounts)"
	}
}

func cloudLogin(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton cloud login", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	key := fs.String("key", "", "API key (pnu_… or pnb_…)")
	fs.StringVar(key, "k", "", "shorthand for --key")
	wsHandle := fs.String("workspace", "", "account_handle/workspace_handle")
	fs.StringVar(wsHandle, "w", "", "shorthand for --workspace")
	url := fs.String("url", "", "the cloud-mode server's API root, e.g. http://host:4200/api (default: BATON_CLOUD_API_URL, or derived from the current API URL)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *key == "" {
		fmt.Fprintln(env.Stderr, "baton: --key is required (create a key on the API keys page of the web UI, or with `baton admin create-user`)")
		return 2
	}
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		base := *url
		if base == "" {
			base = resolveClient(env, ps).CloudURL
		}
		ws, err := fetchWorkspaces(ctx, base, *key)
		if errors.Is(err, errUnauthenticated) {
			return false, fmt.Errorf("Unable to authenticate with %s: %s", base, keyHint(*key))
		}
		if err != nil {
			return false, err
		}
		if len(ws) == 0 {
			return false, errors.New("this key reaches no workspace; create one in the web UI first")
		}
		chosen, err := chooseWorkspace(env, ws, *wsHandle, ps.active()["BATON_API_URL"], base)
		if err != nil {
			return false, err
		}
		p := ps.active()
		p["BATON_API_URL"] = chosen.apiURL(base)
		p["BATON_API_KEY"] = *key
		p["BATON_CLOUD_API_URL"] = base
		p["BATON_BACKEND"] = "cloud"
		fmt.Fprintf(env.Stdout, "Authenticated. Using workspace %s.\nProfile %q now points at %s\n", chosen.handle(), ps.f.Active, p["BATON_API_URL"])
		return true, nil
	})
}

// chooseWorkspace applies -w, then the current URL, then a single
// workspace, then the interactive picker on a terminal.
func chooseWorkspace(env Env, ws []cloudWorkspace, want, currentURL, base string) (cloudWorkspace, error) {
	if want != "" {
		for _, w := range ws {
			if w.handle() == want {
				return w, nil
			}
		}
		return cloudWorkspace{}, fmt.Errorf("workspace %q not found; available: %s", want, handles(ws))
	}
	for _, w := range ws {
		if currentURL != "" && w.apiURL(base) == strings.TrimRight(currentURL, "/") {
			return w, nil
		}
	}
	if len(ws) == 1 {
		return ws[0], nil
	}
	in, ok := env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return cloudWorkspace{}, fmt.Errorf("several workspaces are available; pick one with -w (%s)", handles(ws))
	}
	return pickWorkspace(in, env.Stdout, ws)
}

func handles(ws []cloudWorkspace) string {
	hs := make([]string, len(ws))
	for i, w := range ws {
		hs[i] = w.handle()
	}
	return strings.Join(hs, ", ")
}

// pickWorkspace shows a list the user moves through with the arrow keys
// (or j/k) and confirms with Enter; q or Ctrl-C cancels.
func pickWorkspace(in *os.File, out io.Writer, ws []cloudWorkspace) (cloudWorkspace, error) {
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return cloudWorkspace{}, fmt.Errorf("interactive picker: %w", err)
	}
	defer term.Restore(int(in.Fd()), old)
	sel := 0
	draw := func(first bool) {
		if !first {
			fmt.Fprintf(out, "\x1b[%dA", len(ws)+1)
		}
		fmt.Fprint(out, "\rWhich workspace? (↑/↓, Enter to choose, q to cancel)\x1b[K\r\n")
		for i, w := range ws {
			cursor := "  "
			if i == sel {
				cursor = "> "
			}
			fmt.Fprintf(out, "\r%s%s\x1b[K\r\n", cursor, w.handle())
		}
	}
	draw(true)
	r := bufio.NewReader(in)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return cloudWorkspace{}, fmt.Errorf("interactive picker: %w", err)
		}
		switch b {
		case '\r', '\n':
			return ws[sel], nil
		case 'q', 3, 4: // q, Ctrl-C, Ctrl-D
			return cloudWorkspace{}, errors.New("cancelled")
		case 'k':
			sel = (sel + len(ws) - 1) % len(ws)
		case 'j':
			sel = (sel + 1) % len(ws)
		case 0x1b:
			seq := make([]byte, 2)
			if _, err := io.ReadFull(r, seq); err != nil {
				return cloudWorkspace{}, err
			}
			if seq[0] == '[' && seq[1] == 'A' {
				sel = (sel + len(ws) - 1) % len(ws)
			}
			if seq[0] == '[' && seq[1] == 'B' {
				sel = (sel + 1) % len(ws)
			}
		}
		draw(false)
	}
}

func cloudLogout(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		p := ps.active()
		if p["BATON_API_KEY"] == "" && p["BATON_API_URL"] == "" {
			fmt.Fprintln(env.Stdout, "Not logged in.")
			return false, nil
		}
		delete(p, "BATON_API_KEY")
		delete(p, "BATON_API_URL")
		fmt.Fprintf(env.Stdout, "Logged out from profile %q.\n", ps.f.Active)
		return true, nil
	})
}

// loggedIn returns the resolved settings and the key's workspaces.
func loggedIn(ctx context.Context, env Env, ps *profileStore) (clientSettings, []cloudWorkspace, error) {
	s := resolveClient(env, ps)
	if s.APIKey == "" {
		return s, nil, errors.New("not logged in: run `baton cloud login --key K`")
	}
	ws, err := fetchWorkspaces(ctx, s.CloudURL, s.APIKey)
	if errors.Is(err, errUnauthenticated) {
		return s, nil, fmt.Errorf("Unable to authenticate with %s: %s", s.CloudURL, keyHint(s.APIKey))
	}
	return s, ws, err
}

func cloudWorkspaceLs(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		s, ws, err := loggedIn(ctx, env, ps)
		if err != nil {
			return false, err
		}
		for _, w := range ws {
			mark := " "
			if w.apiURL(s.CloudURL) == strings.TrimRight(s.APIURL, "/") {
				mark = "*"
			}
			fmt.Fprintf(env.Stdout, "%s %-40s %s\n", mark, w.handle(), w.Role)
		}
		return false, nil
	})
}

func cloudWorkspaceSet(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton cloud workspace set", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	wsHandle := fs.String("workspace", "", "account_handle/workspace_handle")
	fs.StringVar(wsHandle, "w", "", "shorthand for --workspace")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		s, ws, err := loggedIn(ctx, env, ps)
		if err != nil {
			return false, err
		}
		chosen, err := chooseWorkspace(env, ws, *wsHandle, "", s.CloudURL)
		if err != nil {
			return false, err
		}
		ps.active()["BATON_API_URL"] = chosen.apiURL(s.CloudURL)
		ps.active()["BATON_CLOUD_API_URL"] = s.CloudURL
		fmt.Fprintf(env.Stdout, "Now using workspace %s.\n", chosen.handle())
		return true, nil
	})
}

// --- the older forms: baton backend cloud|server, baton auth login

func backendCommands() map[string]command {
	return map[string]command{
		"cloud":  {summary: "Use a cloud-mode server (then: baton auth login --key K)", run: backendCloud},
		"server": {summary: "Use a server-mode Baton: server [--url http://host:4200/api]", run: backendServer},
	}
}

func backendCloud(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton backend cloud", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	url := fs.String("url", "", "the cloud-mode server's API root (default: keep the current one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		p := ps.active()
		p["BATON_BACKEND"] = "cloud"
		if *url != "" {
			p["BATON_CLOUD_API_URL"] = strings.TrimRight(*url, "/")
		}
		fmt.Fprintln(env.Stdout, "Backend set to cloud. Log in with: baton auth login --key <YOUR-KEY>")
		return true, nil
	})
}

func backendServer(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton backend server", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	url := fs.String("url", "", "the server's API URL (default: BATON_SERVER_API_URL or "+defaultAPIURL+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		p := ps.active()
		target := *url
		if target == "" {
			target = p["BATON_SERVER_API_URL"]
		}
		if target == "" {
			target = defaultAPIURL
		}
		p["BATON_BACKEND"] = "server"
		p["BATON_SERVER_API_URL"] = target
		p["BATON_API_URL"] = target
		delete(p, "BATON_API_KEY")
		fmt.Fprintf(env.Stdout, "Backend set to server at %s.\n", target)
		return true, nil
	})
}

func authCommands() map[string]command {
	return map[string]command{
		"login":  {summary: "Log in with an API key (same as baton cloud login)", run: cloudLogin},
		"logout": {summary: "Log out (same as baton cloud logout)", run: cloudLogout},
	}
}
