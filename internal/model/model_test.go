package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 8, 21, 16, 27, 1, 123456000, time.UTC)
	for _, s := range []string{
		"2026-08-21T16:27:01.123456Z",
		"2026-08-21T16:27:01.123456+00:00",
		"2026-08-21 16:27:01.123456+00:00", // Python str(datetime), as scheduled_before is sent
		"2026-08-21T18:27:01.123456+02:00",
		"2026-08-21T16:27:01.123456",     // naive → UTC
		"2026-08-21T16:27:01.123456789Z", // nanoseconds truncate to micros
	} {
		got, err := ParseTime(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("%q: got %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"", "tomorrow", "2026-13-01T00:00:00Z", "16:27"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("%q: want an error", s)
		}
	}
	b, _ := json.Marshal(NewTime(want))
	if string(b) != `"2026-08-21T16:27:01.123456Z"` {
		t.Fatalf("marshal: %s", b)
	}
}

func TestIDRoundTrip(t *testing.T) {
	t.Parallel()
	id := NewID()
	for _, s := range []string{id.String(), strings.ToUpper(id.String()), strings.ReplaceAll(id.String(), "-", ""), "{" + id.String() + "}"} {
		got, err := ParseID(s)
		if err != nil || got != id {
			t.Fatalf("%q: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "xyz", id.String()[:35], id.String() + "0", strings.Replace(id.String(), "-", "+", 1)} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("%q: want an error", s)
		}
	}
	if v := NewIDv7(); v[6]>>4 != 7 {
		t.Fatalf("v7 version nibble: %x", v[6])
	}
	a := NewIDv7()
	time.Sleep(2 * time.Millisecond)
	b := NewIDv7()
	if a.String() >= b.String() {
		t.Fatalf("v7 ids must be time ordered: %s %s", a, b)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	t.Parallel()
	var fr FlowRunCreate
	err := json.Unmarshal([]byte(`{"flow_id": "nope"}`), &fr)
	var te *json.UnmarshalTypeError
	if !errorsAs(err, &te) || te.Field != "flow_id" {
		t.Fatalf("want a type error on flow_id, got %#v", err)
	}
	var sc StateCreate
	if err := json.Unmarshal([]byte(`{"type": "DANCING"}`), &sc); err == nil {
		t.Fatal("unknown state type must fail")
	}
}

func errorsAs(err error, te **json.UnmarshalTypeError) bool {
	v, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = v
	}
	return ok
}

func TestStateHelpers(t *testing.T) {
	t.Parallel()
	if StateCancelling.DefaultName() != "Cancelling" || !StateCrashed.Terminal() || StateRunning.Terminal() {
		t.Fatal("state type helpers")
	}
	persisted := State{Data: json.RawMessage(`{"storage_key": "k"}`)}
	unpersisted := State{Data: json.RawMessage(`{"type": "unpersisted"}`)}
	if !persisted.HasPersistedData() || unpersisted.HasPersistedData() || (&State{}).HasPersistedData() {
		t.Fatal("HasPersistedData")
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-08-21 16:27:01.123456+00:00", "2026-08-21T16:27:01Z", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err != nil {
			return
		}
		back, err := ParseTime(tm.Format(TimeLayout))
		if err != nil || !back.Equal(tm.Time) {
			t.Fatalf("round trip of %q: %v %v", s, back, err)
		}
	})
}

func FuzzParseID(f *testing.F) {
	f.Add("6b1b5d8e-5e0c-4c3a-9d6e-0b3f1f0c2a11")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if back, err := ParseID(id.String()); err != nil || back != id {
			t.Fatalf("round trip of %q", s)
		}
	})
}
