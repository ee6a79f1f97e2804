package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/worker"
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

// apiKeyView is an API key as the server lists it (never its secret).
type apiKeyView struct {
	ID       string      `json:"id"`
	UserID   string      `json:"user_id"`
	Name     string      `json:"name"`
	Prefix   string      `json:"prefix"`
	Created  model.Time  `json:"created"`
	Expires  *model.Time `json:"expires"`
	LastUsed *model.Time `json:"last_used"`
}

// newAPIKeyView is a key as created or rotated: the secret, once.
type newAPIKeyView struct {
	apiKeyView
	Key string `json:"key"`
}

// cloudSession is a logged-in CLI: the cloud base URL and the key.
type cloudSession struct {
	s clientSettings
	c *worker.Client
}

// keyHint explains a key that was refused.
func keyHint(key string) string {
	switch {
	case strings.HasPrefix(key, "pnu_") || strings.HasPrefix(key, "pnb_"):
		return "the key may be revoked, expired or for another server; create a new one on the API keys page of the web UI"
	default:
		return "Baton keys start with pnu_ (users) or pnb_ (service accounts)"
	}
}

// fetchWorkspaces calls GET {base}/me/workspaces with key.
func fetchWorkspaces(ctx context.Context, base, key string) ([]cloudWorkspace, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c := &worker.Client{BaseURL: base, APIKey: key}
	var ws []cloudWorkspace
	err := c.Do(ctx, "GET", "/me/workspaces", nil, &ws)
	if worker.IsStatus(err, 401) || worker.IsStatus(err, 403) {
		return nil, fmt.Errorf("unable to authenticate with %s: %s", base, keyHint(key))
	}
	if err != nil {
		return nil, connectErr(base, "", err)
	}
	return ws, nil
}

// loggedIn resolves the settings and checks that a key is there.
func (a *app) loggedIn(ps *profileStore) (cloudSession, error) {
	s := a.resolve(ps)
	a.used = &s
	if s.APIKey.Value == "" {
		return cloudSession{}, errors.New("not logged in: run `baton cloud login --key K` (create a key on the API keys page of the web UI)")
	}
	return cloudSession{s: s, c: &worker.Client{BaseURL: s.CloudURL.Value, APIKey: s.APIKey.Value}}, nil
}

// workspaces lists the workspaces the session's key reaches.
func (cs cloudSession) workspaces(ctx context.Context) ([]cloudWorkspace, error) {
	return fetchWorkspaces(ctx, cs.s.CloudURL.Value, cs.s.APIKey.Value)
}

func (a *app) cloudCmd() *cobra.Command {
	return group("cloud", "Log in to a cloud-mode Baton; manage workspaces, API keys and service accounts",
		a.cloudLoginCmd("login"), a.cloudLogoutCmd("logout"), a.cloudWorkspaceCmd(), a.cloudAPIKeyCmd(), a.cloudServiceAccountCmd())
}

