"""Edits of schedule.yaml made for the organizer: add, cancel, move, restore and remove a session.

An edit works on the text, not on a re-dumped document: it finds the one entry it is about by
the positions the YAML reader keeps, and replaces, inserts or deletes only that entry's lines.
Every comment and every other line stays byte for byte as it was. The entry goes under the
series whose weekly slot falls on the date, in date order. The result is validated before it
is returned: an edit never produces a file that ``feed check`` refuses.

Pure: text in, text out; the CLI reads and writes the file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from . import occurrences
from .schedule import WEEKDAYS, Schedule, Series, check
from .schedule.fields import SESSION
from .schedule.yamlread import Value, plain, read

# A scalar that reads back as the same text without quotes: no YAML indicator at its start, no
# ": " or " #" inside, not a word the reader takes as empty or as yes/no.
_PLAIN = re.compile(r"^[A-Za-z0-9(][^:#\n\r\t\\\"']*$")
_SPECIAL = {"", "~", "null", "yes", "no", "true", "false", "on", "off", "y", "n"}
STEP = 2  # spaces per level of a new entry


DELETE = object()  # in a change: remove the key
SET_ASIDE = object()  # in a change: turn the key's lines into "#~ " comments, for a later restore
ASIDE = "#~ "
# What a cancelled session cannot carry (declared with the session's fields).
CANCELLED_DROPS = tuple(f.name for f in SESSION if f.not_when_cancelled)


class EditError(ValueError):
    """The edit cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class Edit:
    """The new text of the schedule, and what was done (for the organizer)."""

    text: str
    series: str
    date: dt.date
    done: str
    warnings: tuple[str, ...] = ()  # what `feed check` warns about after the edit, not before


def add(
    text: str, day: dt.date, fields: dict, series: str | None = None, path: str = "schedule.yaml"
) -> Edit:
    """A new entry for day: ``fields`` are session keys (topic, agenda, notes, speaker ...)."""
    doc = _Document(text, path)
    target = doc.series_for(day, series)
    if doc.entry(target, day) is not None:
        raise EditError(
            f"{target.id} already has an entry for {day} (line "
            f"{doc.entry(target, day)[0].line}); edit it, or `feed remove {day}` first"
        )
    fields = {k: v for k, v in fields.items() if v not in (None, (), [], "")}
    if not fields:
        raise EditError("nothing to add: give at least --topic")
    return doc.finish(doc.insert(target, day, fields), target, day, "added")


def cancel(
    text: str,
    day: dt.date,
    reason: str | None = None,
    series: str | None = None,
    path: str = "schedule.yaml",
) -> Edit:
    """Cancel the session on day: ``cancelled: <reason>`` (or ``yes``). What a cancelled week
    cannot show (its topic, agenda, speaker, links, move) is set aside as ``#~`` comments in
    the entry, so ``restore`` brings it back; its notes and tags stay."""
    changes = {name: SET_ASIDE for name in CANCELLED_DROPS}
    changes["cancelled"] = reason or True
    return _change(text, path, day, series, changes, "cancelled")


def move(
    text: str, day: dt.date, to: str, series: str | None = None, path: str = "schedule.yaml"
) -> Edit:
    """Move the session of the regular slot ``day`` to ``to``: "YYYY-MM-DD HH:MM", a date or
    "HH:MM"."""
    doc = _Document(text, path)
    target = doc.series_for(day, series)
    if not target.weekly:
        raise EditError(
            f"{target.id} is a list of one-off events: change the event's date instead of moving it"
        )
    session = target.session(day)
    if session is not None and session.cancelled:
        raise EditError(f"{day} is cancelled: `feed restore {day}` first, then move it")
    return doc.finish(doc.change(target, day, {"moved": to}), target, day, f"moved to {to}")


def restore(
    text: str, day: dt.date, series: str | None = None, path: str = "schedule.yaml"
) -> Edit:
    """Undo a cancellation or a move: the session takes place at its regular slot again."""
    doc = _Document(text, path)
    target = doc.series_for(day, series)
    session = target.session(day)
    if session is None or not (session.cancelled or session.moved_to):
        raise EditError(f"{target.id} on {day} is neither cancelled nor moved: nothing to restore")
    key, _ = doc.entry(target, day)
    aside = _aside_lines(doc.lines, key)
    if not (session.topic or session.agenda or session.notes or aside):
        # Nothing left to say about the week: it goes back to a plain slot.
        return doc.finish(doc.delete(target, day), target, day, "restored")
    if not aside:
        lines = doc.change(target, day, {"cancelled": DELETE, "moved": DELETE})
        return doc.finish(lines, target, day, "restored")
    # What `cancel` set aside comes back, and the keys that replaced it go.
    lines = list(doc.lines)
    for index in aside:
        lines[index] = lines[index].replace(ASIDE, "", 1)
    for start, stop in sorted(doc.key_lines(target, day, ("cancelled", "moved")), reverse=True):
        del lines[start:stop]
    return doc.finish(lines, target, day, "restored")


