package cli

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testEnv runs commands in-process with a private BATON_HOME and HOME (so
// no real profile is read) and the given extra environment.
type testEnv struct {
	t    *testing.T
	home string
	vars map[string]string
	// width, when > 0, makes stdout and stderr terminals of that width.
	width int
	// openURL, when set, is the browser (Env.OpenURL).
	openURL func(string) error
}

func newTestEnv(t *testing.T) *testEnv {
	return &testEnv{t: t, home: t.TempDir(), vars: map[string]string{}}
}

func (e *testEnv) getenv(k string) string {
	if v, ok := e.vars[k]; ok {
		return v
	}
	switch k {
	case "BATON_HOME":
		return e.home
	case "HOME":
		return e.home + "/user-home"
	}
	return ""
}

func (e *testEnv) env(stdin io.Reader, out, errb io.Writer) Env {
	env := Env{Stdin: stdin, Stdout: out, Stderr: errb, Getenv: e.getenv, OpenURL: e.openURL}
	if e.width > 0 {
		env.Terminal = func(io.Writer) (int, bool) { return e.width, true }
	}
	return env
}

func (e *testEnv) run(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, e.env(strings.NewReader(stdin), &out, &errb), args)
	return code, out.String(), errb.String()
}

// mustRun runs a command that must succeed and returns its stdout.
func (e *testEnv) mustRun(args ...string) string {
	e.t.Helper()
	code, out, errs := e.run("", args...)
	if code != 0 {
		e.t.Fatalf("baton %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (e *testEnv) profile() profilesFile {
	a := &app{env: Env{Getenv: e.getenv}}
	ps, err := a.loadProfiles()
	if err != nil {
		e.t.Fatal(err)
	}
	return ps.f
}

// lockedBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var bannerAPI = regexp.MustCompile(`API:\s+(http://\S+/api)`)

// testServer is a real `baton server start` running in-process on a free
// loopback port with its own home.
type testServer struct {
	api  string
	home string
	out  *lockedBuffer
}

// startServer runs `baton server start` (mode "server" or "cloud") until the
// test ends and returns its API URL, read from the start-up banner.
func startServer(t *testing.T, mode string) testServer {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	env := Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: logs, Getenv: func(k string) string {
		return map[string]string{"BATON_HOME": home}[k]
	}}
	go func() {
		done <- Run(ctx, env, []string{"server", "start", "--host", "127.0.0.1", "--port", "0", "--home", home, "--mode", mode, "--log-level", "warn"})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := bannerAPI.FindStringSubmatch(out.String()); m != nil {
			return testServer{api: m[1], home: home, out: out}
		}
		select {
		case code := <-done:
			t.Fatalf("server exited with %d:\n%s\n%s", code, out.String(), logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no banner within 20s:\n%s\n%s", out.String(), logs.String())
	return testServer{}
}