func (a *app) cloudLoginCmd(use string) *cobra.Command {
	var key, wsHandle, url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   use,
		Short: "Log in (in the browser, or with an API key) and pick a workspace",
		Long: `Log in and pick a workspace; the profile in use then points at that workspace.
Without --key (on a terminal, or with BROWSER set) the web UI opens in the browser (its URL is printed too): sign in there by any
method, pick the workspace and authorize; a new API key comes back to this command through a
server it runs on 127.0.0.1 for the time of the login, as with ` + "`prefect cloud login`" + `.
The server is the one the CLI finds (see 'baton config view'), or --url.`,
		Example: "  baton cloud login\n  baton cloud login --key pnu_... -w acme/prod\n  baton cloud login --key pnu_... -w acme/prod --url http://10.0.0.5:4200/api",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				s := a.resolve(ps)
				base := strings.TrimRight(url, "/")
				if base == "" {
					base = s.CloudURL.Value
				}
				if key == "" {
					// As Prefect's CLI: the browser login is for a person at a
					// terminal (or one who named a browser); a script without
					// a key is told at once instead of waiting minutes.
					if !a.canOpenBrowser() {
						return false, usageError("--key is required when not on a terminal (or set BROWSER to log in through a browser)")
					}
					got, err := a.browserLogin(cmd.Context(), base, timeout)
					if err != nil {
						return false, err
					}
					key = got.APIKey
					if wsHandle == "" {
						wsHandle = got.Workspace
					}
				}
				ws, err := fetchWorkspaces(cmd.Context(), base, key)
				if err != nil {
					return false, err
				}
				if len(ws) == 0 {
					return false, errors.New("this key reaches no workspace; create one in the web UI or with `baton cloud workspace create`")
				}
				chosen, err := a.chooseWorkspace(ws, wsHandle, ps.active()["BATON_API_URL"], base)
				if err != nil {
					return false, err
				}
				p := ps.active()
				p["BATON_API_URL"] = chosen.apiURL(base)
				p["BATON_API_KEY"] = key
				p["BATON_CLOUD_API_URL"] = base
				p["BATON_BACKEND"] = "cloud"
				fmt.Fprintf(a.env.Stdout, "Authenticated. Using workspace %s.\nProfile %q now points at %s\n", chosen.handle(), ps.current, p["BATON_API_URL"])
				for _, n := range []string{"BATON_API_URL", "PREFECT_API_URL", "BATON_HOST", "BATON_PORT"} {
					if a.env.Getenv(n) != "" {
						fmt.Fprintf(a.env.Stderr, "Warning: %s is set in the environment and overrides the profile; unset it to use this workspace.\n", n)
					}
				}
				return true, nil
			})
		},
	}
	cmd.Flags().StringVarP(&key, "key", "k", "", "API key (pnu_… or pnb_…); without it, log in in the browser")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the browser login")
	cmd.Flags().StringVarP(&wsHandle, "workspace", "w", "", "account_handle/workspace_handle")
	cmd.Flags().StringVar(&url, "url", "", "the cloud-mode server's API root, e.g. http://host:4200/api (default: found like every client setting; see 'baton config view')")
	return cmd
}

// chooseWorkspace applies -w, then the current URL, then a single
// workspace, then the interactive picker on a terminal.
func (a *app) chooseWorkspace(ws []cloudWorkspace, want, currentURL, base string) (cloudWorkspace, error) {
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
	in, ok := a.stdinTerminal()
	if !ok {
		return cloudWorkspace{}, usageError(fmt.Sprintf("several workspaces are available; pick one with -w (%s)", handles(ws)))
	}
	return pickWorkspace(in, a.env.Stdout, ws)
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

func (a *app) cloudLogoutCmd(use string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: "Remove the API URL and key from the profile in use",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				p := ps.active()
				if p["BATON_API_KEY"] == "" && p["BATON_API_URL"] == "" {
					fmt.Fprintln(a.env.Stdout, "Not logged in.")
					return false, nil
				}
				delete(p, "BATON_API_KEY")
				delete(p, "BATON_API_URL")
				fmt.Fprintf(a.env.Stdout, "Logged out from profile %q.\n", ps.current)
				return true, nil
			})
		},
	}
}

// --- workspaces

