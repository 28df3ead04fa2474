"""Safe, bounded YAML reading that keeps the line and column of every value.

PyYAML's loaders turn ``11:00`` into 660, ``no`` into False and silently keep the last of two
equal mapping keys. We only *compose* the document (no object construction, so no Python tags
run) and then walk the node graph ourselves: every scalar stays the text the organizer typed,
duplicate keys are reported, and alias expansion is bounded so a "billion laughs" file is refused
quickly in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from .errors import Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Value:
    """A YAML value with its position (1-based line and column).

    ``data`` is a ``str`` for scalars (``None`` for an empty or null scalar), a list of Values for
    sequences, and a list of (key Value, Value) pairs for mappings, in file order.
    """

    data: object
    line: int
    column: int
    quoted: bool = False
    kind: str = "scalar"
    duplicates: list = field(default_factory=list)

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_seq(self) -> bool:
        return self.kind == "seq"

    @property
    def is_scalar(self) -> bool:
        return self.kind == "scalar"

    def text(self) -> str:
        """The value as the organizer wrote it, for messages."""
        if self.is_scalar:
            return "" if self.data is None else str(self.data)
        return "a list" if self.is_seq else "a mapping"


class _TooBig(Exception):
    pass


def read(text: str | bytes, path: str) -> tuple[Value | None, list[Problem]]:
    """Parse YAML text into a positioned tree, or report why it cannot be read."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            return None, [
                _problem(
                    path,
                    1,
                    1,
                    f"file is {len(text)} bytes",
                    f"the limit is {MAX_BYTES} bytes; split or trim the schedule",
                )
            ]
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            column = exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1
            return None, [
                _problem(
                    path,
                    line,
                    column,
                    f"byte {text[exc.start]:#04x} is not UTF-8",
                    "save the file as UTF-8",
                )
            ]
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None, [
            _problem(
                path,
                1,
                1,
                "file is too large",
                f"the limit is {MAX_BYTES} bytes; split or trim the schedule",
            )
        ]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        hint = "check indentation, colons and quotes on this line or the one above"
        return None, [_problem(path, line, column, f"YAML syntax error: {message}", hint)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "position", None)
        return None, [
            _problem(
                path,
                _line_of(text, mark),
                1,
                f"YAML error: {exc}",
                "remove control characters from the file",
            )
        ]
    except RecursionError:
        return None, [
            _problem(
                path, 1, 1, "YAML nesting is too deep", f"keep nesting under {MAX_DEPTH} levels"
            )
        ]
    if node is None:
        return None, [
            _problem(
                path, 1, 1, "the file is empty", "start with a `calendar:` and a `series:` section"
            )
        ]
    problems: list[Problem] = []
    counter = [0]
    try:
        tree = _convert(node, path, problems, counter, 0, set())
    except _TooBig as exc:
        return None, [
            _problem(
                path,
                node.start_mark.line + 1,
                1,
                str(exc),
                "YAML aliases (*name) may not expand to more than "
                f"{MAX_NODES} values; write the values out",
            )
        ]
    return tree, problems


def _line_of(text: str, position) -> int:
    if not isinstance(position, int):
        return 1
    return text.count("\n", 0, position) + 1


def _problem(path, line, column, message, hint=None, key=""):
    return Problem(path=path, line=line, column=column, key=key, message=message, hint=hint)


def _convert(node, path, problems, counter, depth, active) -> Value:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _TooBig(f"the document expands to more than {MAX_NODES} values")
    if depth > MAX_DEPTH:
        raise _TooBig(f"the document nests deeper than {MAX_DEPTH} levels")
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if node.tag not in _STANDARD_TAGS:
        problems.append(
            _problem(
                path,
                line,
                column,
                f"the tag {node.tag!r} is not allowed",
                "schedule.yaml holds plain text, lists and mappings only",
            )
        )
        return Value(None, line, column)
    if id(node) in active:
        raise _TooBig("the document refers to itself through an alias")
    if isinstance(node, yaml.ScalarNode):
        quoted = node.style in ("'", '"', "|", ">")
        data = node.value
        if not quoted and data in ("", "~", "null", "Null", "NULL"):
            data = None
        return Value(data, line, column, quoted=quoted)
    active = active | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(n, path, problems, counter, depth + 1, active) for n in node.value]
        return Value(items, line, column, kind="seq")
    pairs = []
    seen: dict[str, Value] = {}
    result = Value(pairs, line, column, kind="map")
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            problems.append(
                _problem(
                    path,
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    "merge keys (<<) are not supported",
                    "write the keys out",
                )
            )
            continue
        key = _convert(key_node, path, problems, counter, depth + 1, active)
        value = _convert(value_node, path, problems, counter, depth + 1, active)
        if not key.is_scalar:
            problems.append(
                _problem(
                    path,
                    key.line,
                    key.column,
                    "a key must be plain text",
                    "lists and mappings cannot be keys",
                )
            )
            continue
        name = key.text()
        if name in seen:
            result.duplicates.append((key, seen[name]))
            continue
        seen[name] = key
        pairs.append((key, value))
    return result
