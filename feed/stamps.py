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
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

FORMAT = 2  # 1: the same without "series"
REMOVED = ""  # the digest of an event that is no longer in the feed


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
            "modified": s.modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "digest": s.digest,
        }
        for key, s in sorted(stamps.items())
    }
    return json.dumps({"format": FORMAT, "events": events}, indent=1, ensure_ascii=False) + "\n"


def loads(text: str) -> dict[str, Stamp]:
    """Read a stamps file; raise ValueError with a reason when it is damaged."""
    try:
        data = json.loads(text)
        if data.get("format") not in (1, FORMAT):
            raise ValueError(f"unknown stamps format {data.get('format')!r}")
        return {
            key: Stamp(
                int(v["sequence"]),
                dt.datetime.strptime(v["modified"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC),
                str(v["digest"]),
                None if v.get("series") is None else str(v["series"]),
            )
            for key, v in data["events"].items()
        }
    except (AttributeError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"damaged stamps file: {exc}") from exc
