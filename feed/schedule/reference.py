"""The key reference of docs/schedule-format.md, generated from the field declarations.

Regenerate it after changing a declaration with ``python -m feed.schedule.reference``; a test
fails while the docs are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .fields import MAPPINGS

START = "<!-- keys:start -->"
END = "<!-- keys:end -->"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "schedule-format.md"


def markdown() -> str:
    """The reference: one table per mapping, its keys in order."""
    parts = [
        "<!-- Generated from feed/schedule/fields.py by `python -m feed.schedule.reference`. -->"
    ]
    for where, fields in MAPPINGS.values():
        parts.append(f"\n### {where}\n\n| key | when | what it is |\n| --- | --- | --- |")
        for f in fields:
            need = "required" if f.required else ""
            if f.needs:
                need = "needs " + ", ".join(f"`{n}`" for n in f.needs)
            if f.applies_to:
                need = f"{f.applies_to} only"
            parts.append(f"| `{f.name}` | {need} | {f.help.replace('|', chr(92) + '|')} |")
    return "\n".join(parts) + "\n"


def section(text: str) -> str | None:
    """What stands between the markers in a document, or None without them."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(START) : end].strip("\n") + "\n"


def update(path: Path = DOCS) -> bool:
    """Rewrite the section between the markers; True when it changed."""
    text = path.read_text(encoding="utf-8")
    if section(text) is None:
        raise ValueError(f"{path}: no {START} ... {END} section")
    start, end = text.index(START) + len(START), text.index(END)
    new = text[:start] + "\n" + markdown() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
    print("updated" if changed else "up to date", file=sys.stderr)
