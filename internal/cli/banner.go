package cli

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/batonhq/baton/internal/config"
)

// printBanner tells whoever started the server where it is and how to point
// Prefect at it: the API and UI addresses and the exact line to export.
// A wildcard listen address is shown as loopback, which is what a client on
// the same machine dials.
func printBanner(w io.Writer, cfg config.Server, addr net.Addr) {
	host, port := cfg.Host, cfg.Port
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	shown := host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		shown = "127.0.0.1"
	}
	base := "http://" + net.JoinHostPort(shown, strconv.Itoa(port))
	fmt.Fprintf(w, "\nBaton %s is running (%s mode).\n\n", Version, cfg.Mode)
	fmt.Fprintf(w, "  Web UI:  %s/\n", base)
	fmt.Fprintf(w, "  API:     %s/api\n", base)
	if shown != host {
		fmt.Fprintf(w, "  (listening on all interfaces; other machines use this machine's address)\n")
	}
	if cfg.Mode == "cloud" {
		fmt.Fprintf(w, "\nCreate a user and an API key in the web UI (or with `baton admin create-user`), then:\n\n")
		fmt.Fprintf(w, "  export PREFECT_CLOUD_API_URL=%s/api\n", base)
		fmt.Fprintf(w, "  prefect cloud login --key pnu_... -w ACCOUNT/WORKSPACE\n\n")
		return
	}
	fmt.Fprintf(w, "\nPoint the Prefect client at it:\n\n")
	fmt.Fprintf(w, "  export PREFECT_API_URL=%s/api\n\n", base)
}
