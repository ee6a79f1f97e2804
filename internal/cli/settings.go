package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Client settings a Baton profile may hold. Each one can also come from the
// environment under the same name (which wins over the profile).
var profileSettings = map[string]string{
	"BATON_API_URL":        "the API the CLI talks to (a workspace URL in cloud mode)",
	"BATON_API_KEY":        "the API key sent as a bearer token",
	"BATON_CLOUD_API_URL":  "the cloud-mode server's API root (…/api), for login and workspace switching",
	"BATON_SERVER_API_URL": "the server-mode API `baton backend server` switches to",
	"BATON_BACKEND":        "cloud or server (set by `baton backend`)",
	"BATON_HOST":           "the server's host, when BATON_API_URL is not set (default 127.0.0.1)",
	"BATON_PORT":           "the server's port, when BATON_API_URL is not set (default 4200)",
}

// settingAliases are the other names the environment accepts for a
// setting; `baton config set` takes them too and stores the Baton name.
var settingAliases = map[string]string{
	"PREFECT_API_URL":       "BATON_API_URL",
	"PREFECT_API_KEY":       "BATON_API_KEY",
	"PREFECT_CLOUD_API_URL": "BATON_CLOUD_API_URL",
}

// canonicalSetting maps a name the environment accepts to the profile's
// name for it, or explains which names exist.
func canonicalSetting(name string) (string, error) {
	if c, ok := settingAliases[name]; ok {
		return c, nil
	}
	if _, ok := profileSettings[name]; ok {
		return name, nil
	}
	known := make([]string, 0, len(profileSettings)+len(settingAliases))
	for k := range profileSettings {
		known = append(known, k)
	}
	for k := range settingAliases {
		known = append(known, k)
	}
	sort.Strings(known)
	return "", usageError(fmt.Sprintf("unknown setting %q; known settings: %s", name, strings.Join(known, ", ")))
}

// Default address of a local `baton server start`.
const (
	defaultHost   = "127.0.0.1"
	defaultPort   = "4200"
	defaultAPIURL = "http://127.0.0.1:4200/api"
)

// profilesFile is the TOML layout of $BATON_HOME/profiles.toml (the same
// layout as Prefect's profiles.toml).
type profilesFile struct {
	Active   string                       `toml:"active"`
	Profiles map[string]map[string]string `toml:"profiles"`
}

// profileStore reads and writes the profiles file. current is the profile
// this invocation uses: --profile, else BATON_PROFILE, else the file's
// active one.
type profileStore struct {
	path    string
	f       profilesFile
	current string
}

// batonHome resolves $BATON_HOME (default ~/.baton) through env.
func batonHome(env Env) string {
	if h := env.Getenv("BATON_HOME"); h != "" {
		return h
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".baton")
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".baton")
	}
	return ".baton"
}

