package blocks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Errors the API maps to statuses (together with the store's sentinels).
var (
	// ErrProtected: a protected (system) block type or its schemas cannot
	// be changed or deleted through the API (403, as in Prefect).
	ErrProtected = errors.New("protected")
	// ErrInvalidData: the request breaks a block rule (name pattern,
	// data that does not fit its schema): 422.
	ErrInvalidData = errors.New("invalid block data")
	// ErrBadReference: a "$ref" without a block_document_id (400, as in
	// Prefect).
	ErrBadReference = errors.New("bad block reference")
)

// Obfuscated is what a secret value reads as without include_secrets
// (Prefect's obfuscate(): eight asterisks).
const Obfuscated = "********"

var (
	slugRe    = regexp.MustCompile(`^[a-z0-9-]*$`)
	docNameRe = regexp.MustCompile(`^[a-z0-9-]*$`)
)

// maxDepth bounds reference resolution (Prefect refuses beyond 50).
const maxDepth = 50

// Service implements the block operations over a store and a keyring.
type Service struct {
	store store.Blocks
	keys  *Keyring
}

// NewService returns a Service; both arguments are required.
func NewService(st store.Blocks, keys *Keyring) *Service {
	return &Service{store: st, keys: keys}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidData)
}

// ---- types and schemas ------------------------------------------------------

// CreateType creates a block type; names starting with "prefect" are
// reserved (403), slugs are lowercase letters, digits and dashes.
func (s *Service) CreateType(ctx context.Context, ws model.ID, in model.BlockTypeCreate) (model.BlockType, error) {
	if strings.HasPrefix(strings.ToLower(in.Name), "prefect") {
		//lint:ignore ST1005 Prefect's public message, verbatim (the client shows it)
		return model.BlockType{}, fmt.Errorf("Block type names beginning with 'Prefect' are reserved: %w", ErrProtected)
	}
	if strings.TrimSpace(in.Name) == "" || strings.ContainsAny(in.Name, "/%&><") {
		return model.BlockType{}, invalid("field \"name\": %q must be non-empty and must not contain '/', '%%', '&', '>' or '<'", in.Name)
	}
	if !slugRe.MatchString(in.Slug) {
		return model.BlockType{}, invalid("field \"slug\": Block type slug must only contain lowercase letters, numbers, and dashes.")
	}
	bt, err := s.store.BlockTypeCreate(ctx, ws, model.BlockType{Name: in.Name, Slug: in.Slug, LogoURL: in.LogoURL,
		DocumentationURL: in.DocumentationURL, Description: in.Description, CodeExample: in.CodeExample})
	if errors.Is(err, store.ErrConflict) {
		//lint:ignore ST1005 Prefect's public message, verbatim (the client shows it)
		return bt, fmt.Errorf("Block type with name %q: %w", in.Name, store.ErrConflict)
	}
	return bt, err
}

// UpdateType changes a type's descriptive fields. Protected (system) types
// may be updated too, as on Prefect's server: a client registering a block
// class whose description or code example differs from the server's copy
// (another Prefect release) patches the type before saving a document.
func (s *Service) UpdateType(ctx context.Context, ws, id model.ID, in model.BlockTypeUpdate) error {
	if _, err := s.store.BlockTypeGet(ctx, ws, store.RefID(id)); err != nil {
		return err
	}
	return s.store.BlockTypeUpdate(ctx, ws, id, in)
}

// DeleteType deletes a type with its schemas and documents (403 for a
// protected one).
func (s *Service) DeleteType(ctx context.Context, ws, id model.ID) error {
	bt, err := s.store.BlockTypeGet(ctx, ws, store.RefID(id))
	if err != nil {
		return err
	}
	if bt.IsProtected {
		return fmt.Errorf("protected block types cannot be deleted: %w", ErrProtected)
	}
	return s.store.BlockTypeDelete(ctx, ws, id)
}

