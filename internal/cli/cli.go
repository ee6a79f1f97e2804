// Package cli implements the baton command line: the server, migrations and
// (growing with later work) the client-side verbs. Each command parses its
// own flags with the standard library and returns an exit code.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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
}

// DefaultEnv is the process's own streams and environment.
func DefaultEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// command is one verb (possibly with sub-verbs).
type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) int
	subs    map[string]command
}

func commands() map[string]command {
	return map[string]command{
		"server": {summary: "Run the Baton server", subs: map[string]command{
			"start": {summary: "Start the API, the web UI and the background services", run: serverStart},
		}},
		"migrate": {summary: "Manage the database schema", subs: map[string]command{
			"up":       {summary: "Apply pending migrations", run: migrateUp},
			"validate": {summary: "Check applied migrations and database integrity", run: migrateValidate},
		}},
		"cloud":      {summary: "Log in to a cloud-mode Baton and switch workspaces", subs: cloudCommands()},
		"auth":       {summary: "Log in or out (older form of baton cloud)", subs: authCommands()},
		"backend":    {summary: "Switch between a cloud-mode and a server-mode Baton", subs: backendCommands()},
		"profile":    {summary: "Manage client profiles ($BATON_HOME/profiles.toml)", subs: profileCommands()},
		"config":     {summary: "Set, unset and view client settings in the active profile", subs: configCommandsTable()},
		"admin":      {summary: "Administer the server's database directly (bootstrap users)", subs: adminCommands()},
		"worker":     {summary: "Run flow runs of a work pool as local processes", subs: workerCommands()},
		"deployment": {summary: "List, inspect, run, pause and resume deployments", subs: deploymentCommands()},
		"work-pool":  {summary: "Create, list, inspect and pause work pools", subs: workPoolCommands()},
		"flow-run":   {summary: "List, inspect and cancel flow runs, and print their logs", subs: flowRunCommands()},
		"dev":        {summary: "Developer tools (seed the database with realistic data at scale)", subs: devCommands()},
		"version": {summary: "Print Baton's version", run: func(ctx context.Context, env Env, args []string) int {
			fmt.Fprintf(env.Stdout, "baton %s\n", Version)
			return 0
		}},
	}
}

// Run executes the command line args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, env Env, args []string) int {
	return dispatch(ctx, env, commands(), args, "baton")
}

func dispatch(ctx context.Context, env Env, cmds map[string]command, args []string, prefix string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout, cmds, prefix)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: unknown command %q\n\n", prefix, args[0])
		usage(env.Stderr, cmds, prefix)
		return 2
	}
	if cmd.subs != nil {
		return dispatch(ctx, env, cmd.subs, args[1:], prefix+" "+args[0])
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command, prefix string) {
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", prefix)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for details.\n", strings.TrimSpace(prefix))
}
