package sqlite

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// TestAppendEventJSONMatchesMarshal: the hand-written encoder writes the
// bytes json.Marshal writes, for plain and awkward strings (quotes,
// controls, HTML characters, non-ASCII, invalid UTF-8, U+2028), nil and
// empty maps and lists, payloads with spaces and HTML, and follows set.
func TestAppendEventJSONMatchesMarshal(t *testing.T) {
	awkward := []string{"", "plain.name", `quo"te`, `back\\slash`, "tab\there\nnl\r\b\f\x01", "<b>&amp;</b>", "héllo wörld ✓", "bad\xffutf8", "line\u2028sep\u2029", "\x7f del"}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return awkward[r.IntN(len(awkward))] }
	follows := model.NewID()
	payloads := []json.RawMessage{nil, json.RawMessage(`{}`), json.RawMessage(`{ "a" : [1, 2 ,"<x>"],"b":null }`), json.RawMessage(`"s"`)}
	for i := 0; i < 2000; i++ {
		ev := model.Event{ID: model.NewID(), Occurred: model.NewTime(time.Unix(int64(r.IntN(2e9)), int64(r.IntN(1e9)))), Event: pick(),
			Received: model.NewTime(time.Now()), Payload: payloads[r.IntN(len(payloads))]}
		switch i % 4 {
		case 0:
			ev.Resource = map[string]string{"prefect.resource.id": pick(), pick(): pick(), "z": pick()}
			ev.Related = []map[string]string{{"prefect.resource.id": pick(), "prefect.resource.role": pick()}, nil, {}}
			ev.Follows = &follows
		case 1:
			ev.Related = []map[string]string{}
		case 2:
			ev.Resource = map[string]string{}
		}
		want, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendEventJSON(nil, &ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A payload that is not JSON fails as json.Marshal does.
	bad := model.Event{ID: model.NewID(), Payload: json.RawMessage(`{nope`)}
	if _, err := appendEventJSON(nil, &bad); err == nil {
		t.Fatal("invalid payload encoded")
	}
}