def remove(text: str, day: dt.date, series: str | None = None, path: str = "schedule.yaml") -> Edit:
    """Delete the entry of day (the undo of ``add``): the week goes back to a plain slot."""
    doc = _Document(text, path)
    target = doc.series_for(day, series)
    if doc.entry(target, day) is None:
        raise EditError(f"{target.id} has no entry for {day}: nothing to remove")
    return doc.finish(doc.delete(target, day), target, day, "removed")


def _change(text, path, day, series, changes, verb) -> Edit:
    doc = _Document(text, path)
    target = doc.series_for(day, series)
    return doc.finish(doc.change(target, day, changes), target, day, verb)


def _entry_data(node: Value) -> dict:
    """An entry as a mapping of plain values: the shorthand ``date: Topic`` is
    ``{topic: Topic}``, and an unquoted ``cancelled: yes`` stays a flag, not the reason "yes"."""
    if not node.is_map:
        return {} if node.data is None else {"topic": node.data}
    data = {}
    for key, value in node.data:
        data[key.text()] = plain(value)
        flag = value.is_scalar and not value.quoted and str(value.data or "yes").lower()
        if key.text() == "cancelled" and flag in ("yes", "true", "on", "y"):
            data["cancelled"] = True
    return data


class _Document:
    """A valid schedule's text with the positions of its series and sessions."""

    def __init__(self, text: str, path: str):
        report = check(text, path)
        if not report.ok:
            first = "\n".join(str(p) for p in report.errors[:5])
            raise EditError(f"{path} has problems; fix them first (feed check):\n{first}")
        self.path = path
        self.schedule: Schedule = report.schedule
        self.warnings = {_unplaced(p) for p in report.warnings}
        self.lines = text.splitlines(keepends=True)
        self.newline = "\r\n" if text.endswith("\r\n") else "\n"
        tree, _ = read(text, path)
        self.series_nodes = {k.text(): v for k, v in _pairs(_pairs_get(tree, "series"))}

    # -- finding ------------------------------------------------------------------------

    def series_for(self, day: dt.date, wanted: str | None) -> Series:
        if wanted is not None:
            found = self.schedule.get(wanted)
            if found is None:
                known = ", ".join(s.id for s in self.schedule.series)
                raise EditError(f"no series {wanted!r}; known series: {known}")
            if found.weekly and occurrences.on(found, day) is None:
                day_name = WEEKDAYS[found.weekday].title()
                raise EditError(
                    f"{found.id} meets on {day_name}s from {found.starts}: "
                    f"{day} is not one of its slots"
                )
            return found
        weekly = [s for s in self.schedule.series if s.weekly and occurrences.on(s, day)]
        if len(weekly) == 1:
            return weekly[0]
        if weekly:
            names = ", ".join(s.id for s in weekly)
            raise EditError(f"{day} is a slot of several series ({names}); pick one with --series")
        one_off = [s.id for s in self.schedule.series if not s.weekly]
        hint = f"; for a one-off event, name its series: --series {one_off[0]}" if one_off else ""
        raise EditError(f"no weekly series meets on {day:%A} {day}{hint}")

    def entry(self, series: Series, day: dt.date) -> tuple[Value, Value] | None:
        """The (key, value) of the entry for day, as written in the file."""
        for key, value in self._sessions(series):
            if key.text().strip() == day.isoformat():
                return key, value
        return None

    def _sessions(self, series: Series) -> list[tuple[Value, Value]]:
        node = _pairs_get(self.series_nodes.get(series.id), "sessions")
        if node is not None and node.is_map and _is_flow(self.lines, node):
            raise EditError(
                f"the sessions of {series.id} are written in one {{...}} mapping; "
                "put one date per line to let feed edit them"
            )
        return _pairs(node)

    # -- changing -----------------------------------------------------------------------

    def insert(self, series: Series, day: dt.date, value: dict) -> list[str]:
        """New lines for day's entry, in date order among the series' sessions."""
        entries = self._sessions(series)
        series_node = self.series_nodes[series.id]
        if not entries:
            if _pairs_get(series_node, "sessions") is not None:
                raise EditError(f"the sessions of {series.id} are empty in an unusual way")
            indent = series_node.data[0][0].column - 1
            at = self._end_of(series_node.data[-1][0], series_node.data[-1][1], indent)
            lines = [f"{' ' * indent}sessions:{self.newline}"]
            lines += self._entry_lines(indent + STEP, day, value)
            return self.lines[:at] + lines + self.lines[at:]
        indent = entries[0][0].column - 1
        later = [(k, v) for k, v in entries if _date_of(k) and _date_of(k) > day]
        if later:
            at = _comments_above(self.lines, later[0][0].line - 1, indent)
        else:
            at = self._end_of(*entries[-1], indent)
            # Comments right after the last entry, at its indentation, speak of the weeks
            # that follow it: the new entry goes after them.
            while at < len(self.lines) and _is_comment(self.lines[at]):
                if _indent(self.lines[at]) != indent:
                    break
                at += 1
        return self.lines[:at] + self._entry_lines(indent, day, value) + self.lines[at:]

    def change(self, series: Series, day: dt.date, changes: dict) -> list[str]:
        """Set or delete (``DELETE``) keys of day's entry. In a block mapping only the lines of
        the keys concerned change; an entry written on one line is written anew."""
        found = self.entry(series, day)
        if found is None:
            new = {k: v for k, v in changes.items() if v is not DELETE and v is not SET_ASIDE}
            return self.insert(series, day, new) if new else self.lines
        key, node = found
        if not node.is_map or _is_flow(self.lines, node):
            data, aside = _entry_data(node), {}
            for name, value in changes.items():
                if value is SET_ASIDE and name in data:
                    aside[name] = data.pop(name)
                elif value is DELETE or value is SET_ASIDE:
                    data.pop(name, None)
                else:
                    data[name] = value
            return self._rewrite(key, node, data, aside)
        lines = list(self.lines)
        names = {k.text(): (k, v) for k, v in node.data}
        indent = node.data[0][0].column - 1
        end = self._end_of(key, node, key.column - 1)
        edits = []  # (start, end, new lines), applied from the bottom up
        for name, value in changes.items():
            if name in names:
                start = names[name][0].line - 1
                stop = self._end_of(*names[name], indent)
                if value is DELETE:
                    new = []
                elif value is SET_ASIDE:
                    new = [_set_aside(line, indent) for line in lines[start:stop]]
                else:
                    new = _block(name, value, indent, self.newline)
                edits.append((start, stop, new))
            elif value is not DELETE and value is not SET_ASIDE:
                edits.append((end, end, _block(name, value, indent, self.newline)))
        gone = {n for n, v in changes.items() if v is DELETE or v is SET_ASIDE}
        if set(names) <= gone and all(v is DELETE for v in changes.values()):
            return self.delete(series, day)
        for start, stop, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            lines[start:stop] = new
        return lines

    def key_lines(self, series: Series, day: dt.date, names) -> list[tuple[int, int]]:
        """Where the given keys of day's entry (a block mapping) are: (start, stop) indexes."""
        _, node = self.entry(series, day)
        indent = node.data[0][0].column - 1
        return [(k.line - 1, self._end_of(k, v, indent)) for k, v in node.data if k.text() in names]

    def _rewrite(self, key: Value, node: Value, data: dict, aside: dict) -> list[str]:
        """Write an entry anew (its comments kept above it, what is set aside as ``#~`` lines
        inside it); no keys left: delete it."""
        indent = key.column - 1
        start, end = key.line - 1, self._end_of(key, node, indent)
        kept = [line for line in self.lines[start:end] if _is_comment(line)]
        new = []
        if data:
            new = self._entry_lines(indent, _date_of(key), data, force_block=bool(aside))
            set_aside = []
            for name, value in aside.items():
                set_aside += _block(name, value, indent + STEP, self.newline)
            new[1:1] = [_set_aside(line, indent + STEP) for line in set_aside]
        return self.lines[:start] + kept + new + self.lines[end:]

    def delete(self, series: Series, day: dt.date) -> list[str]:
        key, node = self.entry(series, day)
        start, end = key.line - 1, self._end_of(key, node, key.column - 1)
        kept = [line for line in self.lines[start:end] if _is_comment(line)]
        return self.lines[:start] + kept + self.lines[end:]

    def finish(self, lines: list[str], series: Series, day: dt.date, verb: str) -> Edit:
        text = "".join(lines)
        report = check(text, self.path)
        if not report.ok:
            problems = "\n".join(str(p) for p in report.errors[:5])
            raise EditError(f"the schedule would not be valid after this edit:\n{problems}")
        new = tuple(str(p) for p in report.warnings if _unplaced(p) not in self.warnings)
        return Edit(text, series.id, day, f"{series.id}: {day} {verb}", new)

    def _end_of(self, key: Value, node: Value, indent: int) -> int:
        """The index of the line after an entry's last line of content: the entry runs until
        the next line indented no deeper than its key (comments and blank lines at its end
        belong to what follows)."""
        last = key.line - 1
        for index in range(key.line, len(self.lines)):
            line = self.lines[index]
            if not line.strip() or _is_comment(line):
                continue
            if _indent(line) <= indent:
                break
            last = index
        return last + 1

    def _entry_lines(
        self, indent: int, day: dt.date, value: dict, force_block: bool = False
    ) -> list[str]:
        pad, step, nl = " " * indent, STEP, self.newline
        if set(value) == {"topic"} and isinstance(value["topic"], str) and not force_block:
            return [f"{pad}{day}: {_scalar(value['topic'])}{nl}"]
        lines = [f"{pad}{day}:{nl}"]
        for name, item in value.items():
            lines += _block(name, item, indent + step, nl)
        return lines


