package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
	"github.com/jackc/pgx/v5"
)

// ---- block types ------------------------------------------------------------

func writeBlockType(tx *wtx, ws model.ID, bt *model.BlockType, insert bool) error {
	body, err := json.Marshal(bt)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO block_types (workspace_id, id, slug, name, created, updated, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(bt.ID), bt.Slug, bt.Name, bt.Created.Micros(), bt.Updated.Micros(), body)
	} else {
		_, err = tx.exec(`UPDATE block_types SET name = ?, updated = ?, body = ? WHERE workspace_id = ? AND id = ?`,
			bt.Name, bt.Updated.Micros(), body, idv(ws), idv(bt.ID))
	}
	if isUnique(err) {
		return fmt.Errorf("block type %q: %w", bt.Slug, store.ErrConflict)
	}
	return err
}

func txBlockType(tx *wtx, ws model.ID, ref store.Ref) (model.BlockType, error) {
	w, key := refWhere("", store.Ref{ID: ref.ID, Name: ref.Name})
	if ref.ID.IsNil() {
		w = expr{sql: "slug = ?", args: []any{ref.Name}}
	}
	var bt model.BlockType
	var body []byte
	err := tx.queryRow("SELECT body FROM block_types WHERE workspace_id = ? AND "+w.sql, append([]any{idv(ws)}, w.args...)...).Scan(&body)
	if noRows(err) {
		return bt, notFound("block type", key)
	}
	if err != nil {
		return bt, err
	}
	return bt, unmarshalBody(body, &bt)
}

// BlockTypeCreate inserts a block type.
func (s *Store) BlockTypeCreate(ctx context.Context, ws model.ID, in model.BlockType) (model.BlockType, error) {
	t := s.now()
	in.ID, in.Created, in.Updated = model.NewID(), t, t
	if err := s.write(ctx, func(tx *wtx) error { return writeBlockType(tx, ws, &in, true) }); err != nil {
		return model.BlockType{}, fmt.Errorf("postgres: create block type: %w", err)
	}
	return in, nil
}

// BlockTypeUpsert creates or overwrites the type with in.Slug.
func (s *Store) BlockTypeUpsert(ctx context.Context, ws model.ID, in model.BlockType) (model.BlockType, error) {
	err := s.write(ctx, func(tx *wtx) error {
		t := s.now()
		cur, err := txBlockType(tx, ws, store.RefName(in.Slug))
		if errors.Is(err, store.ErrNotFound) {
			in.ID, in.Created, in.Updated = model.NewID(), t, t
			return writeBlockType(tx, ws, &in, true)
		}
		if err != nil {
			return err
		}
		in.ID, in.Created, in.Updated = cur.ID, cur.Created, t
		return writeBlockType(tx, ws, &in, false)
	})
	if err != nil {
		return model.BlockType{}, fmt.Errorf("postgres: upsert block type: %w", err)
	}
	return in, nil
}

// BlockTypeGet reads a block type by id or slug.
func (s *Store) BlockTypeGet(ctx context.Context, ws model.ID, ref store.Ref) (model.BlockType, error) {
	q, key := `SELECT body FROM block_types WHERE workspace_id = ? AND id = ?`, any(ref.ID)
	args := []any{idv(ws), idv(ref.ID)}
	if ref.ID.IsNil() {
		q, key, args = `SELECT body FROM block_types WHERE workspace_id = ? AND slug = ?`, ref.Name, []any{idv(ws), ref.Name}
	}
	var bt model.BlockType
	var body []byte
	err := s.queryRow(ctx, q, args...).Scan(&body)
	if noRows(err) {
		return bt, notFound("block type", key)
	}
	if err != nil {
		return bt, fmt.Errorf("postgres: get block type: %w", err)
	}
	return bt, unmarshalBody(body, &bt)
}

func blockTypeFilter(a string, f *model.BlockTypeFilter) expr {
	if f == nil {
		return expr{}
	}
	var parts []expr
	if f.Name != nil {
		parts = append(parts, like(a+"name", f.Name.Like))
	}
	if f.Slug != nil {
		parts = append(parts, in(a+"slug", f.Slug.Any, strArg, false))
	}
	return combine("", parts...)
}

