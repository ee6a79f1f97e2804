package blocks

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/batonhq/baton/internal/model"
)

// systemBlocksJSON holds the block types and schemas the pinned Prefect
// server registers for itself, as its own client computes them (written by
// gen_system_blocks.py from the pinned prefect package).
//
//go:embed system_blocks.json
var systemBlocksJSON []byte

type systemBlock struct {
	BlockType struct {
		Name             string  `json:"name"`
		Slug             string  `json:"slug"`
		LogoURL          *string `json:"logo_url"`
		DocumentationURL *string `json:"documentation_url"`
		Description      *string `json:"description"`
		CodeExample      *string `json:"code_example"`
		IsProtected      bool    `json:"is_protected"`
	} `json:"block_type"`
	BlockSchema struct {
		Fields       json.RawMessage `json:"fields"`
		Capabilities []string        `json:"capabilities"`
		Version      string          `json:"version"`
		Checksum     string          `json:"checksum"`
	} `json:"block_schema"`
}

type systemData struct {
	PrefectVersion string        `json:"prefect_version"`
	Blocks         []systemBlock `json:"blocks"`
}

func systemBlocks() (systemData, error) {
	var d systemData
	if err := json.Unmarshal(systemBlocksJSON, &d); err != nil {
		return d, fmt.Errorf("blocks: system_blocks.json: %w", err)
	}
	return d, nil
}

// InstallSystemBlockTypes registers the block types (and their schemas)
// that the Prefect server registers for itself: the protected Webhook,
// Secret and LocalFileSystem, and the notification and file-system blocks
// every Prefect server offers. Existing types are overwritten, so it is
// idempotent; only the protected ones when protectedOnly is set (what
// POST /block_types/install_system_block_types does in Prefect).
func (s *Service) InstallSystemBlockTypes(ctx context.Context, ws model.ID, protectedOnly bool) error {
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
		saved, err := s.store.BlockTypeUpsert(ctx, ws, bt)
		if err != nil {
			return fmt.Errorf("blocks: install %s: %w", bt.Slug, err)
		}
		if _, _, err := s.store.BlockSchemaCreate(ctx, ws, model.BlockSchema{Checksum: b.BlockSchema.Checksum, Fields: b.BlockSchema.Fields,
			BlockTypeID: saved.ID, Capabilities: b.BlockSchema.Capabilities, Version: b.BlockSchema.Version}); err != nil {
			return fmt.Errorf("blocks: install %s schema: %w", bt.Slug, err)
		}
	}
	return nil
}