func (a *app) cloudWorkspaceCmd() *cobra.Command {
	ls := &cobra.Command{Use: "ls", Short: "List the workspaces the key reaches (* marks the current one)", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			ws, err := cs.workspaces(cmd.Context())
			if err != nil {
				return false, err
			}
			return false, a.emit(*lsOut, ws, func(w io.Writer, pal palette) {
				t := newTable("", "WORKSPACE", "ROLE", "NAME", "ID")
				t.keep[4] = true
				for _, x := range ws {
					mark := ""
					if x.apiURL(cs.s.CloudURL.Value) == cs.s.APIURL.Value {
						mark = "*"
					}
					t.add(mark, x.handle(), x.Role, x.WorkspaceName, x.WorkspaceID)
				}
				a.renderTable(w, pal, t)
			})
		})
	}
	var setHandle string
	set := &cobra.Command{
		Use:   "set",
		Short: "Switch the profile in use to another workspace",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				cs, err := a.loggedIn(ps)
				if err != nil {
					return false, err
				}
				ws, err := cs.workspaces(cmd.Context())
				if err != nil {
					return false, err
				}
				chosen, err := a.chooseWorkspace(ws, setHandle, "", cs.s.CloudURL.Value)
				if err != nil {
					return false, err
				}
				ps.active()["BATON_API_URL"] = chosen.apiURL(cs.s.CloudURL.Value)
				ps.active()["BATON_CLOUD_API_URL"] = cs.s.CloudURL.Value
				fmt.Fprintf(a.env.Stdout, "Now using workspace %s.\n", chosen.handle())
				return true, nil
			})
		},
	}
	set.Flags().StringVarP(&setHandle, "workspace", "w", "", "account_handle/workspace_handle")

	var name, description, account string
	var use bool
	create := &cobra.Command{
		Use:     "create HANDLE",
		Short:   "Create a workspace in an account (admins)",
		Long:    "Create a workspace whose handle is HANDLE in the account given by --account (default: the account of the workspace in use, or your only account).",
		Example: "  baton cloud workspace create staging --name Staging --use",
		Args:    exactArgs("HANDLE"),
	}
	createOut := outputFlag(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			acc, err := cs.account(cmd.Context(), account)
			if err != nil {
				return false, err
			}
			body := map[string]any{"handle": args[0], "name": name}
			if description != "" {
				body["description"] = description
			}
			var wd model.WorkspaceDetails
			if err := cs.c.Do(cmd.Context(), "POST", "/accounts/"+acc.ID+"/workspaces", body, &wd); err != nil {
				return false, err
			}
			changed := false
			if use {
				ps.active()["BATON_API_URL"] = cs.s.CloudURL.Value + "/accounts/" + acc.ID + "/workspaces/" + wd.ID.String()
				ps.active()["BATON_CLOUD_API_URL"] = cs.s.CloudURL.Value
				changed = true
			}
			return changed, a.emit(*createOut, wd, func(w io.Writer, pal palette) {
				fmt.Fprintf(w, "Created workspace %s/%s (id %s).\n", acc.Handle, wd.Handle, wd.ID)
				if use {
					fmt.Fprintf(w, "Profile %q now uses it.\n", ps.current)
				} else {
					fmt.Fprintf(w, "Use it with: baton cloud workspace set -w %s/%s\n", acc.Handle, wd.Handle)
				}
			})
		})
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the handle)")
	create.Flags().StringVar(&description, "description", "", "description")
	create.Flags().StringVar(&account, "account", "", "account handle (default: the account of the workspace in use, or your only account)")
	create.Flags().BoolVar(&use, "use", false, "switch the profile in use to the new workspace")

	var yes bool
	del := &cobra.Command{
		Use:   "delete ACCOUNT/WORKSPACE",
		Short: "Delete a workspace and everything in it (admins)",
		Args:  exactArgs("ACCOUNT/WORKSPACE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				cs, err := a.loggedIn(ps)
				if err != nil {
					return false, err
				}
				ws, err := cs.workspaces(cmd.Context())
				if err != nil {
					return false, err
				}
				var target *cloudWorkspace
				for i := range ws {
					if ws[i].handle() == args[0] {
						target = &ws[i]
					}
				}
				if target == nil {
					return false, fmt.Errorf("workspace %q not found; available: %s", args[0], handles(ws))
				}
				if err := a.confirm(yes, fmt.Sprintf("Delete workspace %s and all its flows, runs and deployments?", target.handle())); err != nil {
					return false, err
				}
				if err := cs.c.Do(cmd.Context(), "DELETE", "/accounts/"+target.AccountID+"/workspaces/"+target.WorkspaceID, nil, nil); err != nil {
					return false, err
				}
				fmt.Fprintf(a.env.Stdout, "Deleted workspace %s.\n", target.handle())
				if ps.active()["BATON_API_URL"] == target.apiURL(cs.s.CloudURL.Value) {
					delete(ps.active(), "BATON_API_URL")
					fmt.Fprintf(a.env.Stdout, "Profile %q used it; pick another with `baton cloud workspace set`.\n", ps.current)
					return true, nil
				}
				return false, nil
			})
		},
	}
	del.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return group("workspace", "List, switch, create and delete workspaces", ls, set, create, del)
}

// confirm asks a yes/no question on a terminal; elsewhere it demands --yes.
func (a *app) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	in, ok := a.stdinTerminal()
	if !ok {
		return usageError("this cannot be undone; pass --yes to confirm")
	}
	fmt.Fprintf(a.env.Stdout, "%s [y/N] ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if s := strings.ToLower(strings.TrimSpace(line)); s == "y" || s == "yes" {
		return nil
	}
	return exitError{code: 1, msg: "cancelled"}
}