func blockSchemaFilter(a string, f *model.BlockSchemaFilter) expr {
	if f == nil {
		return expr{}
	}
	var caps, version expr
	if f.BlockCapabilities != nil && len(f.BlockCapabilities.All) > 0 {
		all := slices.Clone(f.BlockCapabilities.All)
		slices.Sort(all)
		all = slices.Compact(all)
		b, _ := json.Marshal(all)
		caps = expr{sql: a + "capabilities @> ?::jsonb", args: []any{string(b)}}
	}
	if f.Version != nil {
		version = in(a+"version", f.Version.Any, strArg, false)
	}
	return combine(f.Operator, idFilter(a+"block_type_id", f.BlockTypeID), caps, idFilter(a+"id", f.ID), version)
}

// BlockTypeList lists block types by name.
func (s *Store) BlockTypeList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.BlockType, error) {
	parts := []expr{{sql: "t.workspace_id = ?", args: []any{idv(ws)}}, blockTypeFilter("t.", q.BlockTypes)}
	if q.BlockSchemas != nil {
		parts = append(parts, subquery("t.id", "bs.block_type_id", "block_schemas bs", ws, blockSchemaFilter("bs.", q.BlockSchemas)))
	}
	w := combine("", parts...)
	win, wargs := window(q.Limit, q.Offset)
	return listBodies[model.BlockType](ctx, s, "SELECT t.body FROM block_types t WHERE "+w.sql+" ORDER BY t.name, t.id"+win, append(w.args, wargs...))
}

// BlockTypeUpdate applies the set fields of in.
func (s *Store) BlockTypeUpdate(ctx context.Context, ws, id model.ID, in model.BlockTypeUpdate) error {
	err := s.write(ctx, func(tx *wtx) error {
		bt, err := txBlockType(tx, ws, store.RefID(id))
		if err != nil {
			return err
		}
		set := func(dst **string, v *string) {
			if v != nil {
				*dst = v
			}
		}
		set(&bt.LogoURL, in.LogoURL)
		set(&bt.DocumentationURL, in.DocumentationURL)
		set(&bt.Description, in.Description)
		set(&bt.CodeExample, in.CodeExample)
		bt.Updated = s.now()
		return writeBlockType(tx, ws, &bt, false)
	})
	if err != nil {
		return fmt.Errorf("postgres: update block type: %w", err)
	}
	return nil
}

// BlockTypeDelete removes a type with its schemas and documents.
func (s *Store) BlockTypeDelete(ctx context.Context, ws, id model.ID) error {
	return s.deleteRow(ctx, "block type", `DELETE FROM block_types WHERE workspace_id = ? AND id = ?`, ws, id)
}