def _unplaced(problem) -> tuple[str, str]:
    """A warning without the line numbers it holds: lines move with an edit, and a warning
    that was there before is not the edit's doing."""
    return problem.key, re.sub(r"line \d+", "line", problem.message)


def _block(name: str, item, indent: int, nl: str) -> list[str]:
    """One key of an entry, at indent: a scalar on its line, a list as a block below it."""
    pad = " " * indent
    if isinstance(item, (list, tuple)):
        return [f"{pad}{name}:{nl}", *_sequence(item, indent + STEP, nl)]
    if item is True:  # a flag: `cancelled: yes` (quoted, "yes" would be a reason)
        return [f"{pad}{name}: yes{nl}"]
    text = _scalar(item, time=name in ("moved", "at"))
    return [f"{pad}{name}: {text}{nl}"]


def _sequence(items, indent: int, nl: str) -> list[str]:
    """A block sequence; a nested list (an agenda item's sub-items) as ``- - a`` lines."""
    pad, lines = " " * indent, []
    for item in items:
        if isinstance(item, (list, tuple)):
            inner = _sequence(item, indent + 2, nl)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines += inner[1:]
        else:
            lines.append(f"{pad}- {_scalar(item)}{nl}")
    return lines


def _scalar(text, time: bool = False) -> str:
    """Text written so the reader reads it back as the same text."""
    text = str(text)
    if not time and _PLAIN.match(text) and text.lower() not in _SPECIAL and text == text.strip():
        return text
    return json.dumps(text, ensure_ascii=False)


