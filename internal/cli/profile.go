package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Client settings a profile may hold. Each one can also come from the
// environment (which wins), and the API URL and key fall back to Prefect's
// variables when no Baton value is set anywhere.
var profileSettings = map[string]string{
	"BATON_API_URL":        "the API the CLI talks to (a workspace URL in cloud mode)",
	"BATON_API_KEY":        "the API key sent as a bearer token",
	"BATON_CLOUD_API_URL":  "the cloud-mode server's API root (…/api), for login and workspace switching",
	"BATON_SERVER_API_URL": "the server-mode API `baton backend server` switches to",
	"BATON_BACKEND":        "cloud or server (set by `baton backend`)",
}

// defaultAPIURL is where a local `baton server start` listens.
const defaultAPIURL = "http://127.0.0.1:4200/api"

// profilesFile is the TOML layout of $BATON_HOME/profiles.toml.
type profilesFile struct {
	Active   string                       `toml:"active"`
	Profiles map[string]map[string]string `toml:"profiles"`
}

// profileStore reads and writes the profiles file.
type profileStore struct {
	path string
	f    profilesFile
}

// batonHome resolves $BATON_HOME (default ~/.baton) through env.
func batonHome(env Env) string {
	if h := env.Getenv("BATON_HOME"); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".baton")
	}
	return ".baton"
}

// loadProfiles reads the profiles file; a missing file is one empty
// "default" profile.
func loadProfiles(env Env) (*profileStore, error) {
	ps := &profileStore{path: filepath.Join(batonHome(env), "profiles.toml")}
	b, err := os.ReadFile(ps.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read profiles: %w", err)
	default:
		if _, err := toml.Decode(string(b), &ps.f); err != nil {
			return nil, fmt.Errorf("parse %s: %w", ps.path, err)
		}
	}
	if ps.f.Profiles == nil {
		ps.f.Profiles = map[string]map[string]string{}
	}
	if ps.f.Active == "" {
		ps.f.Active = "default"
	}
	if ps.f.Profiles[ps.f.Active] == nil {
		ps.f.Profiles[ps.f.Active] = map[string]string{}
	}
	return ps, nil
}

// save writes the file atomically with owner-only permissions (it holds
// API keys).
func (ps *profileStore) save() error {
	if err := os.MkdirAll(filepath.Dir(ps.path), 0o700); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(ps.path), ".profiles-*.toml")
	if err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := toml.NewEncoder(tmp).Encode(ps.f); err != nil {
		tmp.Close()
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	if err := os.Rename(tmp.Name(), ps.path); err != nil {
		return fmt.Errorf("save profiles: %w", err)
	}
	return nil
}

// active returns the active profile's settings (never nil).
func (ps *profileStore) active() map[string]string {
	return ps.f.Profiles[ps.f.Active]
}

// clientSettings is what client-side commands resolve before talking to a
// server.
type clientSettings struct {
	APIURL   string
	APIKey   string
	CloudURL string
}

// setting resolves one name: BATON_* environment, then the active profile.
func setting(env Env, ps *profileStore, name string) string {
	if v := env.Getenv(name); v != "" {
		return v
	}
	return ps.active()[name]
}

// resolveClient applies the precedence environment > profile > Prefect's
// variables > defaults.
func resolveClient(env Env, ps *profileStore) clientSettings {
	s := clientSettings{
		APIURL:   setting(env, ps, "BATON_API_URL"),
		APIKey:   setting(env, ps, "BATON_API_KEY"),
		CloudURL: setting(env, ps, "BATON_CLOUD_API_URL"),
	}
	if s.APIURL == "" {
		s.APIURL = env.Getenv("PREFECT_API_URL")
	}
	if s.APIKey == "" {
		s.APIKey = env.Getenv("PREFECT_API_KEY")
	}
	if s.CloudURL == "" {
		s.CloudURL = env.Getenv("PREFECT_CLOUD_API_URL")
	}
	if s.CloudURL == "" && s.APIURL != "" {
		s.CloudURL = cloudBase(s.APIURL)
	}
	if s.APIURL == "" {
		s.APIURL = defaultAPIURL
	}
	if s.CloudURL == "" {
		s.CloudURL = defaultAPIURL
	}
	return s
}

