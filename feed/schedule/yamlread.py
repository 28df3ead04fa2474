"""Safe, bounded YAML reading that keeps the line and column of every value.

PyYAML's loaders turn ``11:00`` into 660, ``no`` into False and silently keep the last of two
equal mapping keys. We only *parse* the document into events (no object construction, so no
Python tags run) and build the tree ourselves: every scalar stays the text the organizer typed,
duplicate keys are reported, and everything is bounded: the file's size, its nesting, and the
number of values it expands to, counting each alias as the whole value it repeats, so a
"billion laughs" file is refused quickly in bounded memory (aliases share one tree, never copies).
libyaml's parser is used when PyYAML has it: it is ten times faster and limits nesting itself.
(``yaml.compose()`` is not used: it turns an alias into its anchor's node and forgets where the
alias was written, and it takes a second document for a syntax error; both are reported here at
the place the organizer has to look.) For the same reason, the syntax errors an edit most often
makes, a key glued to its value (`topic:Foo`) and a line indented unlike its neighbours, are
reported on the line that holds them, often above the one where the parser gave up.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import yaml

from . import text as text_policy
from .problems import Problem

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
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


class _PyLoader(yaml.SafeLoader):
    """PyYAML's pure-Python parser, with nesting bounded as libyaml bounds it."""

    def fetch_flow_collection_start(self, token_class):
        # Without a bound, each "[" costs a scan over all open ones: quadratic time.
        if self.flow_level >= MAX_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, "exceeded maximum nesting depth", self.get_mark()
            )
        super().fetch_flow_collection_start(token_class)

    def add_indent(self, column):
        if len(self.indents) >= MAX_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, "exceeded maximum nesting depth", self.get_mark()
            )
        return super().add_indent(column)


_LOADER = getattr(yaml, "CSafeLoader", None) or _PyLoader