func (s *Store) deleteRow(ctx context.Context, what, q string, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(q, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound(what, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: delete %s: %w", what, err)
	}
	return nil
}

// ---- block schemas ----------------------------------------------------------

// BlockSchemaCreate inserts a schema unless one with its checksum and
// version exists.
func (s *Store) BlockSchemaCreate(ctx context.Context, ws model.ID, in model.BlockSchema) (model.BlockSchema, bool, error) {
	var out model.BlockSchema
	var created bool
	err := s.write(ctx, func(tx *wtx) error {
		bt, err := txBlockType(tx, ws, store.RefID(in.BlockTypeID))
		if err != nil {
			return err
		}
		var body []byte
		err = tx.queryRow(`SELECT body FROM block_schemas WHERE workspace_id = ? AND checksum = ? AND version = ?`, idv(ws), in.Checksum, in.Version).Scan(&body)
		if err == nil {
			created = false
			if err := unmarshalBody(body, &out); err != nil {
				return err
			}
			return nil
		}
		if !noRows(err) {
			return err
		}
		t := s.now()
		out = in
		out.ID, out.Created, out.Updated, out.BlockType = model.NewID(), t, t, nil
		if out.Capabilities == nil {
			out.Capabilities = []string{}
		}
		if body, err = json.Marshal(&out); err != nil {
			return err
		}
		caps, _ := json.Marshal(out.Capabilities)
		created = true
		_, err = tx.exec(`INSERT INTO block_schemas (workspace_id, id, block_type_id, checksum, version, capabilities, created, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(out.ID), idv(bt.ID), out.Checksum, out.Version, string(caps), out.Created.Micros(), body)
		return err
	})
	if err != nil {
		return model.BlockSchema{}, false, fmt.Errorf("postgres: create block schema: %w", err)
	}
	return s.withType(ctx, ws, out), created, nil
}

// withType attaches the schema's block type (left nil if it vanished).
func (s *Store) withType(ctx context.Context, ws model.ID, bs model.BlockSchema) model.BlockSchema {
	if bt, err := s.BlockTypeGet(ctx, ws, store.RefID(bs.BlockTypeID)); err == nil {
		bs.BlockType = &bt
	}
	return bs
}

func (s *Store) schemaBy(ctx context.Context, ws model.ID, key any, q string, args ...any) (model.BlockSchema, error) {
	var bs model.BlockSchema
	var body []byte
	err := s.queryRow(ctx, q, args...).Scan(&body)
	if noRows(err) {
		return bs, notFound("block schema", key)
	}
	if err != nil {
		return bs, fmt.Errorf("postgres: get block schema: %w", err)
	}
	if err := unmarshalBody(body, &bs); err != nil {
		return bs, err
	}
	return s.withType(ctx, ws, bs), nil
}

// BlockSchemaGet reads a schema with its type.
func (s *Store) BlockSchemaGet(ctx context.Context, ws, id model.ID) (model.BlockSchema, error) {
	return s.schemaBy(ctx, ws, id, `SELECT body FROM block_schemas WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
}

// BlockSchemaGetByChecksum reads the newest schema with the checksum.
func (s *Store) BlockSchemaGetByChecksum(ctx context.Context, ws model.ID, checksum string, version *string) (model.BlockSchema, error) {
	if version != nil {
		return s.schemaBy(ctx, ws, checksum, `SELECT body FROM block_schemas WHERE workspace_id = ? AND checksum = ? AND version = ? ORDER BY created DESC LIMIT 1`, idv(ws), checksum, *version)
	}
	return s.schemaBy(ctx, ws, checksum, `SELECT body FROM block_schemas WHERE workspace_id = ? AND checksum = ? ORDER BY created DESC LIMIT 1`, idv(ws), checksum)
}

// BlockSchemaList lists schemas newest first.
func (s *Store) BlockSchemaList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.BlockSchema, error) {
	w := combine("", expr{sql: "bs.workspace_id = ?", args: []any{idv(ws)}}, blockSchemaFilter("bs.", q.BlockSchemas))
	win, wargs := window(q.Limit, q.Offset)
	list, err := listBodies[model.BlockSchema](ctx, s, "SELECT bs.body FROM block_schemas bs WHERE "+w.sql+" ORDER BY bs.created DESC, bs.id"+win, append(w.args, wargs...))
	if err != nil {
		return nil, err
	}
	types := map[model.ID]*model.BlockType{}
	for i := range list {
		id := list[i].BlockTypeID
		if _, ok := types[id]; !ok {
			if bt, err := s.BlockTypeGet(ctx, ws, store.RefID(id)); err == nil {
				types[id] = &bt
			}
		}
		list[i].BlockType = types[id]
	}
	return list, nil
}

// BlockSchemaDelete removes a schema and its documents.
func (s *Store) BlockSchemaDelete(ctx context.Context, ws, id model.ID) error {
	return s.deleteRow(ctx, "block schema", `DELETE FROM block_schemas WHERE workspace_id = ? AND id = ?`, ws, id)
}

// BlockCapabilities lists the distinct capabilities of the workspace's
// schemas.
func (s *Store) BlockCapabilities(ctx context.Context, ws model.ID) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT j.value FROM block_schemas bs, jsonb_array_elements_text(bs.capabilities) j(value) WHERE bs.workspace_id = ? ORDER BY j.value`, idv(ws))
	if err != nil {
		return nil, fmt.Errorf("postgres: block capabilities: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- block documents --------------------------------------------------------

// checkReferences verifies that every referenced document exists in ws and
// that no edge from parent closes a cycle.
func checkReferences(tx *wtx, ws, parent model.ID, refs []store.BlockReference) error {
	for _, r := range refs {
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM block_documents WHERE workspace_id = ? AND id = ?`, idv(ws), idv(r.Ref)).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("referenced block document", r.Ref)
		}
		if r.Ref == parent {
			return fmt.Errorf("block document %s cannot reference itself (field %q): %w", parent, r.Name, store.ErrInvalid)
		}
		var cyc int
		err := tx.queryRow(`WITH RECURSIVE reach(id) AS (SELECT ?::uuid UNION SELECT r.ref_id FROM block_document_references r JOIN reach ON r.parent_id = reach.id)
			SELECT count(*) FROM reach WHERE id = ?`, idv(r.Ref), idv(parent)).Scan(&cyc)
		if err != nil {
			return err
		}
		if cyc > 0 {
			return fmt.Errorf("a reference from %s to %s (field %q) would form a cycle: %w", parent, r.Ref, r.Name, store.ErrInvalid)
		}
	}
	return nil
}

