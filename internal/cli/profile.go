package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// withProfiles loads the profiles, runs fn, and saves when fn reports a
// change.
func (a *app) withProfiles(fn func(ps *profileStore) (bool, error)) error {
	ps, err := a.loadProfiles()
	if err != nil {
		return err
	}
	changed, err := fn(ps)
	if err != nil {
		return err
	}
	if changed {
		return ps.save()
	}
	return nil
}

// completeProfiles offers the profile names.
func (a *app) completeProfiles(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ps, err := a.loadProfiles()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return sortedKeys(ps.f.Profiles), cobra.ShellCompDirectiveNoFileComp
}

// completeOneProfile completes the first argument only.
func (a *app) completeOneProfile(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeProfiles(cmd, args, toComplete)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- baton profile ...

func (a *app) profileCmd() *cobra.Command {
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List profiles (* marks the active one)",
		Args:  noArgs,
	}
	lsOut := outputFlag(ls)
	ls.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			type row struct {
				Name   string `json:"name"`
				Active bool   `json:"active"`
			}
			var rows []row
			for _, n := range sortedKeys(ps.f.Profiles) {
				rows = append(rows, row{n, n == ps.f.Active})
			}
			return false, a.emit(*lsOut, rows, func(w io.Writer, pal palette) {
				for _, r := range rows {
					if r.Active {
						fmt.Fprintf(w, "* %s\n", pal.green(r.Name))
					} else {
						fmt.Fprintf(w, "  %s\n", r.Name)
					}
				}
			})
		})
	}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an empty profile",
		Long:  "Create an empty profile called NAME. It does not become active; switch with 'baton profile use NAME'.",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				name := args[0]
				if _, ok := ps.f.Profiles[name]; ok {
					return false, fmt.Errorf("profile %q already exists (baton profile ls)", name)
				}
				ps.f.Profiles[name] = map[string]string{}
				fmt.Fprintf(a.env.Stdout, "Created profile %q. Switch to it with: baton profile use %s\n", name, name)
				return true, nil
			})
		},
	}
	use := &cobra.Command{
		Use:               "use NAME",
		Short:             "Make a profile the active one",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeOneProfile,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				name := args[0]
				if _, ok := ps.f.Profiles[name]; !ok {
					return false, fmt.Errorf("profile %q does not exist; create it with `baton profile create %s`", name, name)
				}
				ps.f.Active = name
				fmt.Fprintf(a.env.Stdout, "Active profile is now %q.\n", name)
				return true, nil
			})
		},
	}
	inspect := &cobra.Command{
		Use:               "inspect [NAME]",
		Short:             "Show a profile's settings (keys masked)",
		Long:              "Show the settings stored in profile NAME (default: the profile in use). API keys are masked.",
		Args:              rangeArgs(0, 1, "[NAME]"),
		ValidArgsFunction: a.completeOneProfile,
	}
	inspOut := outputFlag(inspect)
	inspect.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			name := ps.current
			if len(args) > 0 {
				name = args[0]
			}
			p, ok := ps.f.Profiles[name]
			if !ok {
				return false, fmt.Errorf("profile %q does not exist (baton profile ls)", name)
			}
			masked := map[string]string{}
			for k, v := range p {
				masked[k] = mask(k, v)
			}
			return false, a.emit(*inspOut, masked, func(w io.Writer, pal palette) {
				if len(p) == 0 {
					fmt.Fprintf(w, "profile %q is empty\n", name)
					return
				}
				for _, k := range sortedKeys(masked) {
					fmt.Fprintf(w, "%s=%s\n", pal.bold(k), masked[k])
				}
			})
		})
	}
	rename := &cobra.Command{
		Use:               "rename OLD NEW",
		Short:             "Rename a profile",
		Args:              exactArgs("OLD", "NEW"),
		ValidArgsFunction: a.completeOneProfile,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				from, to := args[0], args[1]
				p, ok := ps.f.Profiles[from]
				if !ok {
					return false, fmt.Errorf("profile %q does not exist (baton profile ls)", from)
				}
				if _, ok := ps.f.Profiles[to]; ok {
					return false, fmt.Errorf("profile %q already exists; pick another name", to)
				}
				delete(ps.f.Profiles, from)
				ps.f.Profiles[to] = p
				if ps.f.Active == from {
					ps.f.Active = to
				}
				fmt.Fprintf(a.env.Stdout, "Renamed profile %q to %q.\n", from, to)
				return true, nil
			})
		},
	}
	del := &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete a profile (not the active one)",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: a.completeOneProfile,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				name := args[0]
				if _, ok := ps.f.Profiles[name]; !ok {
					return false, fmt.Errorf("profile %q does not exist (baton profile ls)", name)
				}
				if name == ps.f.Active {
					return false, fmt.Errorf("profile %q is active; switch to another one first (baton profile use OTHER)", name)
				}
				delete(ps.f.Profiles, name)
				fmt.Fprintf(a.env.Stdout, "Deleted profile %q.\n", name)
				return true, nil
			})
		},
	}
	return group("profile", "Manage client profiles ($BATON_HOME/profiles.toml)", ls, create, use, inspect, rename, del)
}

// mask hides all but a key's display prefix.
func mask(name, v string) string {
	if name != "BATON_API_KEY" || len(v) <= 8 {
		return v
	}
	return v[:8] + strings.Repeat("*", 8)
}

// --- baton config ...

// settingNames lists every name `baton config set|unset` accepts.
func settingNames() []string {
	names := sortedKeys(profileSettings)
	names = append(names, sortedKeys(settingAliases)...)
	return names
}

