package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// `make help` lists every make target that has a `## description`, the ones
// with digits in their names included (test-e2e was missing), and prints no
// colour codes into a pipe.
func TestMakeHelpListsEveryDocumentedTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	src, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^([^\s:#=]+):[^=\n]*## `).FindAllStringSubmatch(string(src), -1) {
		want = append(want, m[1])
	}
	if len(want) < 10 {
		t.Fatalf("found only %d documented targets in the Makefile: %v", len(want), want)
	}
	cmd := exec.Command("make", "-s", "help")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	help := string(out)
	if strings.Contains(help, "\033[") {
		t.Errorf("make help wrote colour codes into a pipe:\n%q", help)
	}
	for _, target := range want {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(target) + `\s`).MatchString(help) {
			t.Errorf("make help does not list %q:\n%s", target, help)
		}
	}
	if strings.Contains(help, "$$") {
		t.Errorf("make help shows a Makefile escape ($$):\n%s", help)
	}
}