// CreateSchema stores a schema under its Prefect checksum; an existing
// schema with the same checksum and version is returned (created=false).
func (s *Service) CreateSchema(ctx context.Context, ws model.ID, in model.BlockSchemaCreate) (model.BlockSchema, bool, error) {
	if len(bytes.TrimSpace(in.Fields)) == 0 || string(bytes.TrimSpace(in.Fields)) == "null" {
		in.Fields = json.RawMessage(`{}`)
	}
	sum, err := Checksum(in.Fields)
	if err != nil {
		return model.BlockSchema{}, false, invalid("field \"fields\": %v", err)
	}
	if in.Version == "" {
		in.Version = model.DefaultBlockSchemaVersion
	}
	return s.store.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: sum, Fields: in.Fields, BlockTypeID: in.BlockTypeID,
		Capabilities: in.Capabilities, Version: in.Version})
}

// DeleteSchema deletes a schema and its documents (403 when its type is
// protected).
func (s *Service) DeleteSchema(ctx context.Context, ws, id model.ID) error {
	bs, err := s.store.BlockSchemaGet(ctx, ws, id)
	if err != nil {
		return err
	}
	if bs.BlockType != nil && bs.BlockType.IsProtected {
		//lint:ignore ST1005 Prefect's public message, verbatim (the client shows it)
		return fmt.Errorf("Block schemas for protected block types cannot be deleted: %w", ErrProtected)
	}
	return s.store.BlockSchemaDelete(ctx, ws, id)
}

// ---- documents --------------------------------------------------------------

// splitReferences separates top-level {"$ref": {...}} values from data.
func splitReferences(parent model.ID, data map[string]any) (map[string]any, []store.BlockReference, error) {
	own := map[string]any{}
	var refs []store.BlockReference
	for k, v := range data {
		m, ok := v.(map[string]any)
		if !ok {
			own[k] = v
			continue
		}
		ref, has := m["$ref"]
		if !has {
			own[k] = v
			continue
		}
		rm, _ := ref.(map[string]any)
		raw, _ := rm["block_document_id"].(string)
		if raw == "" {
			//lint:ignore ST1005 Prefect's public message, verbatim (the client shows it)
			return nil, nil, fmt.Errorf("Received block reference without a block_document_id in key %s: %w", k, ErrBadReference)
		}
		id, err := model.ParseID(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("key %s: block_document_id %q is not a UUID: %w", k, raw, ErrBadReference)
		}
		refs = append(refs, store.BlockReference{Parent: parent, Ref: id, Name: k})
	}
	slices.SortFunc(refs, func(a, b store.BlockReference) int { return strings.Compare(a.Name, b.Name) })
	return own, refs, nil
}

func (s *Service) seal(ws, id model.ID, data map[string]any) ([]byte, error) {
	plain, err := json.Marshal(data)
	if err != nil {
		return nil, invalid("field \"data\": %v", err)
	}
	return s.keys.Seal(ws, id, plain)
}

func (s *Service) open(ws model.ID, row store.BlockDocumentRow) (map[string]any, error) {
	plain, err := s.keys.Open(ws, row.ID, row.Data)
	if err != nil {
		return nil, fmt.Errorf("block document %s: %w", row.ID, err)
	}
	data := map[string]any{}
	if err := json.Unmarshal(plain, &data); err != nil {
		return nil, fmt.Errorf("block document %s: stored data is not an object: %w", row.ID, err)
	}
	return data, nil
}

