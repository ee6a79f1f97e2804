package model

import "encoding/json"

// BlockType is a kind of block (Secret, S3 Bucket, Slack webhook...),
// unique by slug within a workspace. Protected types are installed by the
// server itself and cannot be changed or deleted through the API.
type BlockType struct {
	ID               ID      `json:"id"`
	Created          Time    `json:"created"`
	Updated          Time    `json:"updated"`
	Name             string  `json:"name"`
	Slug             string  `json:"slug"`
	LogoURL          *string `json:"logo_url"`
	DocumentationURL *string `json:"documentation_url"`
	Description      *string `json:"description"`
	CodeExample      *string `json:"code_example"`
	IsProtected      bool    `json:"is_protected"`
}

// BlockTypeCreate is the body of POST /block_types/.
type BlockTypeCreate struct {
	Name             string  `json:"name" required:"true"`
	Slug             string  `json:"slug" required:"true"`
	LogoURL          *string `json:"logo_url"`
	DocumentationURL *string `json:"documentation_url"`
	Description      *string `json:"description"`
	CodeExample      *string `json:"code_example"`
}

// BlockTypeUpdate is the body of PATCH /block_types/{id}; absent fields
// are left as they are.
type BlockTypeUpdate struct {
	LogoURL          *string `json:"logo_url"`
	DocumentationURL *string `json:"documentation_url"`
	Description      *string `json:"description"`
	CodeExample      *string `json:"code_example"`
}

// BlockSchema is one version of a block type's fields (a JSON schema as
// the client's pydantic model produces it), identified by the checksum of
// those fields.
type BlockSchema struct {
	ID           ID              `json:"id"`
	Created      Time            `json:"created"`
	Updated      Time            `json:"updated"`
	Checksum     string          `json:"checksum"`
	Fields       json.RawMessage `json:"fields"`
	BlockTypeID  ID              `json:"block_type_id"`
	BlockType    *BlockType      `json:"block_type"`
	Capabilities []string        `json:"capabilities"`
	Version      string          `json:"version"`
}

// BlockSchemaCreate is the body of POST /block_schemas/.
type BlockSchemaCreate struct {
	Fields       json.RawMessage `json:"fields"`
	BlockTypeID  ID              `json:"block_type_id" required:"true"`
	Capabilities []string        `json:"capabilities"`
	Version      string          `json:"version"`
}

// DefaultBlockSchemaVersion is Prefect's version for schemas created
// without one.
const DefaultBlockSchemaVersion = "non-versioned"

// BlockDocument is a saved block: its (possibly obfuscated) data, with
// referenced blocks resolved into it, plus its schema and type.
type BlockDocument struct {
	ID                      ID                          `json:"id"`
	Created                 Time                        `json:"created"`
	Updated                 Time                        `json:"updated"`
	Name                    *string                     `json:"name"`
	Data                    map[string]any              `json:"data"`
	BlockSchemaID           ID                          `json:"block_schema_id"`
	BlockSchema             *BlockSchema                `json:"block_schema"`
	BlockTypeID             ID                          `json:"block_type_id"`
	BlockTypeName           *string                     `json:"block_type_name"`
	BlockType               *BlockType                  `json:"block_type"`
	BlockDocumentReferences map[string]BlockDocumentRef `json:"block_document_references"`
	IsAnonymous             bool                        `json:"is_anonymous"`
}

// BlockDocumentRef describes a block a document references under a field
// name, as Prefect's block_document_references does.
type BlockDocumentRef struct {
	BlockDocument BlockDocumentRefTarget `json:"block_document"`
}

// BlockDocumentRefTarget is the referenced document in a BlockDocumentRef.
type BlockDocumentRefTarget struct {
	ID                      ID                          `json:"id"`
	Name                    *string                     `json:"name"`
	BlockType               *BlockType                  `json:"block_type"`
	IsAnonymous             bool                        `json:"is_anonymous"`
	BlockDocumentReferences map[string]BlockDocumentRef `json:"block_document_references"`
}

// BlockDocumentCreate is the body of POST /block_documents/.
type BlockDocumentCreate struct {
	Name          *string        `json:"name"`
	Data          map[string]any `json:"data"`
	BlockSchemaID ID             `json:"block_schema_id" required:"true"`
	BlockTypeID   ID             `json:"block_type_id" required:"true"`
	IsAnonymous   bool           `json:"is_anonymous"`
}

// BlockDocumentUpdate is the body of PATCH /block_documents/{id}.
// MergeExistingData (default true) merges Data into the stored data
// instead of replacing it.
type BlockDocumentUpdate struct {
	BlockSchemaID     *ID            `json:"block_schema_id"`
	Data              map[string]any `json:"data"`
	MergeExistingData *bool          `json:"merge_existing_data"`
}

// BlockTypeFilter mirrors Prefect's BlockTypeFilter.
type BlockTypeFilter struct {
	Name *struct {
		Like *string `json:"like_"`
	} `json:"name"`
	Slug *struct {
		Any []string `json:"any_"`
	} `json:"slug"`
}

// BlockSchemaFilter mirrors Prefect's BlockSchemaFilter.
type BlockSchemaFilter struct {
	Operator    string    `json:"operator"`
	BlockTypeID *IDFilter `json:"block_type_id"`
	// BlockCapabilities.All: schemas having every listed capability.
	BlockCapabilities *struct {
		All []string `json:"all_"`
	} `json:"block_capabilities"`
	ID      *IDFilter `json:"id"`
	Version *struct {
		Any []string `json:"any_"`
	} `json:"version"`
}

// BlockDocumentFilter mirrors Prefect's BlockDocumentFilter. IsAnonymous
// defaults to {"eq_": false} when the key is absent (anonymous documents
// are hidden unless asked for); an explicit null lifts that default.
type BlockDocumentFilter struct {
	Operator    string          `json:"operator"`
	ID          *IDFilter       `json:"id"`
	IsAnonymous json.RawMessage `json:"is_anonymous"`
	BlockTypeID *IDFilter       `json:"block_type_id"`
	Name        *NameFilter     `json:"name"`
}

// BlockQuery is the body of the block filter and count routes.
type BlockQuery struct {
	BlockDocuments *BlockDocumentFilter `json:"block_documents"`
	BlockTypes     *BlockTypeFilter     `json:"block_types"`
	BlockSchemas   *BlockSchemaFilter   `json:"block_schemas"`
	IncludeSecrets bool                 `json:"include_secrets"`
	Sort           string               `json:"sort"`
	Offset         int                  `json:"offset"`
	Limit          int                  `json:"limit"`
}

// BlockDocumentSorts are the sort keys /block_documents/filter accepts.
var BlockDocumentSorts = []string{"NAME_DESC", "NAME_ASC", "BLOCK_TYPE_AND_NAME_ASC"}
