"""Print the README's table of losses from LOSS_METADATA (the README embeds this output verbatim).

    python scripts/loss_table.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from scripts/

from common import LOSS_METADATA  # noqa: E402
from settings import format_default  # noqa: E402


def cell(text: str) -> str:
    """`text` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def loss_table() -> str:
    lines = [
        "| name (aliases) | type | settings: default, meaning (unit) | reference | score (higher = bona fide) |",
        "|---|---|---|---|---|",
    ]
    for name, metadata in LOSS_METADATA.items():
        aliases = f" ({', '.join(f'`{alias}`' for alias in metadata['aliases'])})" if metadata["aliases"] else ""
        parameters = "<br>".join(
            f"`{parameter}` {format_default(spec['default'], spec.get('none', 'derived'))}: {cell(spec['help'])}"
            + (f" ({spec['unit']})" if "unit" in spec else "")
            for parameter, spec in metadata["parameters"].items()
        )
        lines.append(
            f"| `{name}`{aliases} | {metadata['type']} | {parameters or '—'} | {cell(metadata['reference'])} | {cell(metadata['score'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(loss_table())