func (a *app) configCmd() *cobra.Command {
	var settingHelp strings.Builder
	for _, n := range sortedKeys(profileSettings) {
		fmt.Fprintf(&settingHelp, "  %-22s %s\n", n, profileSettings[n])
	}
	for _, n := range sortedKeys(settingAliases) {
		fmt.Fprintf(&settingHelp, "  %-22s same as %s\n", n, settingAliases[n])
	}
	set := &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set settings in the profile in use",
		Long: "Store settings in the profile in use. The names are the environment's: a variable set in the\n" +
			"environment overrides the profile.\n\nSettings:\n" + settingHelp.String(),
		Example: "  baton config set BATON_API_URL=http://127.0.0.1:4200/api\n  baton config set PREFECT_API_URL=http://10.0.0.5:4200/api",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("missing NAME=VALUE")
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			out := []string{}
			for _, n := range settingNames() {
				out = append(out, n+"=")
			}
			return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				updates := map[string]string{}
				for _, arg := range args {
					name, value, ok := strings.Cut(arg, "=")
					if !ok {
						return false, usageError(fmt.Sprintf("%q is not NAME=VALUE", arg))
					}
					canon, err := canonicalSetting(name)
					if err != nil {
						return false, err
					}
					if err := checkSettingValue(canon, value); err != nil {
						return false, err
					}
					updates[canon] = value
					if canon != name {
						fmt.Fprintf(a.env.Stdout, "Set %s (stored as %s).\n", name, canon)
					} else {
						fmt.Fprintf(a.env.Stdout, "Set %s.\n", name)
					}
					for _, envName := range append([]string{canon}, aliasesOf(canon)...) {
						if a.env.Getenv(envName) != "" {
							fmt.Fprintf(a.env.Stderr, "Warning: %s is also set in the environment, which overrides the profile.\n", envName)
						}
					}
				}
				for k, v := range updates {
					ps.active()[k] = v
				}
				fmt.Fprintf(a.env.Stdout, "Updated profile %q.\n", ps.current)
				return true, nil
			})
		},
	}
	unset := &cobra.Command{
		Use:   "unset NAME...",
		Short: "Remove settings from the profile in use",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("missing NAME")
			}
			return nil
		},
		ValidArgsFunction: cobra.FixedCompletions(settingNames(), cobra.ShellCompDirectiveNoFileComp),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withProfiles(func(ps *profileStore) (bool, error) {
				for _, name := range args {
					canon, err := canonicalSetting(name)
					if err != nil {
						return false, err
					}
					if _, ok := ps.active()[canon]; !ok {
						return false, fmt.Errorf("%s is not set in profile %q (baton config view)", canon, ps.current)
					}
					delete(ps.active(), canon)
					fmt.Fprintf(a.env.Stdout, "Unset %s.\n", canon)
				}
				return true, nil
			})
		},
	}
	view := &cobra.Command{
		Use:   "view",
		Short: "Show the effective client settings and where each comes from",
		Args:  noArgs,
	}
	showSecrets := view.Flags().Bool("show-secrets", false, "print API keys in full")
	viewOut := outputFlag(view)
	view.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withProfiles(func(ps *profileStore) (bool, error) {
			eff := a.resolve(ps)
			if !*showSecrets {
				eff.APIKey.Value = mask("BATON_API_KEY", eff.APIKey.Value)
			}
			stored := map[string]string{}
			for k, v := range ps.active() {
				if !*showSecrets {
					v = mask(k, v)
				}
				stored[k] = v
			}
			out := struct {
				clientSettings
				Stored map[string]string `json:"profile_settings"`
			}{eff, stored}
			return false, a.emit(*viewOut, out, func(w io.Writer, pal palette) {
				fmt.Fprintf(w, "%s %s\n", pal.bold("Profile:"), ps.current)
				for _, k := range sortedKeys(stored) {
					fmt.Fprintf(w, "  %s=%s\n", k, stored[k])
				}
				if len(stored) == 0 {
					fmt.Fprintln(w, "  (no settings stored)")
				}
				fmt.Fprintln(w, pal.bold("Effective:"))
				key := eff.APIKey
				if key.Value == "" {
					key = setting{"(none)", "not set anywhere"}
				}
				t := newTable("SETTING", "VALUE", "FROM")
				t.add("API URL", eff.APIURL.Value, eff.APIURL.Source)
				t.add("API key", key.Value, key.Source)
				t.add("cloud API URL", eff.CloudURL.Value, eff.CloudURL.Source)
				a.renderTable(w, pal, t)
			})
		})
	}
	return group("config", "Set, unset and view client settings in the profile in use", set, unset, view)
}

// aliasesOf lists the environment's other names for a canonical setting.
func aliasesOf(canon string) []string {
	var out []string
	for alias, c := range settingAliases {
		if c == canon {
			out = append(out, alias)
		}
	}
	sort.Strings(out)
	return out
}

// checkSettingValue refuses values that could never work.
func checkSettingValue(name, value string) error {
	switch name {
	case "BATON_API_URL", "BATON_CLOUD_API_URL", "BATON_SERVER_API_URL":
		if value != "" && !strings.HasPrefix(value, "http://") && !strings.HasPrefix(value, "https://") {
			return usageError(fmt.Sprintf("%s must be an http:// or https:// URL, e.g. http://127.0.0.1:4200/api (got %q)", name, value))
		}
	case "BATON_PORT":
		if !validPort(value) {
			return usageError(fmt.Sprintf("BATON_PORT must be a port number between 1 and 65535 (got %q)", value))
		}
	case "BATON_BACKEND":
		if value != "cloud" && value != "server" {
			return usageError(fmt.Sprintf("BATON_BACKEND must be cloud or server (got %q)", value))
		}
	}
	return nil
}
