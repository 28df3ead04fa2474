"""Wall-clock times that do not exist, or exist twice, where a series meets.

When clocks go forward, the local times of the skipped hour do not exist (a gap); when they go
back, the local times of the repeated hour exist twice (an overlap). RFC 5545 §3.3.5 says what
such a time means: in a gap, it is read with the offset from before the gap (02:30 on the day
US clocks skip from 02:00 to 03:00 is 03:30 daylight time); in an overlap it is the first of
the two. Python's ``fold=0`` reads both the same way, so the model's aware datetimes already
mean what RFC 5545 says. Parsers do not all agree (ical.js and libical take the second 01:30,
ical.js the wrong side of a gap), which is why the schedule warns about such slots and the
feed spells those instants out (see :func:`feed.ical.events`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

from .model import LAST_YEAR, Series

GAP, OVERLAP = "gap", "overlap"
_FIRST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LAST = dt.datetime(LAST_YEAR + 1, 1, 2, tzinfo=dt.UTC)
_STEP = dt.timedelta(days=7)  # no zone changes its offset twice within a week


@dataclass(frozen=True)
class Change:
    """One change of a zone's offset, as wall-clock times: in a gap the local times in
    [start, end) do not exist; in an overlap they happen twice (first before ``at``)."""

    kind: str
    start: dt.datetime  # naive local
    end: dt.datetime  # naive local
    at: dt.datetime  # the instant of the change, UTC


def kind(zone: zoneinfo.ZoneInfo, local: dt.datetime) -> str | None:
    """GAP when the naive local time does not exist in zone, OVERLAP when it exists twice."""
    first = local.replace(tzinfo=zone, fold=0).utcoffset()
    second = local.replace(tzinfo=zone, fold=1).utcoffset()
    if first == second:
        return None
    return GAP if first < second else OVERLAP


def meant(zone: zoneinfo.ZoneInfo, local: dt.datetime) -> dt.datetime:
    """The instant a naive local time means (RFC 5545), as an aware time that exists."""
    return local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC).astimezone(zone)


def change_at(zone: zoneinfo.ZoneInfo, local: dt.datetime) -> Change | None:
    """The change whose gap or overlap holds the naive local time, if any."""
    if kind(zone, local) is None:
        return None
    return next((c for c in changes(zone.key) if c.start <= local < c.end), None)


@cache
def changes(zone_name: str) -> tuple[Change, ...]:
    """Every change of the zone's offset from 1970 to the last year a schedule may name.

    zoneinfo does not list its transitions, so they are found by sampling the offset a week
    apart and bisecting each difference to the second; computed once per zone."""
    zone = zoneinfo.ZoneInfo(zone_name)
    return tuple(_scan(zone, _FIRST, _LAST))


def _scan(zone: zoneinfo.ZoneInfo, first: dt.datetime, last: dt.datetime) -> list[Change]:
    found = []
    moment, offset = first, first.astimezone(zone).utcoffset()
    while moment < last:
        following = moment + _STEP
        new = following.astimezone(zone).utcoffset()
        if new != offset:
            low, high = moment, following  # offset(low) == offset, offset(high) == new
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            at = high.replace(microsecond=0)
            before, after = (at + offset).replace(tzinfo=None), (at + new).replace(tzinfo=None)
            if new > offset:
                found.append(Change(GAP, before, after, at))
            else:
                found.append(Change(OVERLAP, after, before, at))
            offset = new
        moment = following
    return found


def weekly_slots(series: Series) -> tuple[tuple[dt.date, Change], ...]:
    """The regular slots of a weekly series that fall into a gap or an overlap, with the
    change, from ``starts`` to ``ends`` (or the last year a schedule may name)."""
    if not series.weekly or series.starts is None or series.at is None:
        return ()
    last = series.ends or dt.date(LAST_YEAR, 12, 31)
    found = []
    for change in changes(series.timezone):
        day = change.start.date()
        while dt.datetime.combine(day, dt.time()) < change.end:
            slot = dt.datetime.combine(day, series.at)
            if (
                day.weekday() == series.weekday
                and series.starts <= day <= last
                and change.start <= slot < change.end
            ):
                found.append((day, change))
            day += dt.timedelta(days=1)
    return tuple(found)


def crossing_slots(series: Series) -> tuple[dt.date, ...]:
    """The regular slots of a weekly series that parsers may place wrongly: those starting in
    a gap or an overlap, and those whose end, found the way ical.js and recurring-ical-events
    find it (the session's length added to its wall-clock start), is not its real end: in a
    gap, in an overlap, or across a change."""
    if not series.weekly or series.starts is None or series.at is None:
        return ()
    last = series.ends or dt.date(LAST_YEAR, 12, 31)
    found = set()
    zone = series.zone
    for change in changes(series.timezone):
        day = change.start.date() - dt.timedelta(days=1)
        while day <= change.end.date():
            if day.weekday() == series.weekday and series.starts <= day <= last:
                slot = dt.datetime.combine(day, series.at)
                wall_end = slot + series.duration
                end = slot.replace(tzinfo=zone).astimezone(dt.UTC) + series.duration
                if (
                    kind(zone, slot) is not None
                    or kind(zone, wall_end) is not None
                    or wall_end.replace(tzinfo=zone).astimezone(dt.UTC) != end
                ):
                    found.add(day)
            day += dt.timedelta(days=1)
    return tuple(sorted(found))
