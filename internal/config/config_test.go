package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetentionPeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "0.5d": 12 * time.Hour, "12h": 12 * time.Hour, "90": 90 * time.Second,
		"2m": 2 * time.Minute, "0": 0, "forever": 0, "OFF": 0} {
		got, err := ParseRetentionPeriod(in)
		if err != nil || got != want {
			t.Errorf("ParseRetentionPeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1d", "soon", "-5"} {
		if _, err := ParseRetentionPeriod(bad); err == nil {
			t.Errorf("ParseRetentionPeriod(%q) accepted", bad)
		}
	}
}

// TestRetentionFromEnv: retention is on by default with Prefect-like
// periods, and each setting is read from its variable.
func TestRetentionFromEnv(t *testing.T) {
	c, err := ServerFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.Off || c.Retention.FlowRuns != 90*24*time.Hour || c.Retention.Events != 7*24*time.Hour || c.Retention.Batch != 500 {
		t.Fatalf("defaults = %+v", c.Retention)
	}
	t.Setenv("BATON_RETENTION_LOGS", "2m")
	t.Setenv("BATON_RETENTION_EVENTS", "forever")
	t.Setenv("BATON_RETENTION_INTERVAL", "30s")
	c, err = ServerFromEnv()
	if err != nil || c.Retention.Logs != 2*time.Minute || c.Retention.Events != 0 || c.Retention.Interval != 30*time.Second {
		t.Fatalf("from env = %+v %v", c.Retention, err)
	}
	t.Setenv("BATON_RETENTION", "maybe")
	if _, err := ServerFromEnv(); err == nil {
		t.Fatal("BATON_RETENTION=maybe accepted")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"50": {50, 50}, "0.5": {0.5, 1}, "10/40": {10, 40}} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "x", "10/0", "10/x", "Inf"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
}

// TestMemoryLimitFromEnv: the memory budget defaults to 256 MiB, Go's soft
// limit is three eighths of it, and a bad value is refused by name.
func TestMemoryLimitFromEnv(t *testing.T) {
	c, err := ServerFromEnv()
	if err != nil || c.MemoryMB != 256 || c.GoMemoryLimit() != 96<<20 {
		t.Fatalf("defaults = %d MiB, Go limit %d, %v", c.MemoryMB, c.GoMemoryLimit(), err)
	}
	t.Setenv("BATON_MEMORY_LIMIT_MB", "512")
	if c, err = ServerFromEnv(); err != nil || c.MemoryBytes() != 512<<20 {
		t.Fatalf("512: %d, %v", c.MemoryBytes(), err)
	}
	for _, bad := range []string{"lots", "8"} {
		t.Setenv("BATON_MEMORY_LIMIT_MB", bad)
		if _, err := ServerFromEnv(); err == nil || !strings.Contains(err.Error(), "BATON_MEMORY_LIMIT_MB") {
			t.Errorf("%q: err %v, want one naming BATON_MEMORY_LIMIT_MB", bad, err)
		}
	}
}
