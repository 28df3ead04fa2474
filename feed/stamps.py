"""SEQUENCE and LAST-MODIFIED for each event, remembered between versions of the schedule.

Calendar clients apply an edit only when the event's SEQUENCE goes up (and its LAST-MODIFIED
moves). The feed itself must stay byte-identical while nothing changes, so these values cannot
come from the clock at render time. Instead we remember, per event (UID plus RECURRENCE-ID),
the series it belongs to, a digest of its content, its SEQUENCE and the time of its last
change. When a new schedule version is loaded, every event whose digest changed gets
SEQUENCE + 1 and the time of the edit; the others keep their stamp. An event that disappears
keeps its entry, marked removed and dated by the edit (so the feed's Last-Modified moves), and
one that comes back later goes on from its old SEQUENCE, never lower.

The stamps live in a small JSON file beside schedule.yaml (``schedule.stamps.json``), written
atomically by the edges (``feed stamp``, or the app when the file is writable). This module is
pure: it takes the previous stamps and the time of the edit and returns new stamps.

Reading a stamps file never fails and never invents: :func:`read` keeps every entry it can
parse (even from a truncated file), drops the others, and repairs values out of range (a
SEQUENCE below 0, a LAST-MODIFIED in the future beyond :data:`CLOCK_SKEW`) from the published
stamps when there are any. What it found wrong comes back as :class:`Damage`, sentences
without the file's contents, for the log and ``/healthz``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

FORMAT = 2  # 1: the same without "series"
REMOVED = ""  # the digest of an event that is no longer in the feed
# RFC 5545 INTEGER is 32-bit signed; clients store SEQUENCE in one.
MAX_SEQUENCE = 2**31 - 1
# A LAST-MODIFIED this far ahead of the reading clock is a clock error, not an edit.
CLOCK_SKEW = dt.timedelta(minutes=5)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Content:
    """What an event is now: the series it belongs to (None: the whole calendar) and a digest
    of its bytes."""

    series: str | None
    digest: str


@dataclass(frozen=True)
class Stamp:
    sequence: int
    modified: dt.datetime  # UTC
    digest: str
    # The series the event belongs to; None for what concerns the whole calendar, and for an
    # event removed before the stamps file recorded series (it then counts for every feed).
    series: str | None = None


def restamp(
    previous: Mapping[str, Stamp], current: Mapping[str, Content], edited: dt.datetime
) -> dict[str, Stamp]:
    """Stamps for the current events: unchanged ones keep theirs, changed ones go up by one.

    ``edited`` is the time of the edit (UTC); a stamp's time never goes backwards, even when
    the clock that measured ``edited`` is behind the one that wrote ``previous``.
    """
    edited = edited.astimezone(dt.UTC).replace(microsecond=0)
    result = dict(previous)
    for key, content in current.items():
        old = previous.get(key)
        if old is None:
            result[key] = Stamp(0, edited, content.digest, content.series)
        elif old.digest != content.digest:
            modified = max(edited, old.modified)
            result[key] = Stamp(old.sequence + 1, modified, content.digest, content.series)
        elif old.series != content.series:  # a stamp from a file that did not record series
            result[key] = Stamp(old.sequence, old.modified, old.digest, content.series)
    for key, old in previous.items():
        if key not in current and old.digest != REMOVED:
            # Removing an event changes the feed too: its Last-Modified must move, or a client
            # revalidating with If-Modified-Since alone would keep the removed event.
            modified = max(edited, old.modified)
            result[key] = Stamp(old.sequence, modified, REMOVED, old.series)
    return result


def dumps(stamps: Mapping[str, Stamp]) -> str:
    """The stamps file's text: sorted and stable, so it diffs well in version control."""
    events = {
        key: {
            "series": s.series,
            "sequence": s.sequence,
            "modified": s.modified.strftime(TIME_FORMAT),
            "digest": s.digest,
        }
        for key, s in sorted(stamps.items())
    }
    return json.dumps({"format": FORMAT, "events": events}, indent=1, ensure_ascii=False) + "\n"


def loads(text: str) -> dict[str, Stamp]:
    """Read a stamps file strictly; raise ValueError with a reason when it is damaged."""
    found, damage = _parse(text)
    if damage:
        raise ValueError(f"damaged stamps file: {damage[0].reason}")
    return found


@dataclass(frozen=True)
class Damage:
    """Something wrong with a stamps file: what (no contents of the file) and what to do."""

    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.reason} ({self.fix})"


RESTORE = "restore it from version control, or run `feed stamp` where it is writable"


