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

// InstallSystemBlockTypes is InstallBlockTypes on the Service's store.
func (s *Service) InstallSystemBlockTypes(ctx context.Context, ws model.ID, protectedOnly bool) error {
	return InstallBlockTypes(ctx, s.store, ws, protectedOnly)
}