// cloudBase strips /accounts/{a}/workspaces/{w} from a workspace URL.
func cloudBase(apiURL string) string {
	if i := strings.Index(apiURL, "/accounts/"); i >= 0 {
		return apiURL[:i]
	}
	return strings.TrimRight(apiURL, "/")
}

// --- baton profile ...
func profileCommands() map[string]command {
	return map[string]command{
		"ls":      {summary: "List profiles (* marks the active one)", run: profileLs},
		"create":  {summary: "Create an empty profile: create NAME", run: profileCreate},
		"use":     {summary: "Make a profile active: use NAME", run: profileUse},
		"inspect": {summary: "Show a profile's settings (keys masked): inspect [NAME]", run: profileInspect},
		"rename":  {summary: "Rename a profile: rename OLD NEW", run: profileRename},
		"delete":  {summary: "Delete a profile: delete NAME", run: profileDelete},
	}
}

// withProfiles loads the profiles, runs fn, saves when fn reports a change
// and turns errors into exit codes.
func withProfiles(env Env, fn func(ps *profileStore) (bool, error)) int {
	ps, err := loadProfiles(env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	changed, err := fn(ps)
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if changed {
		if err := ps.save(); err != nil {
			fmt.Fprintln(env.Stderr, "baton:", err)
			return 1
		}
	}
	return 0
}

// usageError is a command-line mistake (exit code 2).
type usageError string

func (e usageError) Error() string { return string(e) }

func args1(args []string, usage string) (string, error) {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return "", usageError("usage: " + usage)
	}
	return args[0], nil
}

func profileLs(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		names := make([]string, 0, len(ps.f.Profiles))
		for n := range ps.f.Profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			mark := " "
			if n == ps.f.Active {
				mark = "*"
			}
			fmt.Fprintf(env.Stdout, "%s %s\n", mark, n)
		}
		return false, nil
	})
}

func profileCreate(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		name, err := args1(args, "baton profile create NAME")
		if err != nil {
			return false, err
		}
		if _, ok := ps.f.Profiles[name]; ok {
			return false, fmt.Errorf("profile %q already exists", name)
		}
		ps.f.Profiles[name] = map[string]string{}
		fmt.Fprintf(env.Stdout, "Created profile %q. Switch to it with: baton profile use %s\n", name, name)
		return true, nil
	})
}

func profileUse(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		name, err := args1(args, "baton profile use NAME")
		if err != nil {
			return false, err
		}
		if _, ok := ps.f.Profiles[name]; !ok {
			return false, fmt.Errorf("profile %q does not exist (baton profile ls)", name)
		}
		ps.f.Active = name
		fmt.Fprintf(env.Stdout, "Active profile is now %q.\n", name)
		return true, nil
	})
}

// mask hides all but a key's display prefix.
func mask(name, v string) string {
	if name != "BATON_API_KEY" || len(v) <= 8 {
		return v
	}
	return v[:8] + strings.Repeat("*", 8)
}

func profileInspect(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		name := ps.f.Active
		if len(args) > 0 {
			var err error
			if name, err = args1(args, "baton profile inspect [NAME]"); err != nil {
				return false, err
			}
		}
		p, ok := ps.f.Profiles[name]
		if !ok {
			return false, fmt.Errorf("profile %q does not exist", name)
		}
		printSettings(env.Stdout, p)
		if len(p) == 0 {
			fmt.Fprintf(env.Stdout, "profile %q is empty\n", name)
		}
		return false, nil
	})
}

func printSettings(w io.Writer, p map[string]string) {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%s\n", k, mask(k, p[k]))
	}
}

