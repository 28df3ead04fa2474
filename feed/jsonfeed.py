"""Render occurrences as JSON for scripts and widgets: pure functions from occurrences to bytes.

Keys are sorted and nothing depends on the clock, so the same input gives the same bytes (and
the same ETag). Links are absolute, built from the public base URL the caller passes in.
"""

from __future__ import annotations

import datetime as dt
import json

from .occurrences import Occurrence
from .schedule import SESSION_DETAILS, AgendaItem, Schedule


def dumps(data) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8 text as is, one trailing newline."""
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()


def session_path(occurrence: Occurrence) -> str:
    """The path of one session's own .ics: /sessions/<series>/<date of the regular slot>.ics."""
    return f"/sessions/{occurrence.key}.ics"


def session(schedule: Schedule, occurrence: Occurrence, base: str) -> dict:
    """One occurrence as a JSON object; ``base`` is the public URL without a trailing slash."""
    entry = occurrence.session
    names = schedule.tag_names
    return {
        "key": occurrence.key,
        "series": {"id": occurrence.series.id, "title": occurrence.series.title},
        "date": occurrence.date.isoformat(),
        "all_day": occurrence.all_day,
        "start": instant(occurrence.start),
        # All-day events: the last day, inclusive (iCalendar's exclusive DTEND is the day after).
        "end": instant(
            occurrence.end - dt.timedelta(days=1) if occurrence.all_day else occurrence.end
        ),
        "timezone": occurrence.series.timezone,
        "title": occurrence.title,
        "topic": occurrence.topic,
        "agenda": agenda(entry.agenda) if entry else [],
        "notes": list(entry.notes) if entry else [],
        # One key per session detail (speaker, url, recording, ...), null when not given.
        **{d.name: getattr(entry, d.name) if entry else None for d in SESSION_DETAILS},
        "tags": [{"id": t, "name": names.get(t, t)} for t in occurrence.tags],
        "status": "cancelled" if occurrence.cancelled else "confirmed",
        "cancelled_reason": entry.reason if occurrence.cancelled else None,
        "moved": occurrence.moved,
        "regular_date": occurrence.slot.date().isoformat() if occurrence.slot else None,
        "join": None if occurrence.cancelled else occurrence.join,
        "ics": base + session_path(occurrence),
    }


def instant(value: dt.datetime | dt.date) -> dict:
    """A start or end: UTC and the series' local time with its offset, or a plain date.

    The local time is the instant's own wall-clock time: a session written at 02:30 on the day
    clocks skip from 02:00 to 03:00 is the instant RFC 5545 means, 03:30 daylight time, not a
    02:30 that no clock showed."""
    if not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    utc = value.astimezone(dt.UTC)
    return {
        "utc": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local": utc.astimezone(value.tzinfo).isoformat(timespec="seconds"),
    }


def agenda(items: tuple[AgendaItem, ...]) -> list[dict]:
    return [{"text": i.text, "items": agenda(i.children)} for i in items]


def render(
    schedule: Schedule,
    found: list[Occurrence],
    base: str,
    query: dict,
    limit: int,
) -> bytes:
    """The /sessions.json document: the query as understood, then at most ``limit`` sessions."""
    shown = found[:limit]
    return dumps(
        {
            "calendar": {
                "name": schedule.name,
                "description": schedule.description,
                "timezone": schedule.timezone,
                "feed": base + "/calendar.ics",
                "page": base + "/",
            },
            "query": {**query, "limit": limit},
            "count": len(shown),
            "truncated": len(found) > limit,
            "sessions": [session(schedule, o, base) for o in shown],
        }
    )


def render_one(schedule: Schedule, occurrence: Occurrence, base: str) -> bytes:
    """One session (e.g. /next.json), the same object as in /sessions.json."""
    return dumps(session(schedule, occurrence, base))