def read(text: str | bytes, path: str) -> tuple[Value | None, list[Problem]]:
    """Parse YAML text into a positioned tree, or report why it cannot be read."""
    too_big = f"the limit is {MAX_BYTES} bytes; split or trim the schedule"
    if isinstance(text, str):
        try:
            text = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            line, column = _line_column(text[: exc.start])
            return None, [
                _problem(
                    path,
                    line,
                    column,
                    f"the character U+{ord(text[exc.start]):04X} is not allowed",
                    "remove it; save the file as UTF-8",
                )
            ]
    if len(text) > MAX_BYTES:
        return None, [_problem(path, 1, 1, f"the file is {len(text)} bytes", too_big)]
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Counted after the byte order mark, which "utf-8-sig" leaves out; what comes before the
        # wrong byte is UTF-8, so its characters give the column.
        at = exc.start + (len(codecs.BOM_UTF8) if text.startswith(codecs.BOM_UTF8) else 0)
        line, column = _line_column(text[:at].decode("utf-8-sig"))
        return None, [
            _problem(
                path,
                line,
                column,
                f"byte {text[at]:#04x} is not UTF-8",
                "save the file as UTF-8",
            )
        ]
    problems: list[Problem] = []
    try:
        tree = _Builder(path, problems).build(yaml.parse(decoded, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        in_file = _BREAKS.split(decoded)
        if line > len(in_file):  # the end of a file without a last line break: its last line
            line, column = len(in_file), len(in_file[-1]) + 1
        if "nesting depth" in message:
            hint = f"keep nesting under {MAX_DEPTH} levels"
            return None, [_problem(path, line, column, "YAML nesting is too deep", hint)]
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        if explained := _explain(path, decoded, exc):
            return None, [explained]
        hint = "check indentation, colons and quotes on this line or the one above"
        if "mapping values are not allowed" in message:
            hint = 'put text that holds ": " in quotes, e.g. "Storage: LinStor"'
        elif "cannot start any token" in message and "\t" in decoded:
            hint = "indent with spaces; YAML does not allow tabs"
        return None, [_problem(path, line, column, f"YAML syntax error: {message}", hint)]
    except yaml.reader.ReaderError as exc:
        line, column = _position(decoded, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [
            _problem(
                path,
                line,
                column,
                f"the control character U+{char:04X} is not allowed",
                "delete it; it is invisible in most editors, so retype the line if unsure",
            )
        ]
    except yaml.YAMLError as exc:  # pragma: no cover - every parser error above is marked
        return None, [_problem(path, 1, 1, f"YAML error: {exc}", "check the file's syntax")]
    except RecursionError:  # pragma: no cover - the loaders bound nesting first
        hint = f"keep nesting under {MAX_DEPTH} levels"
        return None, [_problem(path, 1, 1, "YAML nesting is too deep", hint)]
    except _TooBig as exc:
        return None, [_problem(path, *exc.args)]
    if tree is None:
        return None, [
            _problem(
                path, 1, 1, "the file is empty", "start with a `calendar:` and a `series:` section"
            )
        ]
    return tree, problems


# A key glued to its value, `topic:Foo`: YAML reads it as text, and that text runs on into the
# next line. Not a link (`https://`), a time ("11:00") or a comment.
_GLUED = re.compile(r"\s*(?:-\s+)?([a-z][a-z_]*):([^\s/#][^#]*?)\s*(?:\s#.*)?")
_KEY = re.compile(r"\s*(?:-\s+)?([^\s:#][^:#]*?):(?:\s|$)")  # the key a line starts with
_DATE_KEY = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")


def _explain(path: str, text: str, exc: yaml.MarkedYAMLError) -> Problem | None:
    """The syntax errors an edit most often makes, reported on the line that causes them (the
    parser may notice a line or more later), with a hint for it: a key glued to its value,
    and a line indented unlike the lines around it."""
    lines = _BREAKS.split(text)
    if exc.problem_mark is None or exc.problem_mark.line >= len(lines):
        return None
    error = exc.problem_mark.line  # 0-based
    content = [i for i in range(error) if lines[i].strip() and lines[i].lstrip()[0] != "#"]
    suspects = [content[-1]] if content else []
    if "simple key" in (exc.context or "") and exc.context_mark.line < error:
        suspects.insert(0, exc.context_mark.line)  # the text the parser took for a key
    for index in [*suspects, error]:
        if glued := _GLUED.fullmatch(lines[index]):
            name, value = glued[1], glued[2]
            return _problem(
                path,
                index + 1,
                glued.start(1) + 1,
                f"YAML syntax error: `{name}:{value}` has no space after the colon, so it is "
                "read as text, not as a key and its value",
                f"put a space after the colon: `{name}: {value}`",
            )
    found = _misindented(lines, error)
    if found is None:
        return None
    key, spaces, like = found
    indent = f"{key.column - 1} space" + ("s" if key.column != 2 else "")
    why = (
        "a line indented less than the lines above ends the list or mapping they are in"
        if key.column - 1 < spaces
        else "a line indented more than the one above is read as part of it"
    )
    return _problem(
        path,
        key.line,
        key.column,
        f"YAML syntax error: `{key.text()}` is indented {indent}, unlike the lines around it",
        f"indent it with {spaces} spaces, like line {like}; {why}",
    )


def _kind(key: str) -> bool:
    """Dates and names are keys of different mappings: sessions, and everything else."""
    return bool(_DATE_KEY.fullmatch(key.strip()))


def _misindented(lines: list[str], error: int) -> tuple[Value, int, int] | None:
    """The key indented unlike the lines around it, the spaces it needs and the line of a key
    that has them, found by reading the lines above the error (line index ``error``) on their
    own: either the last key there, which ended the mapping the error line continues, or the
    error line itself, indented between two levels. It needs the indentation of the nearest
    key of its kind: a session's date lines up with dates, a session's key with keys."""
    try:
        tree = _Builder("", []).build(yaml.parse("\n".join(lines[:error]), Loader=_LOADER))
    except (yaml.YAMLError, _TooBig, RecursionError):
        return None
    column = len(lines[error]) - len(lines[error].lstrip(" ")) + 1
    maps, node = [], tree
    while node is not None and node.is_map and node.data:
        maps.append(node)
        node = node.data[-1][1]
    found = _ended(maps, column, error + 1)
    if found is not None:
        return found
    keys = [m.data[-1][0] for m in maps]  # the last key of each mapping, deeper and deeper
    head = _KEY.match(lines[error])
    if head is None or column in {k.column for k in keys}:
        return None
    same = [k for k in keys if _kind(k.text()) == _kind(head[1])]
    if not same:
        return None
    # Indented too little, more often than too much: the nearest deeper key, else shallower.
    like = min(same, key=lambda k: (k.column < column, abs(k.column - column), -k.line))
    return Value(head[1], error + 1, column), like.column - 1, like.line


def _ended(maps: list[Value], column: int, line: int) -> tuple[Value, int, int] | None:
    """The last key of the mappings ``maps`` (the last mapping of each, deeper and deeper)
    when it ended a mapping that ``line``, indented to ``column``, continues: it is indented
    less than that line, it holds nothing indented as deep, and the entry before it held a
    mapping with keys at that column (or a key with nothing after it, such as `sessions:`)."""
    outer = next((m for m in reversed(maps) if m.data[-1][0].column < column), None)
    if outer is None or len(outer.data) < 2:
        return None
    key, value = outer.data[-1]
    if not value.is_scalar and value.column <= column:
        return None  # what it holds reaches the error line's column: the key is not the cause
    chain, node = [outer.data[-2]], outer.data[-2][1]
    while node.is_map and node.data:
        chain.append(node.data[-1])
        node = node.data[-1][1]
    last, held = chain[-1]
    empty = held.is_scalar and held.data is None and last.column < column
    if column not in {k.column for k, _ in chain[1:]} and not empty:
        return None
    same = [k for k, _ in chain[1:] if _kind(k.text()) == _kind(key.text())]
    if same:
        return key, same[-1].column - 1, same[-1].line
    if empty:  # it was meant under that key, like the error line
        return key, column - 1, line
    return None


def _position(text: str, offset) -> tuple[int, int]:
    """Line and column (1-based) of where the reader stopped: a byte offset into the UTF-8
    text for libyaml, a character offset for PyYAML's own reader."""
    if not isinstance(offset, int):
        return 1, 1
    if _LOADER is _PyLoader:
        return _line_column(text[:offset])
    return _line_column(text.encode("utf-8")[:offset].decode("utf-8", "replace"))


# The line breaks YAML counts, so every position agrees with the parser's: CR LF, CR, LF, and
# NEL, LS and PS (refused in text, but still line breaks where they are).
_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_column(before: str) -> tuple[int, int]:
    """Line and column (1-based) of the character after ``before``, the text that precedes
    it; a byte order mark takes no column."""
    breaks = list(_BREAKS.finditer(before.removeprefix("\ufeff")))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, len(before.removeprefix("\ufeff")) - start + 1


def _problem(path, line, column, message, hint=None, key=""):
    return Problem(path=path, line=line, column=column, key=key, message=message, hint=hint)


_MERGE = object()  # stands for the key of a "<<" merge entry, whose value is dropped
_NULLS = ("", "~", "null", "Null", "NULL")


class _Builder:
    """Builds the Value tree from parser events, without recursion, counting every value."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems
        self.count = 0
        self.anchors: dict[str, tuple[Value, int]] = {}
        # Open collections: [value, size so far, anchor, pending key, keys seen, refused tag].
        self.stack: list[list] = []

    def build(self, events) -> Value | None:
        root = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    mark = event.start_mark
                    self.problems.append(
                        _problem(
                            self.path,
                            mark.line + 1,
                            mark.column + 1,
                            "YAML syntax error: a second document starts here",
                            "a schedule is one document; remove the `---` line",
                        )
                    )
                    return root  # the rest belongs to a document nobody will read
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                value, size, anchor, _, _, tagged_out = self.stack.pop()
                if tagged_out:
                    value = Value(None, value.line, value.column)
                if anchor is not None:
                    self.anchors[anchor] = (value, size)
                root = self.add(value, size) or root
                continue
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                found = self.anchors.get(event.anchor)
                if found is None:
                    open_anchors = {entry[2] for entry in self.stack}
                    if event.anchor in open_anchors:
                        message = f"the alias *{event.anchor} refers to the value it is inside"
                        hint = "a value cannot contain itself; write the values out"
                    else:  # pragma: no cover - the parser reports unknown anchors first
                        message = f"the alias *{event.anchor} has no anchor &{event.anchor}"
                        hint = "define the anchor before using it"
                    raise _TooBig(mark.line + 1, mark.column + 1, message, hint)
                value, size = found
                self.counted(size, mark)
                root = self.add(value, size) or root
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            mark = event.start_mark
            line, column = mark.line + 1, mark.column + 1
            self.counted(1, mark)
            if len(self.stack) >= MAX_DEPTH:
                raise _TooBig(
                    line,
                    column,
                    f"the document nests deeper than {MAX_DEPTH} levels",
                    f"keep nesting under {MAX_DEPTH} levels",
                )
            tag = event.tag
            if tag is not None and tag != "!" and tag not in _STANDARD_TAGS:
                self.problems.append(
                    _problem(
                        self.path,
                        line,
                        column,
                        f"the tag {tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed",
                        "schedule.yaml holds plain text, lists and mappings only",
                    )
                )
                tagged_out = True
            else:
                tagged_out = False
            if isinstance(event, yaml.ScalarEvent):
                quoted = bool(event.style) and event.style in ("'", '"', "|", ">")
                data = event.value
                if data == "<<" and not quoted and tag is None and self.expects_key():
                    self.problems.append(
                        _problem(
                            self.path,
                            line,
                            column,
                            "merge keys (<<) are not supported",
                            "write the keys out",
                        )
                    )
                    self.stack[-1][3] = _MERGE
                    continue
                if not quoted and data in _NULLS or tagged_out:
                    data = None
                elif (bad := text_policy.refused(data)) is not None:
                    # Checked here, once, for every value and key: no reader sees it.
                    message, hint = text_policy.describe(bad)
                    key = self.key_path(data if self.expects_key() else None)
                    self.problems.append(_problem(self.path, line, column, message, hint, key))
                    data = text_policy.without_refused(data)
                value = Value(data, line, column, quoted=quoted)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1)
                root = self.add(value, 1) or root
                continue
            kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
            self.stack.append(
                [Value([], line, column, kind=kind), 1, event.anchor, None, {}, tagged_out]
            )
        return root

    def counted(self, size: int, mark) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise _TooBig(
                mark.line + 1,
                mark.column + 1,
                f"the document expands to more than {MAX_NODES} values",
                "YAML aliases (*name) repeat whole values, and these repeat each other; "
                "write the values out",
            )

    def key_path(self, own: str | None = None) -> str:
        """The dotted key of the value being read (``own``: the key being read), as readers
        name it: ``series.weekly.sessions.2024-01-09.topic``; list items share their list's."""
        parts = [
            entry[3].text()
            for entry in self.stack
            if entry[0].is_map and isinstance(entry[3], Value) and entry[3].is_scalar
        ]
        return ".".join([*parts, own] if own is not None else parts)

    def expects_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and top[0].is_map and top[3] is None

    def add(self, value: Value, size: int) -> Value | None:
        """Attach a finished value to the open collection; return it when it is the root."""
        if not self.stack:
            return value
        top = self.stack[-1]
        parent = top[0]
        top[1] += size
        if parent.is_seq:
            parent.data.append(value)
            return None
        if top[3] is None:
            top[3] = value
            return None
        key, top[3] = top[3], None
        if key is _MERGE:
            return None
        if not key.is_scalar:
            self.problems.append(
                _problem(
                    self.path,
                    key.line,
                    key.column,
                    "a key must be plain text",
                    "lists and mappings cannot be keys",
                )
            )
            return None
        name = key.text()
        seen = top[4]
        if name in seen:
            parent.duplicates.append((key, seen[name]))
            return None
        seen[name] = key
        parent.data.append((key, value))
        return None


def plain(value: Value | None):
    """The tree as plain Python, every scalar the text the organizer typed (None when empty).

    Mappings become dicts, sequences lists. For tools that want the document as data (e.g. a
    JSON Schema validator): unlike ``yaml.safe_load``, ``2024-01-09`` stays a string and ``11:00``
    is not the number 660. An alias repeats its value.
    """
    if value is None:
        return None
    if value.is_map:
        return {k.text(): plain(v) for k, v in value.data}
    if value.is_seq:
        return [plain(v) for v in value.data]
    return value.data
