package blocks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// SMTPEmailSlug is the slug of Baton's own notification block type: email
// through an SMTP server (automations deliver with it; the Prefect server
// has no notification block for plain SMTP).
const SMTPEmailSlug = "smtp-email"

// batonBlock is a block type Baton offers besides Prefect's system ones,
// installed with them in every workspace.
type batonBlock struct {
	typ          model.BlockType
	fields       json.RawMessage
	capabilities []string
}

func batonBlocks() []batonBlock {
	desc := "Sends automation notifications as email through an SMTP server."
	return []batonBlock{{typ: model.BlockType{Name: "SMTP Email", Slug: SMTPEmailSlug, Description: &desc}, fields: smtpEmailFields,
		capabilities: []string{"notify"}}}
}

// smtpEmailFields is the schema of the smtp-email block type.
var smtpEmailFields = json.RawMessage(`{"title":"SMTPEmail","description":"Sends notifications as email through an SMTP server.","type":"object",` +
	`"properties":{` +
	`"smtp_server":{"title":"SMTP server","description":"Host name of the SMTP server.","type":"string","position":0},` +
	`"smtp_port":{"title":"SMTP port","description":"Defaults to 465 for SSL, 587 for STARTTLS, 25 for INSECURE.","anyOf":[{"type":"integer"},{"type":"null"}],"default":null,"position":1},` +
	`"smtp_type":{"title":"Security","description":"SSL (TLS from the start), STARTTLS, or INSECURE (plain text).","type":"string","enum":["SSL","STARTTLS","INSECURE"],"default":"STARTTLS","position":2},` +
	`"username":{"title":"Username","anyOf":[{"type":"string"},{"type":"null"}],"default":null,"position":3},` +
	`"password":{"title":"Password","anyOf":[{"type":"string","format":"password","writeOnly":true},{"type":"null"}],"default":null,"position":4},` +
	`"from_email":{"title":"From","description":"The sender's address.","type":"string","position":5},` +
	`"to_emails":{"title":"To","description":"The recipients' addresses.","type":"array","items":{"type":"string"},"position":6}},` +
	`"required":["smtp_server","from_email","to_emails"],"secret_fields":["password"],"block_type_slug":"smtp-email","block_schema_references":{}}`)

// InstallBlockTypes registers, in workspace ws, the block types that the
// Prefect server registers for itself (the protected Webhook, Secret and
// LocalFileSystem, and the notification and file-system blocks every Prefect
// server offers) and Baton's own (smtp-email). Existing types are
// overwritten, so it is idempotent. With protectedOnly, only the protected
// ones (what POST /block_types/install_system_block_types does in Prefect).
// The server runs it for the default workspace at start and for every
// workspace it creates.
func InstallBlockTypes(ctx context.Context, st store.Blocks, ws model.ID, protectedOnly bool) error {
	d, err := systemBlocks()
	if err != nil {
		return err
	}
	for _, b := range d.Blocks {
		if protectedOnly && !b.BlockType.IsProtected {
			continue
		}
		bt := model.BlockType{Name: b.BlockType.Name, Slug: b.BlockType.Slug, LogoURL: b.BlockType.LogoURL,
			DocumentationURL: b.BlockType.DocumentationURL, Description: b.BlockType.Description,
			CodeExample: b.BlockType.CodeExample, IsProtected: b.BlockType.IsProtected}
		saved, err := st.BlockTypeUpsert(ctx, ws, bt)
		if err != nil {
			return fmt.Errorf("blocks: install %s: %w", bt.Slug, err)
		}
		if _, _, err := st.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: b.BlockSchema.Checksum, Fields: b.BlockSchema.Fields,
			BlockTypeID: saved.ID, Capabilities: b.BlockSchema.Capabilities, Version: b.BlockSchema.Version}); err != nil {
			return fmt.Errorf("blocks: install %s schema: %w", bt.Slug, err)
		}
	}
	if protectedOnly {
		return nil
	}
	for _, b := range batonBlocks() {
		saved, err := st.BlockTypeUpsert(ctx, ws, b.typ)
		if err != nil {
			return fmt.Errorf("blocks: install %s: %w", b.typ.Slug, err)
		}
		sum, err := Checksum(b.fields)
		if err != nil {
			return err
		}
		if _, _, err := st.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: sum, Fields: b.fields, BlockTypeID: saved.ID,
			Capabilities: b.capabilities, Version: model.DefaultBlockSchemaVersion}); err != nil {
			return fmt.Errorf("blocks: install %s schema: %w", b.typ.Slug, err)
		}
	}
	return nil
}
