package cli

// Single sign-on providers: [[sso]] tables of baton.toml and BATON_SSO_*
// variables, with client secrets sealed by the secrets key.

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// sealedPrefix marks a client secret sealed by `baton secrets seal-sso`.
const sealedPrefix = "sealed:"

// ssoSecretDoc binds a sealed client secret to its provider's name, so a
// sealed value cannot be moved to another provider.
func ssoSecretDoc(name string) model.ID {
	sum := sha256.Sum256([]byte("baton-sso-client-secret\x00" + name))
	var id model.ID
	copy(id[:], sum[:16])
	return id
}

// sealSSOSecret seals a provider's client secret for baton.toml.
func sealSSOSecret(keys *blocks.Keyring, name, secret string) (string, error) {
	b, err := keys.Seal(model.Nil, ssoSecretDoc(name), []byte(secret))
	if err != nil {
		return "", err
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// openSSOSecret opens a sealed client secret (a plain one is returned as
// it is).
func openSSOSecret(keys *blocks.Keyring, name, v string) (string, error) {
	raw, ok := strings.CutPrefix(v, sealedPrefix)
	if !ok {
		return v, nil
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", fmt.Errorf("sso provider %q: client_secret: sealed value is not base64", name)
	}
	plain, err := keys.Open(model.Nil, ssoSecretDoc(name), b)
	if err != nil {
		return "", fmt.Errorf("sso provider %q: client_secret: cannot be opened with this server's secrets key (sealed with another key or for another provider; seal it again with `baton secrets seal-sso %s`)", name, name)
	}
	return string(plain), nil
}

// configFile is baton.toml's path: BATON_CONFIG, else Home/baton.toml.
func configFile(getenv func(string) string, home string) (path string, explicit bool) {
	if p := getenv("BATON_CONFIG"); p != "" {
		return p, true
	}
	return filepath.Join(home, "baton.toml"), false
}

// ssoProviders reads the providers: baton.toml's [[sso]] tables, then
// BATON_SSO_PROVIDERS (comma-separated names) with BATON_SSO_<NAME>_*
// variables, which replace a table of the same name. Sealed client
// secrets are opened with keys.
func ssoProviders(getenv func(string) string, cfg config.Server, keys *blocks.Keyring) ([]tenancy.OIDCProvider, error) {
	var file struct {
		SSO []tenancy.OIDCProvider `toml:"sso"`
	}
	path, explicit := configFile(getenv, cfg.Home)
	if _, err := os.Stat(path); err == nil || explicit {
		md, err := toml.DecodeFile(path, &file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, k := range md.Undecoded() {
			if len(k) > 0 && k[0] == "sso" {
				return nil, fmt.Errorf("%s: unknown setting %q", path, k.String())
			}
		}
	}
	byName := map[string]int{}
	out := file.SSO
	for i, p := range out {
		byName[p.Name] = i
	}
	for _, name := range strings.Split(getenv("BATON_SSO_PROVIDERS"), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		env := func(field string) string {
			return getenv("BATON_SSO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_" + field)
		}
		list := func(field string) []string {
			var l []string
			for _, v := range strings.Split(env(field), ",") {
				if v = strings.TrimSpace(v); v != "" {
					l = append(l, v)
				}
			}
			return l
		}
		p := tenancy.OIDCProvider{Name: name, Kind: env("KIND"), DisplayName: env("DISPLAY_NAME"), Issuer: env("ISSUER"),
			ClientID: env("CLIENT_ID"), ClientSecret: env("CLIENT_SECRET"), RedirectURL: env("REDIRECT_URL"), Scopes: list("SCOPES"),
			AllowedDomains: list("ALLOWED_DOMAINS"), Account: env("ACCOUNT"), DefaultRole: model.Role(env("DEFAULT_ROLE")),
			GitHubURL: env("GITHUB_URL"), GitHubAPIURL: env("GITHUB_API_URL")}
		if i, ok := byName[name]; ok {
			out[i] = p
		} else {
			byName[name] = len(out)
			out = append(out, p)
		}
	}
	for i := range out {
		p := &out[i]
		if p.Kind == "" && (p.Name == tenancy.KindGoogle || p.Name == tenancy.KindGitHub) {
			p.Kind = p.Name
		}
		s, err := openSSOSecret(keys, p.Name, p.ClientSecret)
		if err != nil {
			return nil, err
		}
		p.ClientSecret = s
	}
	return out, nil
}

// sealSSOCmd is `baton secrets seal-sso NAME`.
func (a *app) sealSSOCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "seal-sso NAME",
		Short: "Seal an SSO provider's client secret (read from standard input) for baton.toml",
		Long: `Reads a single-sign-on provider's client secret from standard input and prints it sealed with the
server's secrets key (the one that seals block data), to put in baton.toml as the provider's
client_secret, so the file never holds it in clear. The sealed value is bound to the provider's
name. After ` + "`baton secrets rotate-key`" + `, seal it again.`,
		Example: "  printf %s \"$GOOGLE_CLIENT_SECRET\" | baton secrets seal-sso google",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !tenancy.ValidHandle(args[0]) {
				return usageError("NAME must be the provider's name: lowercase letters, digits and dashes")
			}
			cfg, err := config.ServerFromEnv()
			if err != nil {
				return usageError(err.Error())
			}
			keys, err := blocks.LoadKeyring(blocks.KeySource{Key: cfg.SecretsKey, KeyFile: cfg.SecretsKeyFile, Home: cfg.Home})
			if err != nil {
				return fmt.Errorf("secrets key: %w", err)
			}
			line, err := bufio.NewReader(io.LimitReader(a.env.Stdin, 64<<10)).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			secret := strings.TrimRight(line, "\r\n")
			if secret == "" {
				return usageError("no secret on standard input")
			}
			sealed, err := sealSSOSecret(keys, args[0], secret)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.env.Stdout, sealed)
			return nil
		},
	}
}