def read(
    text: str,
    now: dt.datetime,
    published: Mapping[str, Stamp] | None = None,
) -> tuple[dict[str, Stamp], list[Damage]]:
    """Every stamp that can be recovered from a stamps file's text, range-checked.

    ``published`` are the stamps already served (the floor): a repaired value is taken from
    there when it has the event, so a repair never lowers a published SEQUENCE. Never raises.
    """
    found, damage = _parse(text)
    repaired, more = _check_ranges(found, now, published or {})
    return repaired, damage + more


def _parse(text: str) -> tuple[dict[str, Stamp], list[Damage]]:
    if not text.strip():
        return {}, [Damage("the stamps file is empty", RESTORE)]
    damage = []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        entries = _salvage(text)
        damage.append(
            Damage(
                f"the stamps file is not valid JSON ({exc.msg} at line {exc.lineno}); "
                f"{len(entries)} entries were recovered",
                RESTORE,
            )
        )
        data = {"format": FORMAT, "events": entries}
    if not isinstance(data, dict) or data.get("format") not in (1, FORMAT):
        return {}, [Damage("the stamps file has an unknown format", RESTORE)]
    events = data.get("events")
    if not isinstance(events, dict):
        return {}, [Damage("the stamps file has no events", RESTORE)]
    found = {}
    unreadable = 0
    for key, value in events.items():
        stamp = _entry(value)
        if stamp is None:
            unreadable += 1
        else:
            found[key] = stamp
    if unreadable:
        damage.append(Damage(f"{unreadable} entries of the stamps file are unreadable", RESTORE))
    return found, damage


def _entry(value) -> Stamp | None:
    """One entry, or None when a field is missing or has the wrong type."""
    if not isinstance(value, dict):
        return None
    sequence, modified = value.get("sequence"), value.get("modified")
    digest, series = value.get("digest"), value.get("series")
    if type(sequence) is not int or not isinstance(modified, str) or not isinstance(digest, str):
        return None
    if series is not None and not isinstance(series, str):
        return None
    try:
        when = dt.datetime.strptime(modified, TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return Stamp(sequence, when, digest, series)


def _salvage(text: str) -> dict:
    """The entries of a damaged file's "events" object that parse, in order, up to the first
    that does not (a file cut short by a full disk or a crash keeps everything before it)."""
    decoder = json.JSONDecoder()
    start = text.find('"events"')
    start = text.find("{", start) if start >= 0 else -1
    found: dict = {}
    if start < 0:
        return found
    at = start + 1
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            key, at = decoder.raw_decode(text, at)
            while at < len(text) and text[at] in " \t\r\n":
                at += 1
            if not isinstance(key, str) or text[at : at + 1] != ":":
                return found
            value, at = decoder.raw_decode(text, _skip_space(text, at + 1))
        except (json.JSONDecodeError, IndexError):
            return found
        found[key] = value


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _check_ranges(
    found: dict[str, Stamp], now: dt.datetime, published: Mapping[str, Stamp]
) -> tuple[dict[str, Stamp], list[Damage]]:
    """Repair SEQUENCE outside 0..MAX_SEQUENCE and LAST-MODIFIED in the future: from the
    published stamp when there is one, else clamped (SEQUENCE) or dated now (LAST-MODIFIED)."""
    latest = now.astimezone(dt.UTC).replace(microsecond=0) + CLOCK_SKEW
    bad_sequence = bad_time = 0
    result = {}
    for key, stamp in found.items():
        sequence_ok = 0 <= stamp.sequence <= MAX_SEQUENCE
        time_ok = stamp.modified <= latest
        bad_sequence += not sequence_ok
        bad_time += not time_ok
        if sequence_ok and time_ok:
            result[key] = stamp
        elif key in published:
            result[key] = published[key]
        else:
            sequence = min(max(stamp.sequence, 0), MAX_SEQUENCE)
            modified = stamp.modified if time_ok else latest - CLOCK_SKEW
            result[key] = Stamp(sequence, modified, stamp.digest, stamp.series)
    damage = []
    if bad_sequence:
        damage.append(
            Damage(
                f"{bad_sequence} entries of the stamps file have a SEQUENCE outside "
                f"0..{MAX_SEQUENCE}; repaired without lowering a published SEQUENCE",
                "do not edit schedule.stamps.json by hand; run `feed stamp`",
            )
        )
    if bad_time:
        damage.append(
            Damage(
                f"{bad_time} entries of the stamps file have a LAST-MODIFIED more than "
                f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future; repaired "
                "without lowering a published SEQUENCE",
                "check the clock of the machine that ran `feed stamp`",
            )
        )
    return result, damage
