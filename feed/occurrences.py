"""Expand a schedule into concrete, dated occurrences.

This is what the feed, the page, ``/sessions.json`` and ``feed diff`` reason about: one
:class:`Occurrence` per session that takes place (or would have, when cancelled).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .schedule import Schedule, Series, Session

WEEK = dt.timedelta(days=7)
MAX_MOVE = dt.timedelta(days=181)


@dataclass(frozen=True)
class Occurrence:
    """One dated session of a series.

    ``slot`` is the regular start (naive, series-local) a weekly occurrence belongs to, which
    RECURRENCE-ID names; None for one-off events. ``start``/``end`` are aware datetimes in the
    series' zone, or dates (``end`` exclusive) for all-day events.
    """

    series: Series
    session: Session | None
    slot: dt.datetime | None
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)

    @property
    def cancelled(self) -> bool:
        return bool(self.session and self.session.cancelled)

    @property
    def moved(self) -> bool:
        return bool(self.session and self.session.moved_to)

    @property
    def topic(self) -> str | None:
        return self.session.topic if self.session else None

    @property
    def title(self) -> str:
        """The event title: the topic, prefixed by the series' title for weekly series."""
        if not self.series.weekly:
            return self.topic or self.series.title
        return f"{self.series.title}: {self.topic}" if self.topic else self.series.title

    @property
    def join(self) -> str | None:
        return (self.session and self.session.join) or self.series.join

    @property
    def tags(self) -> tuple[str, ...]:
        own = self.session.tags if self.session else ()
        return tuple(dict.fromkeys(self.series.tags + own))

    @property
    def date(self) -> dt.date:
        return self.start.date() if isinstance(self.start, dt.datetime) else self.start

    def in_utc(self) -> Occurrence:
        """The same occurrence with its times in UTC (for clients weak on time zones)."""
        return dataclasses.replace(
            self, start=self.start.astimezone(dt.UTC), end=self.end.astimezone(dt.UTC)
        )

    @property
    def keyed_by(self) -> dt.date:
        """The date schedule.yaml names it by: its regular slot's (or the event's)."""
        return self.slot.date() if self.slot else self.date

    @property
    def key(self) -> str:
        """A stable identifier: series id and the date of the regular slot (or event)."""
        return f"{self.series.id}/{self.keyed_by.isoformat()}"


