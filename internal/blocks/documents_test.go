package blocks

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestObfuscate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data, want string
		secrets    []string
	}{
		{`{"value":"s3cret","other":"x"}`, `{"value":"********","other":"x"}`, []string{"value"}},
		{`{"value":null}`, `{"value":null}`, []string{"value"}},
		{`{"creds":{"key":"k","secret":"s"}}`, `{"creds":{"key":"k","secret":"********"}}`, []string{"creds.secret"}},
		{`{"headers":{"a":"1","b":"2"},"url":"u"}`, `{"headers":{"a":"********","b":"********"},"url":"u"}`, []string{"headers.*"}},
		// Prefect's quirk kept: an empty object under a wildcard secret reads as obfuscated.
		{`{"headers":{}}`, `{"headers":"********"}`, []string{"headers.*"}},
		{`{"n":5}`, `{"n":"********"}`, []string{"n"}},
	} {
		got := obfuscate(obj(t, tc.data), tc.secrets)
		if !reflect.DeepEqual(got, obj(t, tc.want)) {
			t.Errorf("obfuscate(%s, %v) = %v, want %s", tc.data, tc.secrets, got, tc.want)
		}
	}
}

func TestKeepSecrets(t *testing.T) {
	t.Parallel()
	cur := obj(t, `{"value":"real","headers":{"a":"A"}}`)
	got := keepSecrets(obj(t, `{"value":"********","headers":{"a":"********"}}`), cur, []string{"value", "headers.*"})
	if !reflect.DeepEqual(got, cur) {
		t.Fatalf("obfuscated values posted back replaced the stored ones: %v", got)
	}
	got = keepSecrets(obj(t, `{"value":"new"}`), cur, []string{"value"})
	if got["value"] != "new" {
		t.Fatalf("a new secret was not taken: %v", got)
	}
}

func TestSplitReferences(t *testing.T) {
	t.Parallel()
	parent, ref := model.NewID(), model.NewID()
	own, refs, err := splitReferences(parent, obj(t, `{"bucket":"b","credentials":{"$ref":{"block_document_id":"`+ref.String()+`"}},"nested":{"x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Ref != ref || refs[0].Name != "credentials" || refs[0].Parent != parent {
		t.Fatalf("refs = %+v", refs)
	}
	if _, ok := own["credentials"]; ok || own["bucket"] != "b" || own["nested"] == nil {
		t.Fatalf("own = %v", own)
	}
	if _, _, err := splitReferences(parent, obj(t, `{"c":{"$ref":{}}}`)); !errors.Is(err, ErrBadReference) {
		t.Fatalf("ref without id: %v", err)
	}
}

func TestValidateData(t *testing.T) {
	t.Parallel()
	fields := json.RawMessage(`{"required":["bucket_name"],"properties":{"bucket_name":{"type":"string"},"n":{"type":"integer"},"tags":{"type":"array"},"opt":{"anyOf":[{"type":"string"},{"type":"null"}]}}}`)
	if err := validateData(fields, obj(t, `{"bucket_name":"b","n":3,"tags":[],"opt":null}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`{"n":3}`, `{"bucket_name":1}`, `{"bucket_name":"b","n":1.5}`, `{"bucket_name":"b","tags":"x"}`} {
		if err := validateData(fields, obj(t, bad)); !errors.Is(err, ErrInvalidData) {
			t.Errorf("validateData(%s) = %v, want ErrInvalidData", bad, err)
		}
	}
}