// loadProfiles reads the Baton profiles file; a missing file is one empty
// "default" profile.
func (a *app) loadProfiles() (*profileStore, error) {
	ps := &profileStore{path: filepath.Join(batonHome(a.env), "profiles.toml")}
	b, err := os.ReadFile(ps.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", ps.path, err)
	default:
		if _, err := toml.Decode(string(b), &ps.f); err != nil {
			return nil, fmt.Errorf("%s is not valid TOML (%v); fix or remove it", ps.path, err)
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
	ps.current = ps.f.Active
	want, from := a.profile, "--profile"
	if want == "" {
		want, from = a.env.Getenv("BATON_PROFILE"), "BATON_PROFILE"
	}
	if want != "" {
		if _, ok := ps.f.Profiles[want]; !ok {
			return nil, usageError(fmt.Sprintf("%s names profile %q, which does not exist; create it with `baton profile create %s` or see `baton profile ls`", from, want, want))
		}
		ps.current = want
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

// active returns the settings of the profile in use (never nil).
func (ps *profileStore) active() map[string]string {
	p := ps.f.Profiles[ps.current]
	if p == nil {
		p = map[string]string{}
		ps.f.Profiles[ps.current] = p
	}
	return p
}

// prefectProfile is the active profile of Prefect's own profiles file, read
// so that a machine where `prefect cloud login` (or `prefect config set
// PREFECT_API_URL=…`) was run reaches the same server from baton.
type prefectProfile struct {
	path     string
	name     string
	settings map[string]string
}

// loadPrefectProfile reads $PREFECT_PROFILES_PATH, else
// $PREFECT_HOME/profiles.toml, else ~/.prefect/profiles.toml, and returns
// its active profile (PREFECT_PROFILE overrides the file's choice). A
// missing or unreadable file is no profile: Prefect's file is a fallback,
// never a reason to fail.
func loadPrefectProfile(env Env) prefectProfile {
	path := env.Getenv("PREFECT_PROFILES_PATH")
	if path == "" {
		home := env.Getenv("PREFECT_HOME")
		if home == "" {
			h := env.Getenv("HOME")
			if h == "" {
				return prefectProfile{}
			}
			home = filepath.Join(h, ".prefect")
		}
		path = filepath.Join(home, "profiles.toml")
	}
	var f struct {
		Active   string                    `toml:"active"`
		Profiles map[string]map[string]any `toml:"profiles"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return prefectProfile{}
	}
	if _, err := toml.Decode(string(b), &f); err != nil {
		return prefectProfile{}
	}
	name := env.Getenv("PREFECT_PROFILE")
	if name == "" {
		name = f.Active
	}
	p := prefectProfile{path: path, name: name, settings: map[string]string{}}
	for k, v := range f.Profiles[name] {
		p.settings[k] = fmt.Sprint(v)
	}
	return p
}

// setting is one resolved value and where it came from, for `baton config
// view` and for error messages that say which knob to turn.
type setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// clientSettings is what client-side commands resolve before talking to a
// server.
type clientSettings struct {
	APIURL   setting `json:"api_url"`
	APIKey   setting `json:"api_key"`
	CloudURL setting `json:"cloud_api_url"`
	// Profile is the Baton profile in use.
	Profile string `json:"profile"`
}

// hostPortURL builds an API URL from a host and a port, either of which
// may be empty (defaults). A wildcard listen address is reached through
// loopback.
func hostPortURL(host, port string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = defaultHost
	}
	if port == "" {
		port = defaultPort
	}
	return "http://" + net.JoinHostPort(host, port) + "/api"
}

// resolve applies the one precedence every client command uses:
//
//	--api-url flag
//	> environment: BATON_API_URL, PREFECT_API_URL, BATON_HOST/BATON_PORT
//	> the Baton profile in use
//	> the active Prefect profile
//	> http://127.0.0.1:4200/api
//
// The key and the cloud URL follow the same order (without a flag).
func (a *app) resolve(ps *profileStore) clientSettings {
	env := a.env
	pp := loadPrefectProfile(env)
	prof := ps.active()
	profSrc := fmt.Sprintf("profile %q (%s)", ps.current, ps.path)
	prefSrc := fmt.Sprintf("Prefect profile %q (%s)", pp.name, pp.path)
	first := func(cands ...setting) setting {
		for _, c := range cands {
			if c.Value != "" {
				return c
			}
		}
		return setting{}
	}
	envS := func(name string) setting { return setting{env.Getenv(name), "environment " + name} }
	hostPort := func(get func(string) string, src string) setting {
		h, p := get("BATON_HOST"), get("BATON_PORT")
		if h == "" && p == "" {
			return setting{}
		}
		return setting{hostPortURL(h, p), src}
	}
	s := clientSettings{Profile: ps.current}
	s.APIURL = first(
		setting{strings.TrimSpace(a.apiURL), "flag --api-url"},
		envS("BATON_API_URL"), envS("PREFECT_API_URL"),
		hostPort(env.Getenv, "environment BATON_HOST/BATON_PORT"),
		setting{prof["BATON_API_URL"], profSrc},
		hostPort(func(k string) string { return prof[k] }, profSrc),
		setting{pp.settings["PREFECT_API_URL"], prefSrc},
		setting{defaultAPIURL, "default"},
	)
	s.APIURL.Value = strings.TrimRight(s.APIURL.Value, "/")
	s.APIKey = first(envS("BATON_API_KEY"), envS("PREFECT_API_KEY"),
		setting{prof["BATON_API_KEY"], profSrc}, setting{pp.settings["PREFECT_API_KEY"], prefSrc})
	s.CloudURL = first(envS("BATON_CLOUD_API_URL"), envS("PREFECT_CLOUD_API_URL"),
		setting{prof["BATON_CLOUD_API_URL"], profSrc})
	if s.CloudURL.Value == "" {
		// Derived from the API URL, so a workspace URL from any source finds
		// its own server; a Prefect profile's cloud URL comes after that
		// because its default is Prefect Cloud's, not this server's.
		s.CloudURL = setting{cloudBase(s.APIURL.Value), "derived from the API URL (" + s.APIURL.Source + ")"}
	}
	s.CloudURL.Value = strings.TrimRight(s.CloudURL.Value, "/")
	return s
}

// cloudBase strips /accounts/{a}/workspaces/{w} from a workspace URL.
func cloudBase(apiURL string) string {
	if i := strings.Index(apiURL, "/accounts/"); i >= 0 {
		return apiURL[:i]
	}
	return strings.TrimRight(apiURL, "/")
}

// validPort reports whether s is a TCP port number.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}