// accountRef is an account the caller belongs to.
type accountRef struct {
	ID     string `json:"id"`
	Handle string `json:"handle"`
	Name   string `json:"name"`
}

// account resolves --account HANDLE, else the account of the workspace in
// use, else the caller's only account.
func (cs cloudSession) account(ctx context.Context, handle string) (accountRef, error) {
	var mine []struct {
		AccountID string `json:"account_id"`
		Role      string `json:"role"`
	}
	if err := cs.c.Do(ctx, "GET", "/me/accounts", nil, &mine); err != nil {
		return accountRef{}, err
	}
	current := ""
	if i := strings.Index(cs.s.APIURL.Value, "/accounts/"); i >= 0 {
		current, _, _ = strings.Cut(cs.s.APIURL.Value[i+len("/accounts/"):], "/")
	}
	var all []accountRef
	for _, m := range mine {
		var acc accountRef
		if err := cs.c.Do(ctx, "GET", "/accounts/"+m.AccountID, nil, &acc); err != nil {
			return accountRef{}, err
		}
		all = append(all, acc)
	}
	var names []string
	for _, acc := range all {
		names = append(names, acc.Handle)
		if (handle != "" && acc.Handle == handle) || (handle == "" && acc.ID == current) {
			return acc, nil
		}
	}
	switch {
	case handle != "":
		return accountRef{}, fmt.Errorf("you are not a member of account %q; yours: %s", handle, strings.Join(names, ", "))
	case len(all) == 1:
		return all[0], nil
	case len(all) == 0:
		return accountRef{}, errors.New("this key belongs to no account")
	}
	return accountRef{}, usageError(fmt.Sprintf("you belong to several accounts; pick one with --account (%s)", strings.Join(names, ", ")))
}

// --- API keys

// parseExpiry reads --expires: a duration with a day unit (30d), a Go
// duration (12h), a date (2027-01-31) or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			t := now.Add(time.Duration(n) * 24 * time.Hour)
			return &t, nil
		}
	}
	if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
		t := now.Add(dur)
		return &t, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t, nil
		}
	}
	return nil, usageError(fmt.Sprintf("--expires %q is not a duration (30d, 12h) or a date (2027-01-31)", s))
}

// keyTable renders keys as a table.
func (a *app) keyTable(w io.Writer, pal palette, keys []apiKeyView, inUse string) {
	t := newTable("", "NAME", "KEY", "CREATED", "LAST USED", "EXPIRES", "ID")
	t.keep[6] = true
	for _, k := range keys {
		mark := ""
		if inUse != "" && strings.HasPrefix(inUse, strings.TrimSuffix(k.Prefix, "…")) {
			mark = "*"
		}
		last, exp := "never", "never"
		if k.LastUsed != nil {
			last = k.LastUsed.Local().Format("2006-01-02 15:04")
		}
		if k.Expires != nil {
			exp = k.Expires.Local().Format("2006-01-02 15:04")
			if k.Expires.Before(time.Now()) {
				exp = pal.red(exp + " (expired)")
			}
		}
		t.add(mark, k.Name, k.Prefix+"…", k.Created.Local().Format("2006-01-02 15:04"), last, exp, k.ID)
	}
	a.renderTable(w, pal, t)
}

