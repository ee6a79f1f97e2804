package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

// A viewer may read block documents, with secrets obfuscated, but asking
// for them in clear (include_secrets, in the query or the filter body)
// needs write access; an owner gets them.
func TestIncludeSecretsNeedsWriteAccess(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	alice := s.bootstrap("alice@example.com", "acme", "prod")
	vic := s.bootstrap("vic@example.com", "vic", "home")
	if _, err := s.ten.SetMember(context.Background(), model.RoleOwner, alice.account.ID, "vic@example.com", model.RoleViewer); err != nil {
		t.Fatal(err)
	}
	bt := s.mustCall(alice.key, "POST", alice.base()+"/block_types", map[string]any{"name": "Tok", "slug": "tok"}, 201)
	bs := s.mustCall(alice.key, "POST", alice.base()+"/block_schemas", map[string]any{"block_type_id": bt["id"],
		"fields": map[string]any{"properties": map[string]any{"token": map[string]any{"type": "string"}}, "secret_fields": []string{"token"}}}, 201)
	doc := s.mustCall(alice.key, "POST", alice.base()+"/block_documents", map[string]any{"name": "t", "block_type_id": bt["id"],
		"block_schema_id": bs["id"], "data": map[string]any{"token": "the-token-value"}}, 201)
	one := alice.base() + "/block_documents/" + doc["id"].(string)
	byName := alice.base() + "/block_types/slug/tok/block_documents/name/t"

	for _, tc := range []struct {
		key, method, path string
		body              any
		want              int
		clear             bool
	}{
		{vic.key, "GET", one, nil, 200, false},
		{vic.key, "GET", one + "?include_secrets=true", nil, 403, false},
		{vic.key, "GET", byName + "?include_secrets=true", nil, 403, false},
		{vic.key, "POST", alice.base() + "/block_documents/filter", map[string]any{}, 200, false},
		{vic.key, "POST", alice.base() + "/block_documents/filter", map[string]any{"include_secrets": true}, 403, false},
		{alice.key, "GET", one + "?include_secrets=true", nil, 200, true},
		{alice.key, "GET", byName, nil, 200, false},
		{alice.key, "POST", alice.base() + "/block_documents/filter", map[string]any{"include_secrets": true}, 200, true},
		{alice.key, "GET", one + "?include_secrets=maybe", nil, 422, false},
	} {
		code, raw := s.call(tc.key, tc.method, tc.path, tc.body)
		if code != tc.want {
			t.Errorf("%s %s %v: %d, want %d: %s", tc.method, tc.path, tc.body, code, tc.want, raw)
			continue
		}
		if got := strings.Contains(string(raw), "the-token-value"); got != tc.clear {
			t.Errorf("%s %s %v: secret in clear = %v, want %v: %s", tc.method, tc.path, tc.body, got, tc.clear, raw)
		}
		if code == http.StatusOK && !tc.clear && !strings.Contains(string(raw), "********") {
			t.Errorf("%s %s: no obfuscated value: %s", tc.method, tc.path, raw)
		}
	}
}

// TestProtectedBlockTypeCanBeUpdated: a system block type takes a PATCH of
// its descriptive fields as on Prefect's server (a 3.4 client saving a
// LocalFileSystem block patches the type's description first; Baton
// answered 403 and the save failed) and still cannot be deleted.
func TestProtectedBlockTypeCanBeUpdated(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.do("POST", "/api/block_types/install_system_block_types", nil)
	bt := s.must("GET", "/api/block_types/slug/local-file-system", nil, 200)
	if bt["is_protected"] != true {
		t.Fatalf("not protected: %v", bt)
	}
	id := bt["id"].(string)
	s.must("PATCH", "/api/block_types/"+id, map[string]any{"description": "Stores files on a local disk (older release's text)."}, 204)
	if got := s.must("GET", "/api/block_types/"+id, nil, 200); got["description"] != "Stores files on a local disk (older release's text)." {
		t.Fatalf("description not updated: %v", got["description"])
	}
	s.must("DELETE", "/api/block_types/"+id, nil, 403)
}