// CreateDocument validates, seals and stores a document with its
// references, and returns it as a read without secrets would.
func (s *Service) CreateDocument(ctx context.Context, ws model.ID, in model.BlockDocumentCreate) (model.BlockDocument, error) {
	name := ""
	if in.Name != nil {
		name = *in.Name
	}
	switch {
	case name == "" && !in.IsAnonymous:
		return model.BlockDocument{}, invalid("field \"name\": Names must be provided for block documents.")
	case name == "":
		name = "anonymous-" + model.NewID().String()
	case !docNameRe.MatchString(name) && !(in.IsAnonymous && strings.HasPrefix(name, "anonymous-")):
		return model.BlockDocument{}, invalid("field \"name\": Block document name must only contain lowercase letters, numbers, and dashes.")
	}
	bt, err := s.store.BlockTypeGet(ctx, ws, store.RefID(in.BlockTypeID))
	if errors.Is(err, store.ErrNotFound) {
		return model.BlockDocument{}, invalid("field \"block_type_id\": block type %s not found", in.BlockTypeID)
	}
	if err != nil {
		return model.BlockDocument{}, err
	}
	bs, err := s.store.BlockSchemaGet(ctx, ws, in.BlockSchemaID)
	if errors.Is(err, store.ErrNotFound) {
		return model.BlockDocument{}, invalid("field \"block_schema_id\": block schema %s not found", in.BlockSchemaID)
	}
	if err != nil {
		return model.BlockDocument{}, err
	}
	if bs.BlockTypeID != bt.ID {
		return model.BlockDocument{}, invalid("field \"block_schema_id\": block schema %s is not a schema of block type %s", bs.ID, bt.Slug)
	}
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	if err := validateData(bs.Fields, in.Data); err != nil {
		return model.BlockDocument{}, err
	}
	id := model.NewID()
	own, refs, err := splitReferences(id, in.Data)
	if err != nil {
		return model.BlockDocument{}, err
	}
	sealed, err := s.seal(ws, id, own)
	if err != nil {
		return model.BlockDocument{}, err
	}
	row, err := s.store.BlockDocumentCreate(ctx, ws, store.BlockDocumentRow{ID: id, Name: name, BlockSchemaID: bs.ID, BlockTypeID: bt.ID,
		IsAnonymous: in.IsAnonymous, Data: sealed}, refs)
	if errors.Is(err, store.ErrConflict) {
		//lint:ignore ST1005 Prefect's public message, verbatim (the client shows it)
		return model.BlockDocument{}, fmt.Errorf("Block: %w", store.ErrConflict)
	}
	if err != nil {
		return model.BlockDocument{}, err
	}
	return s.Document(ctx, ws, row.ID, false)
}

// Document reads one document with its references resolved.
func (s *Service) Document(ctx context.Context, ws, id model.ID, includeSecrets bool) (model.BlockDocument, error) {
	docs, err := s.assemble(ctx, ws, []model.ID{id}, includeSecrets)
	if err != nil {
		return model.BlockDocument{}, err
	}
	if len(docs) == 0 {
		return model.BlockDocument{}, fmt.Errorf("block document %s: %w", id, store.ErrNotFound)
	}
	return docs[0], nil
}

// DocumentByName reads the document of the given type slug and name
// (anonymous ones included, as Prefect does).
func (s *Service) DocumentByName(ctx context.Context, ws model.ID, typeSlug, name string, includeSecrets bool) (model.BlockDocument, error) {
	q := model.BlockQuery{BlockDocuments: &model.BlockDocumentFilter{Name: &model.NameFilter{Any: []string{name}}, IsAnonymous: json.RawMessage("null")},
		BlockTypes: &model.BlockTypeFilter{Slug: &struct {
			Any []string `json:"any_"`
		}{Any: []string{typeSlug}}}, Limit: 1}
	docs, err := s.Documents(ctx, ws, q, includeSecrets)
	if err != nil {
		return model.BlockDocument{}, err
	}
	if len(docs) == 0 {
		return model.BlockDocument{}, fmt.Errorf("block document %s/%s: %w", typeSlug, name, store.ErrNotFound)
	}
	return docs[0], nil
}

// Documents lists documents matching q with their references resolved.
func (s *Service) Documents(ctx context.Context, ws model.ID, q model.BlockQuery, includeSecrets bool) ([]model.BlockDocument, error) {
	ids, err := s.store.BlockDocumentList(ctx, ws, q)
	if err != nil {
		return nil, err
	}
	return s.assemble(ctx, ws, ids, includeSecrets)
}