// findKey matches a key by id or name.
func findKey(keys []apiKeyView, ref string) (apiKeyView, error) {
	var found []apiKeyView
	for _, k := range keys {
		if k.ID == ref || k.Name == ref {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return apiKeyView{}, fmt.Errorf("no API key is named or has the id %q (baton cloud api-key ls)", ref)
	}
	return apiKeyView{}, fmt.Errorf("several keys are named %q; use the id (baton cloud api-key ls)", ref)
}

// showNewKey prints a key's secret once, with what to do with it.
func (a *app) showNewKey(format string, k newAPIKeyView, what string) error {
	return a.emit(format, k, func(w io.Writer, pal palette) {
		fmt.Fprintf(w, "%s %q (shown only now; store it safely):\n%s\n", what, k.Name, pal.bold(k.Key))
		if k.Expires != nil {
			fmt.Fprintf(w, "It expires %s.\n", k.Expires.Local().Format("2006-01-02 15:04 MST"))
		}
	})
}

// keyCommands builds ls/create/delete/rotate over a key collection at
// base (relative to the cloud API root), for the caller's own keys and for
// a service account's.
func (a *app) keyCommands(basePath func(ctx context.Context, cs cloudSession, args []string) (string, error), argName string, rotatable bool) []*cobra.Command {
	prefixArgs := func(extra ...string) []string {
		if argName == "" {
			return extra
		}
		return append([]string{argName}, extra...)
	}
	ls := &cobra.Command{Use: strings.TrimSpace("ls " + argName), Short: "List API keys (never their secrets; * marks the key in use)", Args: exactArgs(prefixArgs()...)}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			base, err := basePath(cmd.Context(), cs, args)
			if err != nil {
				return false, err
			}
			var keys []apiKeyView
			if err := cs.c.Do(cmd.Context(), "GET", base, nil, &keys); err != nil {
				return false, err
			}
			return false, a.emit(*lsOut, keys, func(w io.Writer, pal palette) {
				if len(keys) == 0 {
					fmt.Fprintln(w, "No API keys.")
					return
				}
				a.keyTable(w, pal, keys, cs.s.APIKey.Value)
			})
		})
	}
	var expires string
	create := &cobra.Command{
		Use:     strings.TrimSpace("create " + strings.Join(prefixArgs("NAME"), " ")),
		Short:   "Create an API key; its secret is printed once",
		Example: "  baton cloud api-key create laptop --expires 90d",
		Args:    exactArgs(prefixArgs("NAME")...),
	}
	create.Flags().StringVar(&expires, "expires", "", "when the key stops working: 30d, 12h, 2027-01-31 or an RFC 3339 time (default: never)")
	createOut := outputFlag(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		exp, err := parseExpiry(expires, time.Now())
		if err != nil {
			return err
		}
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			base, err := basePath(cmd.Context(), cs, args)
			if err != nil {
				return false, err
			}
			body := map[string]any{"name": args[len(args)-1]}
			if exp != nil {
				body["expiration"] = exp.UTC().Format(time.RFC3339)
			}
			var k newAPIKeyView
			if err := cs.c.Do(cmd.Context(), "POST", base, body, &k); err != nil {
				return false, err
			}
			return false, a.showNewKey(*createOut, k, "API key")
		})
	}
	var yes bool
	del := &cobra.Command{
		Use:   strings.TrimSpace("delete " + strings.Join(prefixArgs("KEY"), " ")),
		Short: "Revoke an API key (by name or id); machines using it stop working",
		Args:  exactArgs(prefixArgs("KEY")...),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				cs, err := a.loggedIn(ps)
				if err != nil {
					return false, err
				}
				base, err := basePath(cmd.Context(), cs, args)
				if err != nil {
					return false, err
				}
				var keys []apiKeyView
				if err := cs.c.Do(cmd.Context(), "GET", base, nil, &keys); err != nil {
					return false, err
				}
				k, err := findKey(keys, args[len(args)-1])
				if err != nil {
					return false, err
				}
				if err := a.confirm(yes, fmt.Sprintf("Revoke key %q (%s…)?", k.Name, k.Prefix)); err != nil {
					return false, err
				}
				if err := cs.c.Do(cmd.Context(), "DELETE", base+"/"+k.ID, nil, nil); err != nil {
					return false, err
				}
				fmt.Fprintf(a.env.Stdout, "Revoked key %q (%s…).\n", k.Name, k.Prefix)
				return false, nil
			})
		},
	}
	del.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmds := []*cobra.Command{ls, create, del}
	if rotatable {
		rotate := &cobra.Command{
			Use:   strings.TrimSpace("rotate " + strings.Join(prefixArgs("KEY"), " ")),
			Short: "Give a key a new secret (printed once); the old secret stops working",
			Long: "Give the key named KEY (or with that id) a new secret. The old secret stops working at once.\n" +
				"When the key is the one the profile in use holds, the profile is updated to the new secret.",
			Args: exactArgs(prefixArgs("KEY")...),
		}
		rotOut := outputFlag(rotate)
		rotate.RunE = func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				cs, err := a.loggedIn(ps)
				if err != nil {
					return false, err
				}
				base, err := basePath(cmd.Context(), cs, args)
				if err != nil {
					return false, err
				}
				var keys []apiKeyView
				if err := cs.c.Do(cmd.Context(), "GET", base, nil, &keys); err != nil {
					return false, err
				}
				k, err := findKey(keys, args[len(args)-1])
				if err != nil {
					return false, err
				}
				var nk newAPIKeyView
				if err := cs.c.Do(cmd.Context(), "POST", base+"/"+k.ID+"/rotate", nil, &nk); err != nil {
					return false, err
				}
				changed := false
				if held := ps.active()["BATON_API_KEY"]; held != "" && strings.HasPrefix(held, strings.TrimSuffix(k.Prefix, "…")) {
					ps.active()["BATON_API_KEY"] = nk.Key
					changed = true
				}
				if err := a.showNewKey(*rotOut, nk, "New secret for key"); err != nil {
					return false, err
				}
				if changed {
					fmt.Fprintf(a.env.Stderr, "Profile %q held this key; it now holds the new secret.\n", ps.current)
				}
				return changed, nil
			})
		}
		cmds = append(cmds, rotate)
	}
	return cmds
}