def slots(series: Series, first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Dates of a weekly series' regular slots between first and last, inclusive."""
    day = series.starts
    if first > day:
        day += WEEK * ((first - day).days // 7)
        if day < first:
            day += WEEK
    end = min(last, series.ends) if series.ends else last
    while day <= end:
        yield day
        day += WEEK


def weekly(series: Series, slot_date: dt.date, plain: bool = False) -> Occurrence:
    """The occurrence of a weekly series for the regular slot on slot_date.

    With ``plain``, what the slot would be without the organizers' notes for that date: the
    recurring master's view of it."""
    slot = dt.datetime.combine(slot_date, series.at)
    session = None if plain else series.session(slot_date)
    start = session.moved_to if session and session.moved_to else slot
    duration = (session and session.duration) or series.duration
    zone = series.zone
    start = start.replace(tzinfo=zone)
    end = (start.astimezone(dt.UTC) + duration).astimezone(zone)
    return Occurrence(series, session, slot, start, end)


def one_off(series: Series, session: Session) -> Occurrence:
    at = session.at or series.at
    if at is None:
        last = session.ends or session.date
        return Occurrence(series, session, None, session.date, last + dt.timedelta(days=1))
    start = dt.datetime.combine(session.date, at, tzinfo=series.zone)
    duration = session.duration or series.duration
    end = (start.astimezone(dt.UTC) + duration).astimezone(series.zone)
    return Occurrence(series, session, None, start, end)


def between(
    schedule: Schedule, first: dt.date, last: dt.date, series_ids: tuple[str, ...] | None = None
) -> list[Occurrence]:
    """Every occurrence (cancelled ones included) starting on a local date in [first, last]."""
    result = []
    for series in schedule.series:
        if series_ids is not None and series.id not in series_ids:
            continue
        result.extend(of_series(series, first, last))
    result.sort(key=lambda o: (_utc(o.start), o.series.id))
    return result


def of_series(series: Series, first: dt.date, last: dt.date) -> list[Occurrence]:
    """A series' occurrences starting on a local date in [first, last], in order."""
    if not series.weekly:
        found = [one_off(series, s) for s in series.sessions]
        return sorted((o for o in found if first <= o.date <= last), key=lambda o: _utc(o.start))
    found = []
    # Moves are bounded, so only slots near the window can land in it.
    for day in slots(series, first - MAX_MOVE, last + MAX_MOVE):
        session = series.session(day)
        if not (first <= day <= last) and not (session and session.moved_to):
            continue
        occurrence = weekly(series, day)
        if first <= occurrence.date <= last:
            found.append(occurrence)
    found.sort(key=lambda o: _utc(o.start))
    return found


def on(series: Series, day: dt.date) -> Occurrence | None:
    """The occurrence keyed by day: a regular slot of a weekly series, or a one-off's date."""
    if series.weekly:
        if day in slots(series, day, day):
            return weekly(series, day)
        return None
    entry = series.session(day)
    return one_off(series, entry) if entry else None


def starts_at(occurrence: Occurrence) -> dt.datetime:
    """The instant an occurrence starts: all-day events start at midnight where they happen."""
    start = occurrence.start
    if isinstance(start, dt.datetime):
        return start
    return dt.datetime.combine(start, dt.time(), tzinfo=occurrence.series.zone)


def ends_at(occurrence: Occurrence) -> dt.datetime:
    """The instant an occurrence ends: all-day events end at midnight where they happen."""
    end = occurrence.end
    if isinstance(end, dt.datetime):
        return end
    return dt.datetime.combine(end, dt.time(), tzinfo=occurrence.series.zone)


# Join is offered this long before a session starts: people join a little early.
SOON = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Moment:
    """What the clock rule says at an instant: the session that is live, or else the next one,
    and the instants this answer holds between (for caches and Last-Modified).

    A session is live from its start to its end; then the one after it is next. ``soon``: it
    starts within :data:`SOON`. ``since`` is when the answer began to hold (None when that is
    further back than the window looked at); ``until`` is when it changes (None: nothing
    coming)."""

    session: Occurrence | None
    live: bool = False
    soon: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def state(self) -> str:
        """ "live", "soon", "next" or "none": what a page shows, and part of its cache key."""
        if self.session is None:
            return "none"
        return "live" if self.live else "soon" if self.soon else "next"


def live_or_next(
    schedule: Schedule, instant: dt.datetime, need_join: bool = False, horizon_days: int = 366
) -> Moment:
    """The first session not cancelled that has not ended at instant: live if it has started."""
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    found = between(schedule, today - dt.timedelta(days=2), today + dt.timedelta(days=horizon_days))
    since = None
    for occurrence in found:
        if occurrence.cancelled or (need_join and not occurrence.join):
            continue
        start, end = starts_at(occurrence), ends_at(occurrence)
        if end <= instant:
            since = end if since is None else max(since, end)
            continue
        if start <= instant:
            return Moment(occurrence, live=True, since=_later(since, start), until=end)
        if start - SOON <= instant:
            return Moment(occurrence, soon=True, since=_later(since, start - SOON), until=start)
        return Moment(occurrence, since=since, until=start - SOON)
    return Moment(None, since=since)


def clock_span(schedule: Schedule, instant: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The span around instant in which nothing the page and the widget show by the clock
    changes: no session starts, ends or comes within :data:`SOON` of its start, and the date
    where the meeting is stays the same. Pages are cached for it, and dated by its start."""
    zone = ZoneInfo(schedule.timezone)
    today = instant.astimezone(zone).date()
    since = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    for occurrence in between(schedule, today - dt.timedelta(days=2), today + dt.timedelta(days=1)):
        start, end = starts_at(occurrence), ends_at(occurrence)
        changes = (end,) if occurrence.cancelled else (start - SOON, start, end)
        for change in changes:
            if change <= instant:
                since = max(since, change)
            else:
                until = min(until, change)
    return since, until


def _later(first: dt.datetime | None, second: dt.datetime) -> dt.datetime:
    return second if first is None else max(first, second)


def next_session(
    schedule: Schedule, instant: dt.datetime, need_join: bool = False, horizon_days: int = 366
) -> Occurrence | None:
    """The first session not cancelled that has not ended at instant (a running one counts)."""
    return live_or_next(schedule, instant, need_join, horizon_days).session


def _utc(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
