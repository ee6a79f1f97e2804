package worker

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

func TestScriptCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd    string
		interp []string
		script string
	}{
		{"python flow.py", []string{"python"}, "flow.py"},
		{"python3 -u flows/etl.py", []string{"python3", "-u"}, "flows/etl.py"},
		{"/opt/venv/bin/python3.12 -X utf8 -B run.py", []string{"/opt/venv/bin/python3.12", "-X", "utf8", "-B"}, "run.py"},
		{"python -m prefect.engine", nil, ""},
		{"python flow.py --day 1", nil, ""},
		{"python flow.py && echo done", nil, ""},
		{"bash run.sh", nil, ""},
		{"pythonista flow.py", nil, ""},
		{"python -c 'print(1)'", nil, ""},
		{"python", nil, ""},
	} {
		interp, script, ok := scriptCommand(tc.cmd)
		if ok != (tc.interp != nil) || !reflect.DeepEqual(interp, tc.interp) || script != tc.script {
			t.Errorf("%q: %v %q %v", tc.cmd, interp, script, ok)
		}
	}
}

// fakePrefect writes a stand-in prefect package, with or without an engine
// module, so the detection runs without Prefect.
func fakePrefect(t *testing.T, withEngine bool) string {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "prefect")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"__init__.py": ""}
	if withEngine {
		files["engine.py"] = "pass\n"
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFlowScriptCommandFindsTheFlow(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	work := t.TempDir()
	scripts := map[string]string{
		"one.py":    "from prefect import flow\n\n@flow(name=\"Testing\")\ndef basic_flow():\n    pass\n\nif __name__ == \"__main__\":\n    basic_flow()\n",
		"two.py":    "import prefect\n\n@prefect.flow\ndef extract_all():\n    pass\n\n@prefect.flow(name=\"load\", retries=2)\nasync def load_it():\n    pass\n",
		"none.py":   "print('no flows here')\n",
		"broken.py": "def oops(:\n",
	}
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modern, noEngine := fakePrefect(t, true), fakePrefect(t, false)
	job := func(cmd, pythonPath string) jobConfig {
		return jobConfig{Command: cmd, WorkingDir: work, Env: map[string]string{"PYTHONPATH": pythonPath}, Shell: true}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, cmd, path, flow, entry string
		want                         []string
		wantEntry                    string
	}{
		{"the only flow", py + " one.py", modern, "Testing", "", []string{py, "-m", "prefect.engine"}, "one.py:basic_flow"},
		{"by flow name", py + " two.py", modern, "load", "", []string{py, "-m", "prefect.engine"}, "two.py:load_it"},
		{"by default flow name", py + " -u two.py", modern, "extract-all", "", []string{py, "-u", "-m", "prefect.engine"}, "two.py:extract_all"},
		{"by entrypoint", py + " two.py", modern, "other", "two.py:extract_all", []string{py, "-m", "prefect.engine"}, "two.py:extract_all"},
		{"ambiguous", py + " two.py", modern, "unknown", "", nil, ""},
		{"no flow", py + " none.py", modern, "x", "", nil, ""},
		{"does not parse", py + " broken.py", modern, "x", "", nil, ""},
		{"no Prefect engine", py + " one.py", noEngine, "Testing", "", nil, ""},
		{"no Prefect at all", py + " one.py", t.TempDir(), "Testing", "", nil, ""},
		{"not a script", "echo hi", modern, "x", "", nil, ""},
	} {
		got, entry := flowScriptCommand(ctx, job(tc.cmd, tc.path), tc.flow, tc.entry)
		if !reflect.DeepEqual(got, tc.want) || entry != tc.wantEntry {
			t.Errorf("%s: %v %q, want %v %q", tc.name, got, entry, tc.want, tc.wantEntry)
		}
	}
}

func TestPrefectLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line  string
		level int
		msg   string
		ok    bool
	}{
		{"12:04:05.123 | INFO    | Flow run 'calm-otter' - hello", 20, "Flow run 'calm-otter' - hello", true},
		{"12:04:05.123 | WARNING | prefect.flow_runs - careful", 30, "prefect.flow_runs - careful", true},
		{"\x1b[36m12:04:05.123\x1b[0m | ERROR   | x - boom", 40, "x - boom", true},
		{"23:59:59.999 | CRITICAL | y - down", 50, "y - down", true},
		{"just text", 0, "", false},
		{"12:04:05 | INFO | no millis", 0, "", false},
	} {
		level, msg, ok := prefectLevel(tc.line)
		if level != tc.level || msg != tc.msg || ok != tc.ok {
			t.Errorf("%q: %d %q %v", tc.line, level, msg, ok)
		}
	}
}

// TestPumpKeepsLevels feeds a stderr stream as Python writes it: a Prefect
// INFO record, a multi-line ERROR record written at once, then a plain line
// written later.
func TestPumpKeepsLevels(t *testing.T) {
	t.Parallel()
	l := &logShipper{runID: model.NewID(), log: slog.New(slog.DiscardHandler), ship: true}
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() { defer close(done); l.pump(r, 40) }()
	writes := []string{
		"10:00:00.000 | INFO    | Flow run 'a' - starting\n",
		"10:00:00.100 | ERROR   | Flow run 'a' - failed\nTraceback (most recent call last):\n  ValueError: x\n",
		"plain stderr line\n",
		"12:00:00.000 | DEBUG   | prefect - detail\nno newline at the end",
	}
	for _, s := range writes {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // separate writes arrive separately
	}
	w.Close()
	<-done
	want := []struct {
		level int
		msg   string
	}{
		{20, "Flow run 'a' - starting"}, {40, "Flow run 'a' - failed"}, {40, "Traceback (most recent call last):"},
		{40, "  ValueError: x"}, {40, "plain stderr line"}, {10, "prefect - detail"}, {10, "no newline at the end"},
	}
	if len(l.buf) != len(want) {
		t.Fatalf("%d lines: %+v", len(l.buf), l.buf)
	}
	for i, w := range want {
		if l.buf[i].Level != w.level || l.buf[i].Message != w.msg {
			t.Errorf("line %d: %d %q, want %d %q", i, l.buf[i].Level, l.buf[i].Message, w.level, w.msg)
		}
	}
	// An INFO record followed, in a later write, by a plain stderr line: the
	// plain line is not taken for a continuation.
	l2 := &logShipper{runID: model.NewID(), log: slog.New(slog.DiscardHandler), ship: true}
	r2, w2 := io.Pipe()
	done2 := make(chan struct{})
	go func() { defer close(done2); l2.pump(r2, 40) }()
	_, _ = w2.Write([]byte("10:00:00.000 | INFO    | x - ok\n"))
	time.Sleep(50 * time.Millisecond)
	_, _ = w2.Write([]byte("oops on stderr\n"))
	w2.Close()
	<-done2
	if len(l2.buf) != 2 || l2.buf[0].Level != 20 || l2.buf[1].Level != 40 {
		t.Fatalf("%+v", l2.buf)
	}
}
