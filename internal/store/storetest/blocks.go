package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func testBlocks(t *testing.T, s store.Store) {
	ctx := context.Background()
	bt, err := s.BlockTypeCreate(ctx, ws, model.BlockType{Name: "My Creds", Slug: "my-creds"})
	must(t, err)
	_, err = s.BlockTypeCreate(ctx, ws, model.BlockType{Name: "Other", Slug: "my-creds"})
	wantErr(t, err, store.ErrConflict)
	bucket, err := s.BlockTypeCreate(ctx, ws, model.BlockType{Name: "Bucket", Slug: "bucket", Description: ptr("d")})
	must(t, err)
	got, err := s.BlockTypeGet(ctx, ws, store.RefName("my-creds"))
	must(t, err)
	if got.ID != bt.ID {
		t.Fatalf("by slug = %+v", got)
	}
	_, err = s.BlockTypeGet(ctx, ws, store.RefID(model.NewID()))
	wantErr(t, err, store.ErrNotFound)
	must(t, s.BlockTypeUpdate(ctx, ws, bucket.ID, model.BlockTypeUpdate{Description: ptr("new")}))
	got, err = s.BlockTypeGet(ctx, ws, store.RefID(bucket.ID))
	must(t, err)
	if *got.Description != "new" {
		t.Fatalf("update = %+v", got)
	}
	up, err := s.BlockTypeUpsert(ctx, ws, model.BlockType{Name: "Bucket v2", Slug: "bucket", IsProtected: true})
	must(t, err)
	if up.ID != bucket.ID || !up.IsProtected || up.Name != "Bucket v2" {
		t.Fatalf("upsert kept id? %+v", up)
	}

	fields := json.RawMessage(`{"title":"Creds","secret_fields":["token"]}`)
	cs, created, err := s.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: "sha256:a", Fields: fields, BlockTypeID: bt.ID, Capabilities: []string{"read", "write"}, Version: "1"})
	must(t, err)
	if !created || cs.BlockType == nil || cs.BlockType.Slug != "my-creds" {
		t.Fatalf("schema = %+v", cs)
	}
	again, created, err := s.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: "sha256:a", Fields: fields, BlockTypeID: bt.ID, Version: "1"})
	must(t, err)
	if created || again.ID != cs.ID {
		t.Fatal("same checksum and version created a second schema")
	}
	bs, _, err := s.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: "sha256:b", Fields: json.RawMessage(`{}`), BlockTypeID: bucket.ID, Capabilities: []string{"write"}, Version: "1"})
	must(t, err)
	_, _, err = s.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: "sha256:c", BlockTypeID: model.NewID()})
	wantErr(t, err, store.ErrNotFound)
	byc, err := s.BlockSchemaGetByChecksum(ctx, ws, "sha256:a", nil)
	must(t, err)
	if byc.ID != cs.ID {
		t.Fatal("by checksum")
	}
	_, err = s.BlockSchemaGetByChecksum(ctx, ws, "sha256:a", ptr("2"))
	wantErr(t, err, store.ErrNotFound)
	caps, err := s.BlockCapabilities(ctx, ws)
	must(t, err)
	sameSet(t, "capabilities", caps, []string{"read", "write"})
	list, err := s.BlockSchemaList(ctx, ws, model.BlockQuery{BlockSchemas: &model.BlockSchemaFilter{BlockCapabilities: &struct {
		All []string `json:"all_"`
	}{All: []string{"read", "write"}}}})
	must(t, err)
	if len(list) != 1 || list[0].ID != cs.ID || list[0].BlockType == nil {
		t.Fatalf("capabilities filter = %+v", list)
	}
	types, err := s.BlockTypeList(ctx, ws, model.BlockQuery{BlockSchemas: &model.BlockSchemaFilter{BlockCapabilities: &struct {
		All []string `json:"all_"`
	}{All: []string{"write"}}}})
	must(t, err)
	if len(types) != 2 || types[0].Name != "Bucket v2" {
		t.Fatalf("types by capability, by name = %+v", types)
	}
	types, err = s.BlockTypeList(ctx, ws, model.BlockQuery{BlockTypes: &model.BlockTypeFilter{Name: &struct {
		Like *string `json:"like_"`
	}{Like: ptr("cREDS")}}})
	must(t, err)
	if len(types) != 1 || types[0].ID != bt.ID {
		t.Fatalf("types by name like = %+v", types)
	}

	// Documents and references.
	creds, err := s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{Name: "c1", BlockTypeID: bt.ID, BlockSchemaID: cs.ID, Data: []byte("sealed-1")}, nil)
	must(t, err)
	if creds.ID.IsNil() || creds.BlockTypeName != "My Creds" {
		t.Fatalf("created = %+v", creds)
	}
	_, err = s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{Name: "c1", BlockTypeID: bt.ID, BlockSchemaID: cs.ID, Data: []byte("x")}, nil)
	wantErr(t, err, store.ErrConflict)
	_, err = s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{Name: "c2", BlockTypeID: bt.ID, BlockSchemaID: bs.ID, Data: []byte("x")}, nil)
	wantErr(t, err, store.ErrInvalid) // schema of another type
	_, err = s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{Name: "c3", BlockTypeID: bt.ID, BlockSchemaID: cs.ID, Data: []byte("x")},
		[]store.BlockReference{{Name: "x", Ref: model.NewID()}})
	wantErr(t, err, store.ErrNotFound)
	n, err := s.BlockDocumentCount(ctx, ws, model.BlockQuery{})
	must(t, err)
	if n != 1 {
		t.Fatalf("a failed create left rows behind: count %d", n)
	}
	fixedID := model.NewID()
	b1, err := s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{ID: fixedID, Name: "b1", BlockTypeID: bucket.ID, BlockSchemaID: bs.ID, Data: []byte("sealed-b")},
		[]store.BlockReference{{Name: "credentials", Ref: creds.ID}})
	must(t, err)
	if b1.ID != fixedID {
		t.Fatal("the caller's document id was not kept")
	}
	anon, err := s.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{Name: "anonymous-x", IsAnonymous: true, BlockTypeID: bt.ID, BlockSchemaID: cs.ID, Data: []byte("a")}, nil)
	must(t, err)

	ids, err := s.BlockDocumentList(ctx, ws, model.BlockQuery{})
	must(t, err)
	if len(ids) != 2 || ids[0] != b1.ID || ids[1] != creds.ID {
		t.Fatalf("default list hides anonymous and sorts by name: %v", ids)
	}
	ids, err = s.BlockDocumentList(ctx, ws, model.BlockQuery{BlockDocuments: &model.BlockDocumentFilter{IsAnonymous: json.RawMessage(`null`)}, Sort: "NAME_DESC"})
	must(t, err)
	if len(ids) != 3 || ids[2] != anon.ID {
		t.Fatalf("is_anonymous null lists all: %v", ids)
	}
	ids, err = s.BlockDocumentList(ctx, ws, model.BlockQuery{BlockDocuments: &model.BlockDocumentFilter{IsAnonymous: json.RawMessage(`{"eq_":true}`)}})
	must(t, err)
	if len(ids) != 1 || ids[0] != anon.ID {
		t.Fatalf("anonymous only: %v", ids)
	}
	ids, err = s.BlockDocumentList(ctx, ws, model.BlockQuery{BlockTypes: &model.BlockTypeFilter{Slug: &struct {
		Any []string `json:"any_"`
	}{Any: []string{"bucket"}}}})
	must(t, err)
	if len(ids) != 1 || ids[0] != b1.ID {
		t.Fatalf("by type slug: %v", ids)
	}

	g, err := s.BlockDocumentGraph(ctx, ws, []model.ID{b1.ID})
	must(t, err)
	if len(g.Docs) != 2 || len(g.References) != 1 || g.References[0].Parent != b1.ID || g.References[0].Ref != creds.ID || string(g.Docs[creds.ID].Data) != "sealed-1" {
		t.Fatalf("graph = %+v", g)
	}
	if g.Schemas[bs.ID].Checksum != "sha256:b" || g.Types[bt.ID].Slug != "my-creds" {
		t.Fatalf("graph schemas/types = %+v %+v", g.Schemas, g.Types)
	}

	// A reference back to the parent would be a cycle.
	err = s.BlockDocumentUpdate(ctx, ws, creds.ID, func(cur store.BlockDocumentRow, refs []store.BlockReference) (store.BlockDocumentChange, error) {
		return store.BlockDocumentChange{Row: cur, References: []store.BlockReference{{Parent: creds.ID, Ref: b1.ID, Name: "loop"}}}, nil
	})
	wantErr(t, err, store.ErrInvalid)
	err = s.BlockDocumentUpdate(ctx, ws, b1.ID, func(cur store.BlockDocumentRow, refs []store.BlockReference) (store.BlockDocumentChange, error) {
		if len(refs) != 1 || string(cur.Data) != "sealed-b" {
			t.Errorf("update sees %+v %+v", cur, refs)
		}
		cur.Data = []byte("sealed-b2")
		return store.BlockDocumentChange{Row: cur}, nil
	})
	must(t, err)
	g, err = s.BlockDocumentGraph(ctx, ws, []model.ID{b1.ID})
	must(t, err)
	if len(g.Docs) != 1 || len(g.References) != 0 || string(g.Docs[b1.ID].Data) != "sealed-b2" {
		t.Fatalf("after update = %+v", g)
	}

	// Settings, and deleting the document they name clears them.
	must(t, s.SettingSet(ctx, ws, store.SettingDefaultResultStorage, json.RawMessage(`{"default_result_storage_block_id":"`+creds.ID.String()+`"}`)))
	v, err := s.SettingGet(ctx, ws, store.SettingDefaultResultStorage)
	must(t, err)
	if len(v) == 0 {
		t.Fatal("setting not stored")
	}
	must(t, s.BlockDocumentDelete(ctx, ws, creds.ID))
	_, err = s.SettingGet(ctx, ws, store.SettingDefaultResultStorage)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.BlockDocumentDelete(ctx, ws, creds.ID), store.ErrNotFound)

	// Reseal rewrites every document.
	seen := 0
	n, err = s.BlockDocumentReseal(ctx, func(w, id model.ID, sealed []byte) ([]byte, error) {
		seen++
		if w != ws {
			t.Errorf("reseal got workspace %s", w)
		}
		return append([]byte("re:"), sealed...), nil
	})
	must(t, err)
	g, err = s.BlockDocumentGraph(ctx, ws, []model.ID{b1.ID})
	must(t, err)
	if n != 2 || seen != 2 || string(g.Docs[b1.ID].Data) != "re:sealed-b2" {
		t.Fatalf("reseal n=%d seen=%d data=%q", n, seen, g.Docs[b1.ID].Data)
	}

	// Cascades: deleting a type removes its schemas and documents.
	must(t, s.BlockTypeDelete(ctx, ws, bucket.ID))
	_, err = s.BlockSchemaGet(ctx, ws, bs.ID)
	wantErr(t, err, store.ErrNotFound)
	g, err = s.BlockDocumentGraph(ctx, ws, []model.ID{b1.ID})
	must(t, err)
	if len(g.Docs) != 0 {
		t.Fatal("documents of a deleted type survived")
	}
	must(t, s.BlockSchemaDelete(ctx, ws, cs.ID))
	n, err = s.BlockDocumentCount(ctx, ws, model.BlockQuery{BlockDocuments: &model.BlockDocumentFilter{IsAnonymous: json.RawMessage(`null`)}})
	must(t, err)
	if n != 0 {
		t.Fatalf("documents of a deleted schema survived: %d", n)
	}

	// Isolation: another workspace sees none of it and may reuse slugs.
	{
		other := otherWorkspace(t, s, "blk")
		_, err = s.BlockTypeGet(ctx, other.ID, store.RefID(bt.ID))
		wantErr(t, err, store.ErrNotFound)
		_, err = s.BlockTypeCreate(ctx, other.ID, model.BlockType{Name: "My Creds", Slug: "my-creds"})
		must(t, err)
		_, _, err = s.BlockSchemaCreate(ctx, other.ID, model.BlockSchema{Checksum: "sha256:z", BlockTypeID: bt.ID})
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.BlockTypeDelete(ctx, other.ID, bt.ID), store.ErrNotFound)
		_, err = s.BlockDocumentGraph(ctx, other.ID, []model.ID{anon.ID})
		must(t, err)
		caps, err := s.BlockCapabilities(ctx, other.ID)
		must(t, err)
		if len(caps) != 0 {
			t.Fatalf("capabilities leak across workspaces: %v", caps)
		}
	}
}
