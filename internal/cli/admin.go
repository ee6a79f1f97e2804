package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/tenancy"
)

func (a *app) adminCmd() *cobra.Command {
	return group("admin", "Administer the server's database directly (bootstrap users, set passwords)",
		a.adminCreateUserCmd(), a.adminSetPasswordCmd())
}

// adminCreateUserCmd bootstraps an install without a browser. It opens the
// server's database itself (so it works before the first start and next to
// a running server), reads the password from stdin so it never appears in
// the process list or shell history, and prints the key exactly once, in a
// login command that works as printed.
func (a *app) adminCreateUserCmd() *cobra.Command {
	var email, name, account, workspace, keyName, serverURL string
	var pwStdin bool
	cmd := &cobra.Command{
		Use:   "create-user",
		Short: "Create a user who owns an account (and workspace), directly in the database",
		Long: "Create a user who owns --account (created, or joined as owner when it exists) and, with\n" +
			"--workspace, a workspace in it. With --api-key-name it also creates an API key and prints it\n" +
			"once, inside the `baton cloud login` command that connects a machine to that workspace.\n" +
			"The database is the one `baton server start` uses with the same BATON_HOME / BATON_DATABASE_PATH.",
		Example: "  echo 'a-long-password' | baton admin create-user --email me@example.com --password-stdin \\\n" +
			"      --account acme --workspace prod --api-key-name laptop",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if email == "" || account == "" || !pwStdin {
				return usageError("--email, --account and --password-stdin are required")
			}
			password, err := a.readPasswordStdin("create-user")
			if err != nil {
				return err
			}
			st, svc, err := a.openTenancy(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := svc.Bootstrap(cmd.Context(), tenancy.SignUp{Email: email, Password: password, Name: name, AccountHandle: account, WorkspaceHandle: workspace})
			if err != nil {
				return fmt.Errorf("create user: %v", err)
			}
			out := a.env.Stdout
			fmt.Fprintf(out, "Created user %s (id %s), owner of account %q (id %s).\n", res.User.Email, res.User.ID, res.Account.Handle, res.Account.ID)
			if res.Workspace != nil {
				fmt.Fprintf(out, "Workspace %s/%s (id %s).\n", res.Account.Handle, res.Workspace.Handle, res.Workspace.ID)
			}
			if keyName == "" {
				return nil
			}
			k, err := svc.CreateAPIKey(cmd.Context(), res.User.ID, keyName, nil)
			if err != nil {
				return fmt.Errorf("create API key: %v", err)
			}
			url := serverURL
			if url == "" {
				url = hostPortURL(a.env.Getenv("BATON_HOST"), a.env.Getenv("BATON_PORT"))
			}
			ws := ""
			if res.Workspace != nil {
				ws = fmt.Sprintf(" -w %s/%s", res.Account.Handle, res.Workspace.Handle)
			}
			// The secret appears exactly once: inside the command to run.
			fmt.Fprintf(out, "API key %q created. It is in the command below and shown only now: store it safely.\n", k.Name)
			fmt.Fprintf(out, "Connect a machine with:\n  baton cloud login --key %s%s --url %s\n", k.Key, ws, url)
			fmt.Fprintf(out, "or with Prefect's CLI (the same key):\n  PREFECT_CLOUD_API_URL=%s prefect cloud login --key <KEY>%s\n", url, ws)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's e-mail (required)")
	f.StringVar(&name, "name", "", "display name (default: the e-mail's local part)")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin (required)")
	f.StringVar(&account, "account", "", "account handle: created, or joined as owner when it exists (required)")
	f.StringVar(&workspace, "workspace", "", "workspace handle in that account: created when missing")
	f.StringVar(&keyName, "api-key-name", "", "also create an API key with this name and print it once")
	f.StringVar(&serverURL, "server-url", "", "the server's API URL for the printed login command (default: from BATON_HOST/BATON_PORT, else http://127.0.0.1:4200/api)")
	return cmd
}

// adminSetPasswordCmd sets a user's password in the database: the way back
// in for a user of an install without e-mail (no reset link is ever logged).
func (a *app) adminSetPasswordCmd() *cobra.Command {
	var email string
	var pwStdin bool
	cmd := &cobra.Command{
		Use:   "set-password",
		Short: "Set a user's password directly in the database (and end the user's sessions)",
		Long: "Set the password of the user with --email, read from the first line of stdin, and sign the\n" +
			"user out everywhere. For installs without an SMTP server, where a password reset link cannot be\n" +
			"e-mailed. The database is the one `baton server start` uses with the same BATON_HOME /\n" +
			"BATON_DATABASE_PATH / BATON_DATABASE_URL.",
		Example: "  echo 'a-new-long-password' | baton admin set-password --email me@example.com --password-stdin",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if email == "" || !pwStdin {
				return usageError("--email and --password-stdin are required")
			}
			password, err := a.readPasswordStdin("set-password")
			if err != nil {
				return err
			}
			st, svc, err := a.openTenancy(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			u, err := svc.SetPassword(cmd.Context(), email, password)
			if err != nil {
				return fmt.Errorf("set password: %v", err)
			}
			fmt.Fprintf(a.env.Stdout, "Password of %s (id %s) set; every session of the user ended.\n", u.Email, u.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's e-mail (required)")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the new password from the first line of stdin (required)")
	return cmd
}

// readPasswordStdin reads a password from the first line of stdin (never
// from a flag, so it stays out of the process list and shell history).
func (a *app) readPasswordStdin(verb string) (string, error) {
	line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError("could not read the password from stdin; pipe it in, e.g. echo 'a-long-password' | baton admin " + verb + " …")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// openTenancy opens the server's database (as `baton server start` with the
// same environment would) and a cloud-mode tenancy service over it.
func (a *app) openTenancy(cmd *cobra.Command) (store.Store, *tenancy.Service, error) {
	cfg, err := a.serverConfig()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return nil, nil, err
	}
	st, err := openStore(cmd.Context(), cfg, newLogger(a.env, "warn", cfg.LogFormat))
	if err != nil {
		return nil, nil, err
	}
	svc, err := tenancy.New(tenancy.Config{Store: st, Mode: tenancy.ModeCloud, WorkspaceCreated: installBlockTypes(st)})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, svc, nil
}