func profileRename(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		if len(args) != 2 {
			return false, usageError("usage: baton profile rename OLD NEW")
		}
		from, to := args[0], args[1]
		p, ok := ps.f.Profiles[from]
		if !ok {
			return false, fmt.Errorf("profile %q does not exist", from)
		}
		if _, ok := ps.f.Profiles[to]; ok {
			return false, fmt.Errorf("profile %q already exists", to)
		}
		delete(ps.f.Profiles, from)
		ps.f.Profiles[to] = p
		if ps.f.Active == from {
			ps.f.Active = to
		}
		fmt.Fprintf(env.Stdout, "Renamed profile %q to %q.\n", from, to)
		return true, nil
	})
}

func profileDelete(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		name, err := args1(args, "baton profile delete NAME")
		if err != nil {
			return false, err
		}
		if _, ok := ps.f.Profiles[name]; !ok {
			return false, fmt.Errorf("profile %q does not exist", name)
		}
		if name == ps.f.Active {
			return false, fmt.Errorf("profile %q is active; switch to another one first (baton profile use OTHER)", name)
		}
		delete(ps.f.Profiles, name)
		fmt.Fprintf(env.Stdout, "Deleted profile %q.\n", name)
		return true, nil
	})
}

// --- baton config ...
func configCommandsTable() map[string]command {
	return map[string]command{
		"set":   {summary: "Set settings in the active profile: set NAME=VALUE ...", run: configSet},
		"unset": {summary: "Remove settings from the active profile: unset NAME ...", run: configUnset},
		"view":  {summary: "Show the effective client settings and where each comes from", run: configView},
	}
}

func checkSettingName(name string) error {
	if _, ok := profileSettings[name]; !ok {
		known := make([]string, 0, len(profileSettings))
		for k := range profileSettings {
			known = append(known, k)
		}
		sort.Strings(known)
		return usageError(fmt.Sprintf("unknown setting %q (known: %s)", name, strings.Join(known, ", ")))
	}
	return nil
}

func configSet(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		if len(args) == 0 {
			return false, usageError("usage: baton config set NAME=VALUE ...")
		}
		for _, a := range args {
			name, value, ok := strings.Cut(a, "=")
			if !ok {
				return false, usageError(fmt.Sprintf("%q is not NAME=VALUE", a))
			}
			if err := checkSettingName(name); err != nil {
				return false, err
			}
			ps.active()[name] = value
			fmt.Fprintf(env.Stdout, "Set %s.\n", name)
			if env.Getenv(name) != "" {
				fmt.Fprintf(env.Stderr, "warning: %s is also set in the environment, which overrides the profile\n", name)
			}
		}
		fmt.Fprintf(env.Stdout, "Updated profile %q.\n", ps.f.Active)
		return true, nil
	})
}

func configUnset(ctx context.Context, env Env, args []string) int {
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		if len(args) == 0 {
			return false, usageError("usage: baton config unset NAME ...")
		}
		for _, name := range args {
			if err := checkSettingName(name); err != nil {
				return false, err
			}
			if _, ok := ps.active()[name]; !ok {
				return false, fmt.Errorf("%s is not set in profile %q", name, ps.f.Active)
			}
			delete(ps.active(), name)
			fmt.Fprintf(env.Stdout, "Unset %s.\n", name)
		}
		return true, nil
	})
}

func configView(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton config view", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	showSecrets := fs.Bool("show-secrets", false, "print API keys in full")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return withProfiles(env, func(ps *profileStore) (bool, error) {
		fmt.Fprintf(env.Stdout, "PROFILE=%q\n", ps.f.Active)
		names := make([]string, 0, len(profileSettings))
		for k := range profileSettings {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, n := range names {
			v, from := env.Getenv(n), "env"
			if v == "" {
				v, from = ps.active()[n], "profile"
			}
			if v == "" {
				continue
			}
			if !*showSecrets {
				v = mask(n, v)
			}
			fmt.Fprintf(env.Stdout, "%s=%s (from %s)\n", n, v, from)
		}
		eff := resolveClient(env, ps)
		key := eff.APIKey
		if !*showSecrets {
			key = mask("BATON_API_KEY", key)
		}
		fmt.Fprintf(env.Stdout, "# effective: api url %s, cloud url %s, key %q\n", eff.APIURL, eff.CloudURL, key)
		return false, nil
	})
}
