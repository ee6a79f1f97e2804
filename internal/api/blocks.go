package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/batonhq/baton/internal/blocks"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Block routes. Reads of block documents are wsReadSecrets: anyone who may
// read the workspace gets documents with secret fields obfuscated, and only
// a caller who may write it gets them in clear with include_secrets (see
// route.go). Secret values never reach logs or error details: the blocks
// package seals them before the store and builds its messages from names.

// includeSecrets reads the include_secrets query parameter.
func includeSecrets(c *call) (bool, error) {
	v := c.r.URL.Query().Get("include_secrets")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusUnprocessableEntity, "query parameter \"include_secrets\": %q is not a boolean", v)
	}
	return b, nil
}

// storageSettings is the body of GET|PUT /admin/storage.
type storageSettings struct {
	DefaultResultStorageBlockID *model.ID `json:"default_result_storage_block_id"`
}

// storageUpdate is the body of PUT /admin/storage.
type storageUpdate struct {
	DefaultResultStorageBlockID model.ID `json:"default_result_storage_block_id" required:"true"`
}

func blockRoutes() []route {
	id := param{name: "id", in: "path", typ: "uuid", required: true}
	slug := param{name: "slug", in: "path", typ: "string", required: true}
	secretsQ := param{name: "include_secrets", in: "query", typ: "boolean", doc: "Return secret fields in clear (needs write access to the workspace)."}
	svc := func(c *call) *blocks.Service { return c.srv.blocks }
	st := func(c *call) store.Store { return c.srv.cfg.Store }
	pid := func(c *call) model.ID { return c.id("id") }
	return []route{
		// ---- block types
		op(wsWrite, "POST", "/block_types", "Block types", "Create a block type", 201, func(c *call, b *model.BlockTypeCreate) (model.BlockType, error) {
			return svc(c).CreateType(c.ctx, c.ws, *b)
		}),
		op(wsRead, "GET", "/block_types/{id}", "Block types", "Read a block type", 200, func(c *call, _ *noBody) (model.BlockType, error) {
			return st(c).BlockTypeGet(c.ctx, c.ws, store.RefID(pid(c)))
		}, id),
		op(wsRead, "GET", "/block_types/slug/{slug}", "Block types", "Read a block type by slug", 200, func(c *call, _ *noBody) (model.BlockType, error) {
			return st(c).BlockTypeGet(c.ctx, c.ws, store.RefName(c.r.PathValue("slug")))
		}, slug),
		optionalBody(op(wsRead, "POST", "/block_types/filter", "Block types", "Query block types", 200, func(c *call, q *model.BlockQuery) ([]model.BlockType, error) {
			if err := checkWindow(&q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return st(c).BlockTypeList(c.ctx, c.ws, *q)
		})),
		op(wsWrite, "PATCH", "/block_types/{id}", "Block types", "Update a block type", 204, func(c *call, b *model.BlockTypeUpdate) (noContent, error) {
			return noContent{}, svc(c).UpdateType(c.ctx, c.ws, pid(c), *b)
		}, id),
		op(wsWrite, "DELETE", "/block_types/{id}", "Block types", "Delete a block type with its schemas and documents", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, svc(c).DeleteType(c.ctx, c.ws, pid(c))
		}, id),
		op(wsReadSecrets, "GET", "/block_types/slug/{slug}/block_documents", "Block documents", "Read the block documents of a block type", 200, func(c *call, _ *noBody) ([]model.BlockDocument, error) {
			sec, err := includeSecrets(c)
			if err != nil {
				return nil, err
			}
			bt, err := st(c).BlockTypeGet(c.ctx, c.ws, store.RefName(c.r.PathValue("slug")))
			if err != nil {
				return nil, err
			}
			return svc(c).Documents(c.ctx, c.ws, model.BlockQuery{BlockDocuments: &model.BlockDocumentFilter{BlockTypeID: &model.IDFilter{Any: []model.ID{bt.ID}}}, Limit: maxLimit}, sec)
		}, slug, secretsQ),
		op(wsReadSecrets, "GET", "/block_types/slug/{slug}/block_documents/name/{block_document_name}", "Block documents", "Read a block document by its type's slug and its name", 200, func(c *call, _ *noBody) (model.BlockDocument, error) {
			sec, err := includeSecrets(c)
			if err != nil {
				return model.BlockDocument{}, err
			}
			return svc(c).DocumentByName(c.ctx, c.ws, c.r.PathValue("slug"), c.r.PathValue("block_document_name"), sec)
		}, slug, param{name: "block_document_name", in: "path", typ: "string", required: true}, secretsQ),
		op(wsWrite, "POST", "/block_types/install_system_block_types", "Block types", "Install the system block types (Webhook, Secret, LocalFileSystem)", 200, func(c *call, _ *noBody) (*struct{}, error) {
			return nil, svc(c).InstallSystemBlockTypes(c.ctx, c.ws, true)
		}),

		// ---- block schemas
		alsoOK(op(wsWrite, "POST", "/block_schemas", "Block schemas", "Create a block schema, or return the existing one with its checksum", 201, func(c *call, b *model.BlockSchemaCreate) (model.BlockSchema, error) {
			bs, created, err := svc(c).CreateSchema(c.ctx, c.ws, *b)
			if errors.Is(err, store.ErrNotFound) {
				return bs, errorf(http.StatusNotFound, "Block type %s not found.", b.BlockTypeID)
			}
			if err == nil && !created {
				c.setStatus(http.StatusOK)
			}
			return bs, err
		})),
		op(wsRead, "GET", "/block_schemas/{id}", "Block schemas", "Read a block schema", 200, func(c *call, _ *noBody) (model.BlockSchema, error) {
			return st(c).BlockSchemaGet(c.ctx, c.ws, pid(c))
		}, id),
		op(wsRead, "GET", "/block_schemas/checksum/{checksum}", "Block schemas", "Read a block schema by checksum", 200, func(c *call, _ *noBody) (model.BlockSchema, error) {
			var version *string
			if v := c.r.URL.Query().Get("version"); v != "" {
				version = &v
			}
			return st(c).BlockSchemaGetByChecksum(c.ctx, c.ws, c.r.PathValue("checksum"), version)
		}, param{name: "checksum", in: "path", typ: "string", required: true}, param{name: "version", in: "query", typ: "string"}),
		optionalBody(op(wsRead, "POST", "/block_schemas/filter", "Block schemas", "Query block schemas", 200, func(c *call, q *model.BlockQuery) ([]model.BlockSchema, error) {
			if err := checkWindow(&q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return st(c).BlockSchemaList(c.ctx, c.ws, *q)
		})),
		op(wsWrite, "DELETE", "/block_schemas/{id}", "Block schemas", "Delete a block schema and its documents", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, svc(c).DeleteSchema(c.ctx, c.ws, pid(c))
		}, id),
		op(wsRead, "GET", "/block_capabilities", "Block capabilities", "List the capabilities of the workspace's block schemas", 200, func(c *call, _ *noBody) ([]string, error) {
			return st(c).BlockCapabilities(c.ctx, c.ws)
		}),

		// ---- block documents
		op(wsWrite, "POST", "/block_documents", "Block documents", "Create a block document", 201, func(c *call, b *model.BlockDocumentCreate) (model.BlockDocument, error) {
			return svc(c).CreateDocument(c.ctx, c.ws, *b)
		}),
		optionalBody(op(wsReadSecrets, "POST", "/block_documents/filter", "Block documents", "Query block documents", 200, func(c *call, q *model.BlockQuery) ([]model.BlockDocument, error) {
			if err := checkSortWindow(q.Sort, model.BlockDocumentSorts, &q.Offset, &q.Limit); err != nil {
				return nil, err
			}
			return svc(c).Documents(c.ctx, c.ws, *q, q.IncludeSecrets)
		})),
		optionalBody(op(wsRead, "POST", "/block_documents/count", "Block documents", "Count block documents", 200, func(c *call, q *model.BlockQuery) (int, error) {
			return st(c).BlockDocumentCount(c.ctx, c.ws, *q)
		})),
		op(wsReadSecrets, "GET", "/block_documents/{id}", "Block documents", "Read a block document", 200, func(c *call, _ *noBody) (model.BlockDocument, error) {
			sec, err := includeSecrets(c)
			if err != nil {
				return model.BlockDocument{}, err
			}
			return svc(c).Document(c.ctx, c.ws, pid(c), sec)
		}, id, secretsQ),
		op(wsWrite, "PATCH", "/block_documents/{id}", "Block documents", "Update a block document", 204, func(c *call, b *model.BlockDocumentUpdate) (noContent, error) {
			return noContent{}, svc(c).UpdateDocument(c.ctx, c.ws, pid(c), *b)
		}, id),
		op(wsWrite, "DELETE", "/block_documents/{id}", "Block documents", "Delete a block document", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, st(c).BlockDocumentDelete(c.ctx, c.ws, pid(c))
		}, id),

		// ---- the server default result storage
		op(wsRead, "GET", "/admin/storage", "Admin", "Read the server default result storage block", 200, func(c *call, _ *noBody) (storageSettings, error) {
			return readStorage(c)
		}),
		op(wsWrite, "PUT", "/admin/storage", "Admin", "Set the server default result storage block", 200, func(c *call, b *storageUpdate) (storageSettings, error) {
			doc, err := svc(c).Document(c.ctx, c.ws, b.DefaultResultStorageBlockID, false)
			if errors.Is(err, store.ErrNotFound) {
				return storageSettings{}, errorf(http.StatusNotFound, "Block document %s not found.", b.DefaultResultStorageBlockID)
			}
			if err != nil {
				return storageSettings{}, err
			}
			if doc.BlockSchema == nil || !contains(doc.BlockSchema.Capabilities, "write-path") {
				return storageSettings{}, errorf(http.StatusUnprocessableEntity, "Block document %s cannot be used for result storage.", doc.ID)
			}
			v, _ := json.Marshal(storageSettings{DefaultResultStorageBlockID: &doc.ID})
			if err := st(c).SettingSet(c.ctx, c.ws, store.SettingDefaultResultStorage, v); err != nil {
				return storageSettings{}, err
			}
			return readStorage(c)
		}),
		op(wsWrite, "DELETE", "/admin/storage", "Admin", "Clear the server default result storage block", 204, func(c *call, _ *noBody) (noContent, error) {
			return noContent{}, st(c).SettingDelete(c.ctx, c.ws, store.SettingDefaultResultStorage)
		}),
	}
}

func readStorage(c *call) (storageSettings, error) {
	var out storageSettings
	raw, err := c.srv.cfg.Store.SettingGet(c.ctx, c.ws, store.SettingDefaultResultStorage)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, err
	}
	return out, nil
}
