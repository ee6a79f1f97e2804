// Package cli implements the baton command line: the server, migrations, the
// worker and the client-side verbs (profiles, cloud login, deployments, work
// pools, flow runs). Commands are built with cobra, one fresh tree per Run,
// and reach the outside world only through an Env, so tests run them
// in-process with their own streams and environment.
//
// Conventions every command follows: --help exits 0 and names every
// argument; a usage mistake exits 2 and an operational failure 1; listings
// and inspections take --output table|json|yaml; colour only on a terminal
// and never under NO_COLOR; errors say what to do next and never show a
// server's internals.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Version is Baton's version, set at build time with
// -ldflags "-X github.com/batonhq/baton/internal/cli.Version=...".
var Version = "0.1.0-dev"

// Env gives commands their standard streams and environment, so tests can
// run them in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Terminal reports whether w is an interactive terminal and its width in
	// columns (0 when unknown). It decides colour and how wide tables may
	// grow. Nil means never a terminal (pipes, files, tests).
	Terminal func(w io.Writer) (width int, ok bool)
	// OpenURL opens a page in the user's browser (`cloud login` without
	// --key). Nil runs $BROWSER, else xdg-open or open.
	OpenURL func(url string) error
}

// DefaultEnv is the process's own streams and environment.
func DefaultEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Terminal: fileTerminal}
}

// fileTerminal is Env.Terminal for real files.
func fileTerminal(w io.Writer) (int, bool) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0, true
	}
	return width, true
}

// usageError is a command-line mistake: exit code 2, with a pointer to
// --help.
type usageError string

func (e usageError) Error() string { return string(e) }

// exitError ends a command with a specific exit code after its message
// (for example a watched run that did not complete).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// app is one invocation: the environment and the global flags every
// command may consult.
type app struct {
	env Env
	// apiURL is --api-url: the highest-precedence API address.
	apiURL string
	// profile is --profile: which Baton profile to use instead of the
	// active one.
	profile string
	// used is the connection a client command resolved, for errors that
	// say which address was tried and where it came from.
	used *clientSettings
	// watchTick, when set, paces the polls of --watch (tests); by default
	// they are 500 ms apart.
	watchTick func() <-chan time.Time
}

// Run executes the command line args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	a := &app{env: env}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	return a.report(cmd, err)
}

// report prints err the way a user can act on and returns the exit code.
func (a *app) report(cmd *cobra.Command, err error) int {
	pal := a.palette(a.env.Stderr)
	var ue usageError
	var ee exitError
	switch {
	case errors.As(err, &ue) || isCobraUsage(err):
		fmt.Fprintf(a.env.Stderr, "%s %s\n", pal.red("Error:"), err)
		if cmd != nil {
			fmt.Fprintf(a.env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(a.env.Stderr, "%s %s\n", pal.red("Error:"), ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(a.env.Stderr, "%s %s\n", pal.red("Error:"), a.explain(err))
		return 1
	}
}

// isCobraUsage recognises the argument errors cobra itself returns.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.HasPrefix(s, "invalid argument") ||
		strings.Contains(s, "flag needs an argument") || strings.HasPrefix(s, "required flag")
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "baton",
		Short: "Baton: a workflow orchestration server for the Prefect 3 client, in one binary",
		Long: `Baton is a workflow orchestration server that the Prefect 3 Python client talks to unchanged,
its worker, and this command line client.

Start a server with 'baton server start', then point Prefect at it:
  export PREFECT_API_URL=http://127.0.0.1:4200/api

Client commands find the server through, in order: --api-url; BATON_API_URL, PREFECT_API_URL,
or BATON_HOST/BATON_PORT in the environment; the active Baton profile ($BATON_HOME/profiles.toml);
the active Prefect profile (~/.prefect/profiles.toml); http://127.0.0.1:4200/api.
'baton config view' shows what was chosen and why.`,
		Version:           Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		Args:              noArgs,
		RunE:              showHelp,
		// Suggest "deployment" for "deploymnt".
		SuggestionsMinimumDistance: 2,
	}
	root.SetVersionTemplate("baton {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError(err.Error()) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.apiURL, "api-url", "", "the API to talk to, e.g. http://host:4200/api (overrides the environment and profiles)")
	pf.StringVar(&a.profile, "profile", "", "use this Baton profile instead of the active one (also BATON_PROFILE)")
	_ = root.RegisterFlagCompletionFunc("profile", a.completeProfiles)

	root.AddGroup(&cobra.Group{ID: "server", Title: "Server and worker:"}, &cobra.Group{ID: "client", Title: "Orchestration:"},
		&cobra.Group{ID: "settings", Title: "Connection and settings:"})
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("server", a.serverCmd(), a.migrateCmd(), a.backupCmd(), a.restoreCmd(), a.vacuumCmd(), a.secretsCmd(), a.adminCmd(), a.workerCmd(), a.devCmd())
	add("client", a.deploymentCmd(), a.workPoolCmd(), a.flowRunCmd(), a.variableCmd(), a.blockCmd(), a.automationCmd())
	add("settings", a.cloudCmd(), a.profileCmd(), a.configCmd(), a.authCmd(), a.backendCmd())
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print Baton's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "baton %s\n", Version)
			return nil
		},
	})
	return root
}

// group builds a command that only holds sub-commands: without arguments it
// prints its help (exit 0); an unknown sub-command is a usage error.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: noArgs, RunE: showHelp, SuggestionsMinimumDistance: 2}
	c.AddCommand(subs...)
	return c
}

// showHelp is the RunE of commands that only group others.
func showHelp(cmd *cobra.Command, args []string) error { return cmd.Help() }

// noArgs refuses positional arguments, naming an unknown sub-command as such.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError(msg)
	}
	return usageError(fmt.Sprintf("%q takes no arguments (got %q)", cmd.CommandPath(), strings.Join(args, " ")))
}

// exactArgs requires one positional argument per name (the names appear in
// the message, matching the Use line).
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return usageError(fmt.Sprintf("missing %s", strings.Join(names[len(args):], " and ")))
		}
		return usageError(fmt.Sprintf("too many arguments: %s takes %s, got %q", cmd.CommandPath(), strings.Join(names, " "), strings.Join(args, " ")))
	}
}

// rangeArgs allows between min and max positional arguments.
func rangeArgs(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return usageError("missing " + names)
		}
		if len(args) > max {
			return usageError(fmt.Sprintf("too many arguments: %s takes %s, got %q", cmd.CommandPath(), names, strings.Join(args, " ")))
		}
		return nil
	}
}