// assemble reads ids (in order) and resolves their references as
// Prefect's _construct_full_block_document does.
func (s *Service) assemble(ctx context.Context, ws model.ID, ids []model.ID, includeSecrets bool) ([]model.BlockDocument, error) {
	g, err := s.store.BlockDocumentGraph(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	edges := map[model.ID][]store.BlockReference{}
	for _, r := range g.References {
		edges[r.Parent] = append(edges[r.Parent], r)
	}
	var build func(id model.ID, depth int) (model.BlockDocument, error)
	build = func(id model.ID, depth int) (model.BlockDocument, error) {
		if depth > maxDepth {
			return model.BlockDocument{}, fmt.Errorf("block document reference graph exceeds max depth %d: %w", maxDepth, store.ErrInvalid)
		}
		row := g.Docs[id]
		data, err := s.open(ws, row)
		if err != nil {
			return model.BlockDocument{}, err
		}
		bs := g.Schemas[row.BlockSchemaID]
		if bt, ok := g.Types[bs.BlockTypeID]; ok {
			bs.BlockType = &bt
		}
		if !includeSecrets {
			data = obfuscate(data, secretFields(bs.Fields))
		}
		name, typeName := row.Name, row.BlockTypeName
		doc := model.BlockDocument{ID: row.ID, Created: row.Created, Updated: row.Updated, Name: &name, Data: data,
			BlockSchemaID: row.BlockSchemaID, BlockSchema: &bs, BlockTypeID: row.BlockTypeID, BlockTypeName: &typeName,
			BlockDocumentReferences: map[string]model.BlockDocumentRef{}, IsAnonymous: row.IsAnonymous}
		if bt, ok := g.Types[row.BlockTypeID]; ok {
			doc.BlockType = &bt
		}
		for _, e := range edges[id] {
			if _, ok := g.Docs[e.Ref]; !ok {
				continue
			}
			child, err := build(e.Ref, depth+1)
			if err != nil {
				return model.BlockDocument{}, err
			}
			doc.Data[e.Name] = child.Data
			doc.BlockDocumentReferences[e.Name] = model.BlockDocumentRef{BlockDocument: model.BlockDocumentRefTarget{
				ID: child.ID, Name: child.Name, BlockType: child.BlockType, IsAnonymous: child.IsAnonymous,
				BlockDocumentReferences: child.BlockDocumentReferences}}
		}
		return doc, nil
	}
	out := make([]model.BlockDocument, 0, len(ids))
	for _, id := range ids {
		if _, ok := g.Docs[id]; !ok {
			continue
		}
		d, err := build(id, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// UpdateDocument applies a PATCH as Prefect does: obfuscated secrets
// posted back keep the stored value, merge_existing_data (default true)
// merges top-level fields into the stored ones, the references become
// those of the new data, and a new schema must be of the same type.
func (s *Service) UpdateDocument(ctx context.Context, ws, id model.ID, in model.BlockDocumentUpdate) error {
	merge := in.MergeExistingData == nil || *in.MergeExistingData
	var newSchema *model.BlockSchema
	if in.BlockSchemaID != nil {
		bs, err := s.store.BlockSchemaGet(ctx, ws, *in.BlockSchemaID)
		if errors.Is(err, store.ErrNotFound) {
			return invalid("field \"block_schema_id\": block schema %s not found", *in.BlockSchemaID)
		}
		if err != nil {
			return err
		}
		newSchema = &bs
	}
	// The current schema's secret fields, read before the write.
	cur, err := s.Document(ctx, ws, id, false)
	if err != nil {
		return err
	}
	secrets := secretFields(cur.BlockSchema.Fields)
	return s.store.BlockDocumentUpdate(ctx, ws, id, func(row store.BlockDocumentRow, refs []store.BlockReference) (store.BlockDocumentChange, error) {
		ch := store.BlockDocumentChange{Row: row, References: refs}
		if newSchema != nil {
			ch.Row.BlockSchemaID = newSchema.ID
		}
		if in.Data == nil && merge {
			return ch, nil
		}
		update := in.Data
		if update == nil {
			update = map[string]any{}
		}
		current, err := s.open(ws, row)
		if err != nil {
			return ch, err
		}
		update = keepSecrets(update, current, secrets)
		if merge {
			for k, v := range update {
				current[k] = v
			}
			update = current
		} else {
			fields := cur.BlockSchema.Fields
			if newSchema != nil {
				fields = newSchema.Fields
			}
			if err := validateData(fields, update); err != nil {
				return ch, err
			}
		}
		own, newRefs, err := splitReferences(id, update)
		if err != nil {
			return ch, err
		}
		if ch.Row.Data, err = s.seal(ws, id, own); err != nil {
			return ch, err
		}
		ch.References = newRefs
		return ch, nil
	})
}

// ---- secrets ----------------------------------------------------------------

// secretFields reads a schema's "secret_fields" list.
func secretFields(fields json.RawMessage) []string {
	var f struct {
		SecretFields []string `json:"secret_fields"`
	}
	_ = json.Unmarshal(fields, &f)
	return f.SecretFields
}

// flatEntry is one leaf of a flattened document (Prefect's
// dict_to_flatdict: non-empty objects are descended into, anything else
// is a leaf).
type flatEntry struct {
	path  []string
	value any
}

func flatten(m map[string]any, parent []string, out *[]flatEntry) {
	for k, v := range m {
		p := append(slices.Clone(parent), k)
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(sub, p, out)
			continue
		}
		*out = append(*out, flatEntry{path: p, value: v})
	}
}

func unflatten(entries []flatEntry) map[string]any {
	out := map[string]any{}
	for _, e := range entries {
		cur := out
		for _, k := range e.path[:len(e.path)-1] {
			next, ok := cur[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[k] = next
			}
			cur = next
		}
		cur[e.path[len(e.path)-1]] = e.value
	}
	return out
}

func pathKey(p []string) string { return strings.Join(p, "\x00") }

// obfuscate replaces the values of secret fields ("a.b", or "a.*" for
// everything under a) with Obfuscated, as Prefect's BlockDocument
// from_orm_model does.
func obfuscate(data map[string]any, secrets []string) map[string]any {
	if len(secrets) == 0 {
		return data
	}
	var flat []flatEntry
	flatten(data, nil, &flat)
	index := map[string]int{}
	for i, e := range flat {
		index[pathKey(e.path)] = i
	}
	for _, sf := range secrets {
		key := strings.Split(sf, ".")
		if i, ok := index[pathKey(key)]; ok && flat[i].value != nil {
			flat[i].value = Obfuscated
			continue
		}
		if wi := slices.Index(key, "*"); wi >= 0 {
			for i, e := range flat {
				if len(e.path) >= wi && slices.Equal(e.path[:wi], key[:wi]) {
					flat[i].value = Obfuscated
				}
			}
		}
	}
	return unflatten(flat)
}

// keepSecrets puts the stored value back wherever an update posts the
// obfuscated form of a stored secret (a client saving back what it read).
func keepSecrets(update, current map[string]any, secrets []string) map[string]any {
	if len(secrets) == 0 {
		return update
	}
	var fu, fc []flatEntry
	flatten(update, nil, &fu)
	flatten(current, nil, &fc)
	cur := map[string]any{}
	for _, e := range fc {
		cur[pathKey(e.path)] = e.value
	}
	for _, sf := range secrets {
		key := strings.Split(sf, ".")
		if cv, ok := cur[pathKey(key)]; ok && cv != nil {
			for i, e := range fu {
				if pathKey(e.path) == pathKey(key) && e.value == Obfuscated {
					fu[i].value = cv
				}
			}
		} else if wi := slices.Index(key, "*"); wi >= 0 {
			for i, e := range fu {
				if len(e.path) >= wi && slices.Equal(e.path[:wi], key[:wi]) && e.value == Obfuscated {
					if cv, ok := cur[pathKey(e.path)]; ok {
						fu[i].value = cv
					}
				}
			}
		}
	}
	return unflatten(fu)
}

// ---- validation -------------------------------------------------------------

// validateData checks data against the schema's top level: every required
// property is present, and a present, non-null value of a property with a
// plain JSON "type" has that type. References ({"$ref": ...}) stand for
// nested blocks and are not type-checked.
func validateData(fields json.RawMessage, data map[string]any) error {
	var schema struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(fields, &schema); err != nil {
		return nil
	}
	for _, r := range schema.Required {
		if _, ok := data[r]; !ok {
			return invalid("field \"data.%s\" is required by the block schema", r)
		}
	}
	for k, v := range data {
		if v == nil {
			continue
		}
		if m, ok := v.(map[string]any); ok {
			if _, isRef := m["$ref"]; isRef {
				continue
			}
		}
		raw, ok := schema.Properties[k]
		if !ok {
			continue
		}
		var prop struct {
			Type any `json:"type"`
		}
		if json.Unmarshal(raw, &prop) != nil || prop.Type == nil {
			continue
		}
		var types []string
		switch t := prop.Type.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				if s, ok := x.(string); ok {
					types = append(types, s)
				}
			}
		}
		if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return jsonTypeIs(v, t) }) {
			return invalid("field \"data.%s\": expected %s", k, strings.Join(types, " or "))
		}
	}
	return nil
}

func jsonTypeIs(v any, t string) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "null":
		return v == nil
	}
	return true
}