func insertReferences(tx *wtx, ws, parent model.ID, refs []store.BlockReference) error {
	for _, r := range refs {
		if _, err := tx.exec(`INSERT INTO block_document_references (workspace_id, parent_id, ref_id, name) VALUES (?, ?, ?, ?)`,
			idv(ws), idv(parent), idv(r.Ref), r.Name); err != nil {
			return err
		}
	}
	return nil
}

// BlockDocumentCreate inserts a document with its references.
func (s *Store) BlockDocumentCreate(ctx context.Context, ws model.ID, row store.BlockDocumentRow, refs []store.BlockReference) (store.BlockDocumentRow, error) {
	err := s.write(ctx, func(tx *wtx) error {
		bt, err := txBlockType(tx, ws, store.RefID(row.BlockTypeID))
		if err != nil {
			return err
		}
		var schemaType []byte
		err = tx.queryRow(`SELECT block_type_id FROM block_schemas WHERE workspace_id = ? AND id = ?`, idv(ws), idv(row.BlockSchemaID)).Scan(&schemaType)
		if noRows(err) {
			return notFound("block schema", row.BlockSchemaID)
		}
		if err != nil {
			return err
		}
		if st, _ := scanID(schemaType); st != bt.ID {
			return fmt.Errorf("block schema %s belongs to another block type than %s: %w", row.BlockSchemaID, bt.Slug, store.ErrInvalid)
		}
		t := s.now()
		if row.ID.IsNil() {
			row.ID = model.NewID()
		}
		row.Created, row.Updated, row.BlockTypeName = t, t, bt.Name
		_, err = tx.exec(`INSERT INTO block_documents (workspace_id, id, name, block_type_id, block_schema_id, block_type_name, is_anonymous, created, updated, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, idv(ws), idv(row.ID), row.Name, idv(row.BlockTypeID), idv(row.BlockSchemaID), row.BlockTypeName,
			row.IsAnonymous, row.Created.Micros(), row.Updated.Micros(), row.Data)
		if isUnique(err) {
			return fmt.Errorf("block document %q of type %s: %w", row.Name, bt.Slug, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := checkReferences(tx, ws, row.ID, refs); err != nil {
			return err
		}
		return insertReferences(tx, ws, row.ID, refs)
	})
	if err != nil {
		return store.BlockDocumentRow{}, fmt.Errorf("postgres: create block document: %w", err)
	}
	return row, nil
}

const blockDocCols = `id, created, updated, name, block_schema_id, block_type_id, block_type_name, is_anonymous, data`

type scanner interface{ Scan(...any) error }

func scanBlockDoc(r scanner) (store.BlockDocumentRow, error) {
	var d store.BlockDocumentRow
	var id, schema, typ []byte
	var created, updated int64
	if err := r.Scan(&id, &created, &updated, &d.Name, &schema, &typ, &d.BlockTypeName, &d.IsAnonymous, &d.Data); err != nil {
		return d, err
	}
	d.Created, d.Updated = model.TimeFromMicros(created), model.TimeFromMicros(updated)
	var err error
	if d.ID, err = scanID(id); err != nil {
		return d, err
	}
	if d.BlockSchemaID, err = scanID(schema); err != nil {
		return d, err
	}
	d.BlockTypeID, err = scanID(typ)
	return d, err
}

// BlockDocumentUpdate rewrites a document and its references in one
// transaction.
func (s *Store) BlockDocumentUpdate(ctx context.Context, ws, id model.ID, change func(store.BlockDocumentRow, []store.BlockReference) (store.BlockDocumentChange, error)) error {
	err := s.write(ctx, func(tx *wtx) error {
		cur, err := scanBlockDoc(tx.queryRow(`SELECT `+blockDocCols+` FROM block_documents WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)))
		if noRows(err) {
			return notFound("block document", id)
		}
		if err != nil {
			return err
		}
		refs, err := txReferences(tx, ws, id)
		if err != nil {
			return err
		}
		ch, err := change(cur, refs)
		if err != nil {
			return err
		}
		next := ch.Row
		if next.BlockSchemaID != cur.BlockSchemaID {
			var st []byte
			err := tx.queryRow(`SELECT block_type_id FROM block_schemas WHERE workspace_id = ? AND id = ?`, idv(ws), idv(next.BlockSchemaID)).Scan(&st)
			if noRows(err) {
				return notFound("block schema", next.BlockSchemaID)
			}
			if err != nil {
				return err
			}
			if t, _ := scanID(st); t != cur.BlockTypeID {
				return fmt.Errorf("must migrate block document to a block schema of the same block type: %w", store.ErrInvalid)
			}
		}
		if _, err := tx.exec(`UPDATE block_documents SET block_schema_id = ?, updated = ?, data = ? WHERE workspace_id = ? AND id = ?`,
			idv(next.BlockSchemaID), s.now().Micros(), next.Data, idv(ws), idv(id)); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM block_document_references WHERE workspace_id = ? AND parent_id = ?`, idv(ws), idv(id)); err != nil {
			return err
		}
		if err := checkReferences(tx, ws, id, ch.References); err != nil {
			return err
		}
		return insertReferences(tx, ws, id, ch.References)
	})
	if err != nil {
		return fmt.Errorf("postgres: update block document: %w", err)
	}
	return nil
}

func txReferences(tx *wtx, ws, parent model.ID) ([]store.BlockReference, error) {
	rows, err := tx.query(`SELECT ref_id, name FROM block_document_references WHERE workspace_id = ? AND parent_id = ? ORDER BY name`, idv(ws), idv(parent))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.BlockReference
	for rows.Next() {
		var ref []byte
		r := store.BlockReference{Parent: parent}
		if err := rows.Scan(&ref, &r.Name); err != nil {
			return nil, err
		}
		if r.Ref, err = scanID(ref); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// BlockDocumentDelete removes a document (its references cascade) and
// clears the default result storage setting when it named the document.
func (s *Store) BlockDocumentDelete(ctx context.Context, ws, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM block_documents WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("block document", id)
		}
		_, err = tx.exec(`DELETE FROM workspace_settings WHERE workspace_id = ? AND key = ? AND value ->> 'default_result_storage_block_id' = ?`,
			idv(ws), store.SettingDefaultResultStorage, id.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete block document: %w", err)
	}
	return nil
}

var blockDocOrders = map[string]string{
	"NAME_ASC":                "d.name ASC, d.id",
	"NAME_DESC":               "d.name DESC, d.id DESC",
	"BLOCK_TYPE_AND_NAME_ASC": "d.block_type_name ASC, d.name ASC, d.id",
}

func blockDocsWhere(ws model.ID, q model.BlockQuery) (expr, error) {
	parts := []expr{{sql: "d.workspace_id = ?", args: []any{idv(ws)}}}
	anon := expr{sql: "NOT d.is_anonymous"}
	if f := q.BlockDocuments; f != nil {
		if f.IsAnonymous != nil {
			anon = expr{}
			if s := string(f.IsAnonymous); s != "null" {
				var v struct {
					Eq *bool `json:"eq_"`
				}
				if err := json.Unmarshal(f.IsAnonymous, &v); err != nil {
					return expr{}, fmt.Errorf(`field "block_documents.is_anonymous": expected {"eq_": true|false} or null: %w`, store.ErrInvalidQuery)
				}
				if v.Eq != nil {
					anon = expr{sql: "d.is_anonymous = ?", args: []any{*v.Eq}}
				}
			}
		}
		parts = append(parts, combine(f.Operator, idFilter("d.id", f.ID), anon, idFilter("d.block_type_id", f.BlockTypeID), nameFilter("d.name", f.Name)))
	} else {
		parts = append(parts, anon)
	}
	if q.BlockTypes != nil {
		parts = append(parts, subquery("d.block_type_id", "t.id", "block_types t", ws, blockTypeFilter("t.", q.BlockTypes)))
	}
	if q.BlockSchemas != nil {
		parts = append(parts, subquery("d.block_schema_id", "bs.id", "block_schemas bs", ws, blockSchemaFilter("bs.", q.BlockSchemas)))
	}
	return combine("", parts...), nil
}

// BlockDocumentList returns the ids of matching documents.
func (s *Store) BlockDocumentList(ctx context.Context, ws model.ID, q model.BlockQuery) ([]model.ID, error) {
	w, err := blockDocsWhere(ws, q)
	if err != nil {
		return nil, err
	}
	win, wargs := window(q.Limit, q.Offset)
	rows, err := s.query(ctx, "SELECT d.id FROM block_documents d WHERE "+w.sql+" ORDER BY "+orderBy(blockDocOrders, q.Sort, "NAME_ASC")+win, append(w.args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list block documents: %w", err)
	}
	defer rows.Close()
	out := []model.ID{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		id, err := scanID(b)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// BlockDocumentCount counts matching documents.
func (s *Store) BlockDocumentCount(ctx context.Context, ws model.ID, q model.BlockQuery) (int, error) {
	w, err := blockDocsWhere(ws, q)
	if err != nil {
		return 0, err
	}
	return count(ctx, s, "SELECT count(*) FROM block_documents d WHERE "+w.sql, w.args)
}

// BlockDocumentGraph reads ids and everything they reference, in one read
// transaction so the graph is consistent.
func (s *Store) BlockDocumentGraph(ctx context.Context, ws model.ID, ids []model.ID) (store.BlockGraph, error) {
	g := store.BlockGraph{Docs: map[model.ID]store.BlockDocumentRow{}, Schemas: map[model.ID]model.BlockSchema{}, Types: map[model.ID]model.BlockType{}}
	if len(ids) == 0 {
		return g, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return g, fmt.Errorf("postgres: block graph: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	args := []any{idv(ws)}
	for _, id := range ids {
		args = append(args, idv(id))
	}
	// Every document reachable from ids, and the edges out of them.
	reach := `WITH RECURSIVE reach(id) AS (SELECT id FROM block_documents WHERE workspace_id = ? AND id IN (` + placeholders(len(ids)) + `)
		UNION SELECT r.ref_id FROM block_document_references r JOIN reach ON r.parent_id = reach.id) `
	rows, err := tx.Query(ctx, rebind(reach+`SELECT `+blockDocCols+` FROM block_documents WHERE id IN (SELECT id FROM reach)`), args...)
	if err != nil {
		return g, fmt.Errorf("postgres: block graph: %w", err)
	}
	for rows.Next() {
		d, err := scanBlockDoc(rows)
		if err != nil {
			rows.Close()
			return g, err
		}
		g.Docs[d.ID] = d
	}
	rows.Close()
	rows, err = tx.Query(ctx, rebind(reach+`SELECT parent_id, ref_id, name FROM block_document_references WHERE parent_id IN (SELECT id FROM reach) ORDER BY name`), args...)
	if err != nil {
		return g, fmt.Errorf("postgres: block graph: %w", err)
	}
	for rows.Next() {
		var p, r []byte
		var ref store.BlockReference
		if err := rows.Scan(&p, &r, &ref.Name); err != nil {
			rows.Close()
			return g, err
		}
		ref.Parent, _ = scanID(p)
		ref.Ref, _ = scanID(r)
		g.References = append(g.References, ref)
	}
	rows.Close()
	schemaIDs, typeIDs := map[model.ID]bool{}, map[model.ID]bool{}
	for _, d := range g.Docs {
		schemaIDs[d.BlockSchemaID], typeIDs[d.BlockTypeID] = true, true
	}
	for id := range schemaIDs {
		var body []byte
		if err := tx.QueryRow(ctx, `SELECT body FROM block_schemas WHERE workspace_id = $1 AND id = $2`, idv(ws), idv(id)).Scan(&body); err != nil {
			return g, fmt.Errorf("postgres: block graph schema: %w", err)
		}
		var bs model.BlockSchema
		if err := unmarshalBody(body, &bs); err != nil {
			return g, err
		}
		g.Schemas[id] = bs
		typeIDs[bs.BlockTypeID] = true
	}
	for id := range typeIDs {
		var body []byte
		if err := tx.QueryRow(ctx, `SELECT body FROM block_types WHERE workspace_id = $1 AND id = $2`, idv(ws), idv(id)).Scan(&body); err != nil {
			return g, fmt.Errorf("postgres: block graph type: %w", err)
		}
		var bt model.BlockType
		if err := unmarshalBody(body, &bt); err != nil {
			return g, err
		}
		g.Types[id] = bt
	}
	sort.Slice(g.References, func(i, j int) bool { return g.References[i].Name < g.References[j].Name })
	return g, nil
}

// BlockDocumentReseal rewrites every document's sealed data.
func (s *Store) BlockDocumentReseal(ctx context.Context, reseal func(ws, id model.ID, sealed []byte) ([]byte, error)) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *wtx) error {
		rows, err := tx.query(`SELECT workspace_id, id, data FROM block_documents`)
		if err != nil {
			return err
		}
		type item struct {
			ws, id []byte
			data   []byte
		}
		var items []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.ws, &it.id, &it.data); err != nil {
				rows.Close()
				return err
			}
			items = append(items, it)
		}
		rows.Close()
		for _, it := range items {
			wsID, err := scanID(it.ws)
			if err != nil {
				return err
			}
			docID, err := scanID(it.id)
			if err != nil {
				return err
			}
			out, err := reseal(wsID, docID, it.data)
			if err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE block_documents SET data = ? WHERE id = ?`, out, it.id); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: reseal block documents: %w", err)
	}
	return n, nil
}

// ---- settings ---------------------------------------------------------------

// SettingGet reads a workspace setting.
func (s *Store) SettingGet(ctx context.Context, ws model.ID, key string) (json.RawMessage, error) {
	var v string
	err := s.queryRow(ctx, `SELECT value FROM workspace_settings WHERE workspace_id = ? AND key = ?`, idv(ws), key).Scan(&v)
	if noRows(err) {
		return nil, notFound("setting", key)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get setting: %w", err)
	}
	return json.RawMessage(v), nil
}

// SettingSet writes a workspace setting.
func (s *Store) SettingSet(ctx context.Context, ws model.ID, key string, value json.RawMessage) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO workspace_settings (workspace_id, key, value) VALUES (?, ?, ?) ON CONFLICT (workspace_id, key) DO UPDATE SET value = excluded.value`,
			idv(ws), key, string(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set setting: %w", err)
	}
	return nil
}

// SettingDelete removes a workspace setting (absent is not an error).
func (s *Store) SettingDelete(ctx context.Context, ws model.ID, key string) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM workspace_settings WHERE workspace_id = ? AND key = ?`, idv(ws), key)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete setting: %w", err)
	}
	return nil
}

var _ store.Blocks = (*Store)(nil)
