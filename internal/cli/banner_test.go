package cli

import (
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/config"
)

// The start-up banner names the web UI, the API and the exact export line,
// and each address it prints answers.
func TestBannerShowsWhereTheServerIs(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	banner := srv.out.String()
	base := strings.TrimSuffix(srv.api, "/api")
	for _, want := range []string{
		"is running (server mode)",
		"Web UI:  " + base + "/\n",
		"API:     " + base + "/api\n",
		"  export PREFECT_API_URL=" + base + "/api\n",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	export := regexp.MustCompile(`export PREFECT_API_URL=(\S+)`).FindStringSubmatch(banner)
	if export == nil {
		t.Fatalf("no export line:\n%s", banner)
	}
	for url, want := range map[string]string{export[1] + "/health": "true", base + "/": "<html"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), want) {
			t.Errorf("GET %s: %d %.200s", url, resp.StatusCode, body)
		}
	}

	cloud := startServer(t, "cloud").out.String()
	if !strings.Contains(cloud, "is running (cloud mode)") || !regexp.MustCompile(`export PREFECT_CLOUD_API_URL=http://127\.0\.0\.1:\d+/api\n`).MatchString(cloud) ||
		!strings.Contains(cloud, "prefect cloud login --key pnu_... -w ACCOUNT/WORKSPACE") {
		t.Errorf("cloud-mode banner:\n%s", cloud)
	}
}

// A server listening on every interface is shown at the loopback address
// (what a client on the same machine dials), with a note for other machines.
func TestBannerOnAWildcardAddress(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"0.0.0.0", "::", ""} {
		var b strings.Builder
		printBanner(&b, config.Server{Host: host, Port: 4200, Mode: "server"}, &net.TCPAddr{IP: net.ParseIP(host), Port: 4321})
		out := b.String()
		if !strings.Contains(out, "export PREFECT_API_URL=http://127.0.0.1:4321/api") || !strings.Contains(out, "listening on all interfaces") {
			t.Errorf("host %q:\n%s", host, out)
		}
	}
}
