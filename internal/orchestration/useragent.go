package orchestration

import "regexp"

// userAgentRE matches the User-Agent the Prefect client sends, e.g.
// "prefect/3.4.11 (API 0.8.4)".
var userAgentRE = regexp.MustCompile(`^prefect/(\d+\.\d+\.\d+\S*) \(API \S+\)$`)

// ClientVersionFromUserAgent returns the Prefect client version a
// User-Agent header announces, or "" for any other agent. Rules that depend
// on client behaviour (deployment lease handling) key on it.
func ClientVersionFromUserAgent(ua string) string {
	m := userAgentRE.FindStringSubmatch(ua)
	if m == nil {
		return ""
	}
	return m[1]
}
