package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/config"
)

// secretsCmd is `baton secrets`: the key that seals block data at rest.
func (a *app) secretsCmd() *cobra.Command {
	var newKeyFile string
	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Re-encrypt every block document under a new secrets key (stop the server first)",
		Long: `Re-encrypts the data of every block document under a new key, in one database transaction.
Stop the server first. With the default key file ($BATON_HOME/secrets.key) a new key is generated
and replaces the file (an interrupted rotation can be run again). With an operator key
(BATON_SECRETS_KEY or BATON_SECRETS_KEY_FILE) give the new key with --new-key-file, then configure it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return secretsRotateKey(cmd.Context(), a.env, newKeyFile)
		},
	}
	rotate.Flags().StringVar(&newKeyFile, "new-key-file", "", "file holding the new base64 32-byte key (required when the key is the operator's)")
	return group("secrets", "Manage the key that encrypts block secrets (and sealed SSO client secrets) at rest", rotate, a.sealSSOCmd())
}

func secretsRotateKey(ctx context.Context, env Env, newKeyFile string) error {
	cfg, err := config.ServerFromEnv()
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return usageError(err.Error())
	}
	var newKey string
	if newKeyFile != "" {
		b, err := os.ReadFile(newKeyFile)
		if err != nil {
			return err
		}
		newKey = string(b)
	}
	st, err := openStore(ctx, cfg, newLogger(env, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	src := blocks.KeySource{Key: cfg.SecretsKey, KeyFile: cfg.SecretsKeyFile, Home: cfg.Home}
	rot, err := blocks.RotateKey(ctx, st, src, newKey)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rotate the secrets key: %w", err)
	}
	fmt.Fprintf(env.Stdout, "re-encrypted %d block documents and %d two-factor secrets under the new key\n", rot.Resealed, rot.TOTPResealed)
	if rot.KeyFile != "" {
		fmt.Fprintln(env.Stdout, "the new key is in", rot.KeyFile)
	} else {
		fmt.Fprintln(env.Stdout, "now set BATON_SECRETS_KEY or BATON_SECRETS_KEY_FILE to the new key before starting the server")
	}
	return nil
}
