"""A JSON Schema of schedule.yaml, generated from the field declarations.

Editors (e.g. VS Code with the YAML extension) use it to complete keys and flag a misspelt one
as you type; ``feed check`` stays the judge of what can be published (weekdays of dates, moves,
tags declared ...). Every scalar is text in schedule.yaml, so times, dates and durations are
strings here: quote times (``at: "11:00"``). Regenerate the committed copy with
``feed schema > schedule.schema.json``.
"""

from __future__ import annotations

import json

from .fields import MAPPINGS, TOP, Field

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SESSION_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _mapping(fields: tuple[Field, ...]) -> dict:
    """A mapping with exactly the declared keys: a misspelt key fails."""
    schema: dict = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: {**f.schema, "description": f.help} for f in fields},
    }
    if required := [f.name for f in fields if f.required]:
        schema["required"] = required
    if needs := {f.name: list(f.needs) for f in fields if f.needs}:
        schema["dependentRequired"] = needs
    return schema


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of schedule.yaml."""
    defs = {name: _mapping(fields) for name, (_, fields) in MAPPINGS.items() if fields is not TOP}
    defs["sessions"] = {
        "type": "object",
        "description": "Sessions keyed by the date of their regular slot: a topic, or its keys.",
        "patternProperties": {
            SESSION_DATE: {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/session"}]}
        },
        "additionalProperties": False,
    }
    # Agenda-style lists: a string, or a list whose nested lists hold sub-items.
    defs["items"] = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/item_list"}]}
    defs["item_list"] = {
        "type": "array",
        "items": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/item_list"}]},
    }
    return {
        "$schema": DRAFT,
        "title": "schedule.yaml",
        "description": "A recurring meeting published as a calendar feed by `feed`.",
        **_mapping(TOP),
        "$defs": defs,
    }


def dumps() -> str:
    """The schema as committed in schedule.schema.json: pretty, sorted, deterministic."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
