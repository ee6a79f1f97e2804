package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/tenancy"
)

func testKeyring(t *testing.T, b byte) *blocks.Keyring {
	t.Helper()
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	kr, err := blocks.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestSSOProvidersFromTOMLAndEnv: baton.toml's [[sso]] tables and
// BATON_SSO_* variables configure providers; a client secret sealed with
// the secrets key is opened, one sealed for another provider or with
// another key is refused by name, and the file never holds it in clear.
func TestSSOProvidersFromTOMLAndEnv(t *testing.T) {
	home := t.TempDir()
	keys := testKeyring(t, 7)
	sealed, err := sealSSOSecret(keys, "okta", "okta-secret-in-clear")
	if err != nil {
		t.Fatal(err)
	}
	toml := `[[sso]]
name = "okta"
display_name = "Okta"
issuer = "https://acme.okta.test"
client_id = "okta-client"
client_secret = "` + sealed + `"
allowed_domains = ["acme.test"]
account = "acme"
default_role = "developer"
`
	if err := os.WriteFile(filepath.Join(home, "baton.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BATON_SSO_PROVIDERS": "google, github", "BATON_SSO_GOOGLE_CLIENT_ID": "g-id", "BATON_SSO_GOOGLE_CLIENT_SECRET": "g-secret",
		"BATON_SSO_GITHUB_CLIENT_ID": "gh-id", "BATON_SSO_GITHUB_CLIENT_SECRET": "gh-secret", "BATON_SSO_GITHUB_ALLOWED_DOMAINS": "a.test,b.test"}
	getenv := func(k string) string { return env[k] }
	ps, err := ssoProviders(getenv, config.Server{Home: home}, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].ClientSecret != "okta-secret-in-clear" || ps[0].Account != "acme" || ps[1].Kind != tenancy.KindGoogle ||
		ps[2].Kind != tenancy.KindGitHub || len(ps[2].AllowedDomains) != 2 {
		t.Fatalf("providers: %v", ps)
	}
	if _, err := tenancy.New(tenancy.Config{Store: nil}); err == nil {
		t.Fatal("tenancy.New without a store")
	}
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if strings.Contains(p.String(), p.ClientSecret) {
			t.Fatalf("String shows the secret: %s", p)
		}
	}
	// Sealed with another key: refused, naming the provider.
	if _, err := ssoProviders(getenv, config.Server{Home: home}, testKeyring(t, 8)); err == nil || !strings.Contains(err.Error(), `"okta"`) {
		t.Fatalf("another key: %v", err)
	}
	// Sealed for another provider: refused.
	moved := strings.Replace(toml, `name = "okta"`, `name = "evil"`, 1)
	_ = os.WriteFile(filepath.Join(home, "baton.toml"), []byte(moved), 0o600)
	if _, err := ssoProviders(getenv, config.Server{Home: home}, keys); err == nil {
		t.Fatal("a sealed secret moved to another provider was opened")
	}
	// A misspelt setting is named.
	_ = os.WriteFile(filepath.Join(home, "baton.toml"), []byte("[[sso]]\nname = \"x\"\nclient_sercet = \"s\"\n"), 0o600)
	if _, err := ssoProviders(getenv, config.Server{Home: home}, keys); err == nil || !strings.Contains(err.Error(), "client_sercet") {
		t.Fatalf("misspelt key: %v", err)
	}
}
