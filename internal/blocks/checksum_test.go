package blocks

import (
	"encoding/json"
	"testing"
)

// The system blocks' checksums were computed by the pinned Prefect client
// itself (gen_system_blocks.py); Checksum must reproduce every one, or the
// client cannot find the schemas it registers.
func TestChecksumMatchesPrefect(t *testing.T) {
	t.Parallel()
	sys, err := systemBlocks()
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.Blocks) < 10 {
		t.Fatalf("only %d system blocks", len(sys.Blocks))
	}
	for _, b := range sys.Blocks {
		got, err := Checksum(b.BlockSchema.Fields)
		if err != nil {
			t.Fatalf("%s: %v", b.BlockType.Slug, err)
		}
		if got != b.BlockSchema.Checksum {
			t.Errorf("%s: checksum %s, Prefect's %s", b.BlockType.Slug, got, b.BlockSchema.Checksum)
		}
	}
}

func TestChecksumIgnoresSecretFieldsAndBlockDefinitions(t *testing.T) {
	t.Parallel()
	a, err := Checksum(json.RawMessage(`{"title":"X","properties":{"a":{"$ref":"#/definitions/Creds"},"b":{"$ref":"#/definitions/Opt"}},"secret_fields":["a.key"],
		"definitions":{"Creds":{"block_type_slug":"creds","title":"Creds"},"Opt":{"title":"Opt","enum":["é"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Checksum(json.RawMessage(`{"definitions":{"Opt":{"enum":["é"],"title":"Opt"}},"properties":{"b":{"$ref":"#/definitions/Opt"},"a":{"$ref":"#/definitions/Creds"}},"title":"X"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("secret_fields or a block definition changed the checksum: %s vs %s", a, b)
	}
	c, _ := Checksum(json.RawMessage(`{"title":"Y"}`))
	if c == a {
		t.Fatal("different fields, same checksum")
	}
	_, err = Checksum(json.RawMessage(`[1]`))
	if err == nil {
		t.Fatal("fields that are not an object must be refused")
	}
}
