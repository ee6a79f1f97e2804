package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
)

func adminCommands() map[string]command {
	return map[string]command{
		"create-user": {summary: "Create a user who owns an account (and workspace), directly in the database; prints a new API key once", run: adminCreateUser},
	}
}

// adminCreateUser bootstraps an install without a browser. It opens the
// server's database itself (so it works before the first start and next to
// a running server), reads the password from stdin so it never appears in
// the process list or shell history, and prints the key exactly once.
func adminCreateUser(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("baton admin create-user", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	email := fs.String("email", "", "the user's e-mail (required)")
	name := fs.String("name", "", "display name (default: the e-mail's local part)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin (required)")
	account := fs.String("account", "", "account handle: created, or joined as owner when it exists (required)")
	workspace := fs.String("workspace", "", "workspace handle in that account: created when missing")
	keyName := fs.String("api-key-name", "", "also create an API key with this name and print it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *email == "" || *account == "" || !*pwStdin {
		fmt.Fprintln(env.Stderr, "baton: --email, --account and --password-stdin are required")
		return 2
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(env.Stderr, "baton: could not read the password from stdin:", err)
		return 2
	}
	password := strings.TrimRight(line, "\r\n")
	cfg, err := config.ServerFromEnv()
	if err == nil {
		cfg.Home = batonHome(env)
		cfg.DatabasePath = env.Getenv("BATON_DATABASE_PATH")
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 2
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.DatabasePath, Logger: newLogger(env, "warn", cfg.LogFormat)})
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton: open database:", err)
		return 1
	}
	defer st.Close()
	svc, err := tenancy.New(tenancy.Config{Store: st, Mode: tenancy.ModeCloud})
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton:", err)
		return 1
	}
	res, err := svc.Bootstrap(ctx, tenancy.SignUp{Email: *email, Password: password, Name: *name, AccountHandle: *account, WorkspaceHandle: *workspace})
	if err != nil {
		fmt.Fprintln(env.Stderr, "baton: create user:", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "Created user %s (id %s), owner of account %q (id %s).\n", res.User.Email, res.User.ID, res.Account.Handle, res.Account.ID)
	if res.Workspace != nil {
		fmt.Fprintf(env.Stdout, "Workspace %s/%s (id %s).\n", res.Account.Handle, res.Workspace.Handle, res.Workspace.ID)
	}
	if *keyName != "" {
		k, err := svc.CreateAPIKey(ctx, res.User.ID, *keyName, nil)
		if err != nil {
			fmt.Fprintln(env.Stderr, "baton: create API key:", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "API key %q (shown only now; store it safely):\n%s\n", k.Name, k.Key)
		if res.Workspace != nil {
			fmt.Fprintf(env.Stdout, "Connect a machine with:\n  baton cloud login --key <KEY> -w %s/%s\n", res.Account.Handle, res.Workspace.Handle)
		}
	}
	return 0
}