def _pairs(node: Value | None) -> list[tuple[Value, Value]]:
    return list(node.data) if node is not None and node.is_map else []


def _pairs_get(node: Value | None, name: str) -> Value | None:
    return next((v for k, v in _pairs(node) if k.text() == name), None)


def _date_of(key: Value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(key.text().strip())
    except ValueError:
        return None


def _set_aside(line: str, indent: int) -> str:
    """A line of a key set aside: commented out at the key's indentation."""
    if not line.strip():
        return line
    return line[:indent] + ASIDE + line[indent:]


def _aside_lines(lines: list[str], key: Value) -> list[int]:
    """The indexes of the ``#~`` lines inside the entry whose key is ``key``."""
    found, indent = [], key.column - 1
    for index in range(key.line, len(lines)):
        line = lines[index]
        if line.lstrip().startswith(ASIDE) and _indent(line) > indent:
            found.append(index)
        elif line.strip() and not _is_comment(line) and _indent(line) <= indent:
            break
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _is_flow(lines: list[str], node: Value) -> bool:
    return lines[node.line - 1][node.column - 1 :].lstrip().startswith("{")


def _comments_above(lines: list[str], index: int, indent: int) -> int:
    """Where to insert before the entry on line index: above the comments that lead into it
    (comments directly above a key, at its indentation, are about that key)."""
    while index > 0:
        above = lines[index - 1]
        if not _is_comment(above) or _indent(above) != indent:
            break
        index -= 1
    return index
