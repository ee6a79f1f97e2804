"""Writes system_blocks.json: the block types and schemas the pinned Prefect server registers itself.

Run with the compat venv (the pinned prefect): `compat/.venv/bin/python internal/blocks/gen_system_blocks.py`.
The data is Prefect's own (each block class's type and schema as the client computes them), so schema
checksums match what the client computes and `Block.load()` finds them.
"""

import json
import sys
from pathlib import Path

import prefect
from prefect.blocks.core import Block
from prefect.utilities.dispatch import get_registry_for_type

# Importing the server's registration module loads the same block classes the Prefect server registers.
import prefect.server.models.block_registration  # noqa: F401
import prefect.blocks.notifications  # noqa: F401
import prefect.blocks.system  # noqa: F401
import prefect.blocks.webhook  # noqa: F401
import prefect.filesystems  # noqa: F401

PROTECTED = {"webhook", "secret", "local-file-system"}

out = []
for cls in sorted((get_registry_for_type(Block) or {}).values(), key=lambda c: c.get_block_type_slug()):
    mod = cls.__module__
    if not mod.startswith("prefect.") or mod.startswith("prefect.server") or "test" in mod:
        continue
    if getattr(cls, "_block_schema_capabilities", None) is None and cls.__name__ == "Block":
        continue
    bt = cls._to_block_type()
    bs = cls._to_block_schema(block_type_id=bt.id)
    out.append({
        "block_type": {
            "name": bt.name, "slug": bt.slug, "logo_url": str(bt.logo_url) if bt.logo_url else None,
            "documentation_url": str(bt.documentation_url) if bt.documentation_url else None,
            "description": bt.description, "code_example": bt.code_example,
            "is_protected": bt.slug in PROTECTED,
        },
        "block_schema": {"fields": bs.fields, "capabilities": sorted(bs.capabilities), "version": bs.version,
                         "checksum": bs.checksum},
    })

path = Path(__file__).with_name("system_blocks.json")
path.write_text(json.dumps({"prefect_version": prefect.__version__, "blocks": out}, indent=1, sort_keys=True) + "\n")
print(f"wrote {len(out)} block types to {path}", file=sys.stderr)