func (a *app) cloudAPIKeyCmd() *cobra.Command {
	own := func(ctx context.Context, cs cloudSession, args []string) (string, error) { return "/me/api_keys", nil }
	return group("api-key", "Create, list, rotate and revoke your API keys", a.keyCommands(own, "", true)...)
}

// --- service accounts

// member is an account member as GET /accounts/{a}/members lists it.
type member struct {
	UserID  string     `json:"user_id"`
	Role    string     `json:"role"`
	Email   string     `json:"email"`
	Name    string     `json:"name"`
	IsBot   bool       `json:"is_bot"`
	Created model.Time `json:"created"`
}

// serviceAccounts lists an account's service accounts.
func (cs cloudSession) serviceAccounts(ctx context.Context, acc accountRef) ([]member, error) {
	var ms []member
	if err := cs.c.Do(ctx, "GET", "/accounts/"+acc.ID+"/members", nil, &ms); err != nil {
		return nil, err
	}
	var bots []member
	for _, m := range ms {
		if m.IsBot {
			bots = append(bots, m)
		}
	}
	return bots, nil
}

// findBot matches a service account by name or id.
func findBot(bots []member, ref string) (member, error) {
	var names []string
	for _, b := range bots {
		if b.UserID == ref || b.Name == ref {
			return b, nil
		}
		names = append(names, b.Name)
	}
	if len(names) == 0 {
		return member{}, fmt.Errorf("no service account %q: the account has none (create one with `baton cloud service-account create NAME`)", ref)
	}
	return member{}, fmt.Errorf("no service account %q; there are: %s", ref, strings.Join(names, ", "))
}

