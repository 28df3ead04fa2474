"""How a mapping of schedule.yaml is read: the context problems go to, and declared fields.

The loader reads each mapping by its declaration (feed/schedule/fields.py): unknown and
duplicate keys are reported with a hint, missing required keys at the mapping, and every
present key by its field's reader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from .model import Series
from .problems import Problem, did_you_mean, one_of
from .yamlread import Value

if TYPE_CHECKING:
    from .fields import Field

T = TypeVar("T")


@dataclass
class Context:
    """Where reading is: the file, the problems found so far, and what the values are read for.

    ``within()`` gives a context for a nested part that adds to the same list of problems.
    """

    path: str
    problems: list[Problem]
    tags: dict[str, str] = field(default_factory=dict)  # declared under calendar.tags
    series: Series | None = None  # whose sessions are read: the series without them
    date: dt.date | None = None  # the regular date of the session being read

    def within(self, **changes) -> Context:
        return dataclasses.replace(self, **changes)

    def error(
        self, at: Value, key: str, message: str, hint: str | None = None, warning: bool = False
    ) -> None:
        self.problems.append(Problem(self.path, at.line, at.column, key, message, hint, warning))

    def warn(self, at: Value, key: str, message: str, hint: str | None = None) -> None:
        self.error(at, key, message, hint, warning=True)


_BUG_HINT = (
    "this is a mistake in feed, not in your file: please report it with this line; "
    "meanwhile, writing the value another way may get past it"
)


def guarded(ctx: Context, at: Value, key: str, read: Callable[..., T], *args, default=None):
    """``read(*args)``, or ``default`` after reporting at ``at`` why it failed: whatever a
    value holds, checking it ends in a positioned problem, never in a traceback."""
    try:
        return read(*args)
    except Exception as exc:  # noqa: BLE001 - the point: no exception escapes validation
        detail = f"{type(exc).__name__}: {exc}"
        if len(detail) > 120:
            detail = detail[:119] + "…"
        ctx.error(at, key, f"this value could not be checked ({detail})", _BUG_HINT)
        return default


def join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def quoted(text: str, limit: int = 100) -> str:
    """Text as messages quote it: its repr, cut short in the middle when it is long, so one
    problem stays one readable line whatever the file holds."""
    found = repr(text)
    if len(found) <= limit:
        return found
    half = (limit - 5) // 2
    return f"{found[:half]}[...]{found[-half:]}"


def shown(node: Value) -> str:
    """A value as messages quote it: 'text', or "a list" / "a mapping"."""
    return quoted(node.text()) if node.is_scalar else node.text()


def blank(node: Value) -> bool:
    return node.is_scalar and (node.data is None or not str(node.data).strip())


# -- mappings ------------------------------------------------------------------------------


# `topic:Foo`: without a space after the colon, YAML reads one piece of text, not a key and
# its value.
_GLUED = re.compile(r"([a-z]+):(\S.*)", re.S)


def glued(text: str, allowed: Sequence[str]) -> tuple[str, str] | None:
    """(key, value) when text is one of the allowed keys and a value with no space between."""
    found = _GLUED.fullmatch(text.strip())
    return (found[1], found[2].strip()) if found and found[1] in allowed else None


def space_after_colon(name: str, value: str) -> str:
    return f"put a space after the colon: `{name}: {value}`"


def mapping(ctx: Context, node: Value, key: str, allowed: Sequence[str]) -> dict[str, Value]:
    """The mapping's entries by name; unknown and duplicate keys are reported. A key glued to
    its value (`{topic:Foo}`) is reported, and read as meant."""
    if not node.is_map:
        if blank(node):
            message, hint = "nothing is given", "write its keys on the lines below, indented"
        elif node.is_scalar and not node.quoted and (found := glued(node.text(), allowed)):
            message, hint = (
                f"expected a mapping of keys, got {shown(node)}",
                space_after_colon(*found),
            )
        else:
            message, hint = f"expected a mapping of keys, got {shown(node)}", one_of(allowed)
        ctx.error(node, key, message, hint)
        return {}
    for dup, first in node.duplicates:
        ctx.error(
            dup,
            join(key, dup.text()),
            f"{dup.text()!r} is given twice, first on line {first.line}",
            "YAML keeps only the last one; merge the two entries",
        )
    entries = {}
    for k, v in node.data:
        name = k.text()
        if name not in allowed:
            found = glued(name, allowed) if v.is_scalar and v.data is None else None
            hint = space_after_colon(*found) if found else None
            ctx.error(
                k,
                join(key, name),
                f"unknown key {name!r}",
                hint or did_you_mean(name, allowed) or one_of(allowed),
            )
            if found and found[0] not in entries:
                entries[found[0]] = Value(found[1], k.line, k.column + len(found[0]) + 1)
            continue
        entries[name] = v
    return entries


def read_mapping(
    ctx: Context, node: Value, key: str, fields: Sequence[Field], skip: Sequence[str] = ()
) -> tuple[dict[str, Value], dict[str, object]]:
    """A declared mapping: its entries by name, and the values their fields' readers return.

    Fields are read in declaration order; a missing required one is reported at the mapping.
    Fields without a reader, and those in ``skip``, are left to the caller.
    """
    entries = mapping(ctx, node, key, tuple(spec.name for spec in fields))
    values: dict[str, object] = {}
    for spec in fields:
        value = entries.get(spec.name)
        at = join(key, spec.name)
        if value is None:
            if spec.required and node.is_map:
                hint = spec.missing or f"add `{spec.name}:` here"
                ctx.error(node, at, f"{spec.name!r} is required", hint)
            continue
        if spec.required and spec.read is not None and blank(value):
            hint = spec.empty or f"write its value after `{spec.name}:`"
            ctx.error(value, at, f"the {spec.name} is empty", hint)
            continue
        if spec.read is not None and spec.name not in skip:
            values[spec.name] = guarded(ctx, value, at, spec.read, ctx, value, at)
    return entries, values
