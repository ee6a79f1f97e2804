package store

import (
	"context"
	"encoding/json"

	"github.com/batonhq/baton/internal/model"
)

// BlockDocumentRow is a block document as stored: Data is the sealed
// (encrypted) JSON of the document's own fields, without the fields that
// reference other documents (those are References). Only internal/blocks
// seals and opens Data; the store never sees a secret in clear.
type BlockDocumentRow struct {
	ID            model.ID
	Created       model.Time
	Updated       model.Time
	Name          string
	BlockSchemaID model.ID
	BlockTypeID   model.ID
	BlockTypeName string
	IsAnonymous   bool
	Data          []byte
}

// BlockReference is one edge of the document graph: Parent's field Name
// holds the document Ref.
type BlockReference struct {
	Parent model.ID
	Ref    model.ID
	Name   string
}

// BlockDocumentChange is what an update writes: the new row and the
// complete new set of the document's outgoing references.
type BlockDocumentChange struct {
	Row        BlockDocumentRow
	References []BlockReference
}

// BlockGraph is a set of documents and every document they reference,
// transitively, with the edges between them.
type BlockGraph struct {
	Docs       map[model.ID]BlockDocumentRow
	References []BlockReference
	Schemas    map[model.ID]model.BlockSchema
	Types      map[model.ID]model.BlockType
}

// Blocks stores block types, block schemas, block documents and the
// references between documents. Deleting a type removes its schemas and
// documents; deleting a schema removes its documents; deleting a document
// removes its references in both directions (Prefect's cascades).
type Blocks interface {
	// BlockTypeCreate inserts a type (ErrConflict when the slug is taken).
	BlockTypeCreate(ctx context.Context, ws model.ID, in model.BlockType) (model.BlockType, error)
	// BlockTypeUpsert creates the type with in.Slug or overwrites the
	// existing one's fields (keeping its id), as Prefect's registration
	// with override does.
	BlockTypeUpsert(ctx context.Context, ws model.ID, in model.BlockType) (model.BlockType, error)
	// BlockTypeGet reads a type by id, or by slug when ref.ID is nil.
	BlockTypeGet(ctx context.Context, ws model.ID, ref Ref) (model.BlockType, error)
	// BlockTypeList lists types (ordered by name) matching q's type filter
	// and, through their schemas, q's schema filter.
	BlockTypeList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.BlockType, error)
	BlockTypeUpdate(ctx context.Context, ws, id model.ID, in model.BlockTypeUpdate) error
	BlockTypeDelete(ctx context.Context, ws, id model.ID) error

	// BlockSchemaCreate inserts a schema, or returns the existing one with
	// the same checksum and version (created=false). The type must exist.
	BlockSchemaCreate(ctx context.Context, ws model.ID, in model.BlockSchema) (out model.BlockSchema, created bool, err error)
	BlockSchemaGet(ctx context.Context, ws, id model.ID) (model.BlockSchema, error)
	// BlockSchemaGetByChecksum returns the schema with that checksum (and
	// version, when given), the newest first.
	BlockSchemaGetByChecksum(ctx context.Context, ws model.ID, checksum string, version *string) (model.BlockSchema, error)
	// BlockSchemaList lists schemas matching q.BlockSchemas, newest first.
	BlockSchemaList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.BlockSchema, error)
	BlockSchemaDelete(ctx context.Context, ws, id model.ID) error
	// BlockCapabilities lists every capability of any schema, sorted.
	BlockCapabilities(ctx context.Context, ws model.ID) ([]string, error)

	// BlockDocumentCreate inserts a document (keeping row.ID when set: the
	// caller seals data bound to it) and its references in one transaction: ErrConflict when (type, name) is taken, ErrNotFound
	// (wrapped, naming it) for an unknown type, schema or referenced
	// document, ErrInvalid for a reference cycle.
	BlockDocumentCreate(ctx context.Context, ws model.ID, row BlockDocumentRow, refs []BlockReference) (BlockDocumentRow, error)
	// BlockDocumentUpdate calls change with the current row and references
	// inside one write transaction and writes what it returns.
	BlockDocumentUpdate(ctx context.Context, ws, id model.ID, change func(cur BlockDocumentRow, refs []BlockReference) (BlockDocumentChange, error)) error
	BlockDocumentDelete(ctx context.Context, ws, id model.ID) error
	// BlockDocumentList returns the ids of the documents matching q, in
	// q's sort and window.
	BlockDocumentList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.ID, error)
	BlockDocumentCount(ctx context.Context, ws model.ID, q model.BlockQuery) (int, error)
	// BlockDocumentGraph reads the documents ids and every document they
	// reference, transitively, with their schemas and types.
	BlockDocumentGraph(ctx context.Context, ws model.ID, ids []model.ID) (BlockGraph, error)
	// BlockDocumentReseal rewrites the sealed data of every document of
	// every workspace through reseal, in one transaction (key rotation).
	BlockDocumentReseal(ctx context.Context, reseal func(ws, id model.ID, sealed []byte) ([]byte, error)) (int, error)

	// SettingGet reads a workspace setting (ErrNotFound when unset).
	SettingGet(ctx context.Context, ws model.ID, key string) (json.RawMessage, error)
	SettingSet(ctx context.Context, ws model.ID, key string, value json.RawMessage) error
	SettingDelete(ctx context.Context, ws model.ID, key string) error
}

// SettingDefaultResultStorage is the workspace setting that holds the
// server default result storage ({"default_result_storage_block_id": ...});
// deleting the block document it names clears it.
const SettingDefaultResultStorage = "server-default-result-storage"