func (a *app) cloudServiceAccountCmd() *cobra.Command {
	var account string
	ls := &cobra.Command{Use: "ls", Short: "List the account's service accounts", Args: noArgs}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			acc, err := cs.account(cmd.Context(), account)
			if err != nil {
				return false, err
			}
			bots, err := cs.serviceAccounts(cmd.Context(), acc)
			if err != nil {
				return false, err
			}
			return false, a.emit(*lsOut, bots, func(w io.Writer, pal palette) {
				if len(bots) == 0 {
					fmt.Fprintf(w, "Account %s has no service accounts; create one with `baton cloud service-account create NAME --role developer`.\n", acc.Handle)
					return
				}
				t := newTable("NAME", "ROLE", "CREATED", "ID")
				t.keep[3] = true
				for _, b := range bots {
					t.add(b.Name, b.Role, b.Created.Local().Format("2006-01-02 15:04"), b.UserID)
				}
				a.renderTable(w, pal, t)
			})
		})
	}
	var role string
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a service account with a role; its first API key is printed once",
		Example: "  baton cloud service-account create ci --role developer",
		Args:    exactArgs("NAME"),
	}
	create.Flags().StringVar(&role, "role", "developer", "the account role: owner, admin, developer or viewer")
	_ = create.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"owner", "admin", "developer", "viewer"}, cobra.ShellCompDirectiveNoFileComp))
	createOut := outputFlag(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		switch role {
		case "owner", "admin", "developer", "viewer":
		default:
			return usageError(fmt.Sprintf("--role %q is not one of owner, admin, developer, viewer", role))
		}
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			cs, err := a.loggedIn(ps)
			if err != nil {
				return false, err
			}
			acc, err := cs.account(cmd.Context(), account)
			if err != nil {
				return false, err
			}
			var out struct {
				User   member        `json:"user"`
				Role   string        `json:"role"`
				APIKey newAPIKeyView `json:"api_key"`
			}
			if err := cs.c.Do(cmd.Context(), "POST", "/accounts/"+acc.ID+"/service_accounts", map[string]any{"name": args[0], "role": role}, &out); err != nil {
				return false, err
			}
			return false, a.emit(*createOut, out, func(w io.Writer, pal palette) {
				fmt.Fprintf(w, "Created service account %q (%s in account %s).\n", args[0], role, acc.Handle)
				fmt.Fprintf(w, "Its API key (shown only now; store it safely):\n%s\n", pal.bold(out.APIKey.Key))
			})
		})
	}
	var yes bool
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a service account and revoke its keys",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				cs, err := a.loggedIn(ps)
				if err != nil {
					return false, err
				}
				acc, err := cs.account(cmd.Context(), account)
				if err != nil {
					return false, err
				}
				bots, err := cs.serviceAccounts(cmd.Context(), acc)
				if err != nil {
					return false, err
				}
				b, err := findBot(bots, args[0])
				if err != nil {
					return false, err
				}
				if err := a.confirm(yes, fmt.Sprintf("Delete service account %q and revoke its keys?", b.Name)); err != nil {
					return false, err
				}
				if err := cs.c.Do(cmd.Context(), "DELETE", "/accounts/"+acc.ID+"/service_accounts/"+b.UserID, nil, nil); err != nil {
					return false, err
				}
				fmt.Fprintf(a.env.Stdout, "Deleted service account %q.\n", b.Name)
				return false, nil
			})
		},
	}
	del.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	botKeys := func(ctx context.Context, cs cloudSession, args []string) (string, error) {
		acc, err := cs.account(ctx, account)
		if err != nil {
			return "", err
		}
		bots, err := cs.serviceAccounts(ctx, acc)
		if err != nil {
			return "", err
		}
		b, err := findBot(bots, args[0])
		if err != nil {
			return "", err
		}
		return "/accounts/" + acc.ID + "/service_accounts/" + b.UserID + "/api_keys", nil
	}
	keys := group("api-key", "Create, list, rotate and revoke a service account's API keys", a.keyCommands(botKeys, "ACCOUNT_NAME", true)...)
	g := group("service-account", "Manage service accounts (machine users with their own API keys)", ls, create, del, keys)
	g.PersistentFlags().StringVar(&account, "account", "", "account handle (default: the account of the workspace in use, or your only account)")
	return g
}

// --- the older forms: baton backend cloud|server, baton auth login

func (a *app) backendCmd() *cobra.Command {
	var cloudURL string
	cloud := &cobra.Command{
		Use:   "cloud",
		Short: "Use a cloud-mode server (then: baton auth login --key K)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				p := ps.active()
				p["BATON_BACKEND"] = "cloud"
				if cloudURL != "" {
					p["BATON_CLOUD_API_URL"] = strings.TrimRight(cloudURL, "/")
				}
				fmt.Fprintln(a.env.Stdout, "Backend set to cloud. Log in with: baton auth login --key <YOUR-KEY>")
				return true, nil
			})
		},
	}
	cloud.Flags().StringVar(&cloudURL, "url", "", "the cloud-mode server's API root (default: keep the current one)")
	var serverURL string
	server := &cobra.Command{
		Use:   "server",
		Short: "Use a server-mode Baton",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				p := ps.active()
				target := serverURL
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
				fmt.Fprintf(a.env.Stdout, "Backend set to server at %s.\n", target)
				return true, nil
			})
		},
	}
	server.Flags().StringVar(&serverURL, "url", "", "the server's API URL (default: BATON_SERVER_API_URL or "+defaultAPIURL+")")
	return group("backend", "Switch between a cloud-mode and a server-mode Baton (older form of baton cloud)", cloud, server)
}

func (a *app) authCmd() *cobra.Command {
	login := a.cloudLoginCmd("login")
	login.Short = "Log in with an API key (same as baton cloud login)"
	logout := a.cloudLogoutCmd("logout")
	logout.Short = "Log out (same as baton cloud logout)"
	return group("auth", "Log in or out (older form of baton cloud)", login, logout)
}
