"""What each series contributes to a feed variant, as data: the plan the renderer writes out.

A weekly series becomes one recurring master (its first occurrence, the RRULE's UNTIL and the
EXDATEs of the weeks left out) plus one override per session with something to say; a list of
one-off events, or any series in an expanded feed, becomes standalone events. Every event
carries its identity as an :class:`EventKey` (series and date), never as a string to parse.
The rules behind the shapes (why EXDATE and not RDATE, why overrides repeat every property)
are in docs/clients.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from . import occurrences
from .occurrences import WEEK, Occurrence
from .schedule import Schedule, Series, Session


@dataclass(frozen=True)
class Options:
    """What a feed variant contains. The default is the subscription feed."""

    series: tuple[str, ...] | None = None  # None: every series
    show_cancelled: bool = False  # cancelled weeks as "Cancelled: ..." overrides, not EXDATEs
    tag: str | None = None  # only the sessions with this tag (or whole series carrying it)
    # (first, last) local dates: one VEVENT per occurrence in UTC, for widgets with weak
    # recurrence or time-zone support. Not for subscribing: past the window, events vanish.
    expand: tuple[dt.date, dt.date] | None = None
    # A reminder (a key of ALARMS) on every event that takes place. It changes no event's
    # identity or stamps: the renderer adds it to the events of the variant without it.
    alarm: str | None = None

    @property
    def subscription(self) -> bool:
        """The subscription feed, or one series of it: the events every feed shares."""
        return not (self.show_cancelled or self.tag or self.expand)


# The reminders a feed offers (``?alarm=15m``): a few, so that a static export can hold every
# feed with each of them. The values are how long before the start the reminder fires.
ALARMS = {
    "15m": dt.timedelta(minutes=15),
    "30m": dt.timedelta(minutes=30),
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
}
_UNITS = {"m": "minute", "h": "hour", "d": "day"}


def alarm_words(name: str) -> str:
    """A reminder in words: "15m" is "15 minutes"."""
    amount = int(name[:-1])
    return f"{amount} {_UNITS[name[-1]]}" + ("s" if amount != 1 else "")


SUBSCRIPTION = Options()


@dataclass(frozen=True, order=True)
class EventKey:
    """Which event: a weekly series' master (series alone), one of its overrides (``slot``,
    the regular local start it replaces) or an event that stands alone (``day``: a one-off
    event, or one occurrence of a weekly series taken out of it)."""

    series: str
    day: dt.date | None = None
    slot: dt.datetime | None = None

    def uid(self, domain: str) -> str:
        """Stable forever: derived from the series id, and the date of a standalone event.
        The schedule's rules refuse series ids that would make two of these equal."""
        if self.day is None:
            return f"{self.series}@{domain}"
        return f"{self.series}-{self.day:%Y%m%d}@{domain}"

    def text(self, domain: str) -> str:
        """The key's name in the stamps file: the UID, plus RECURRENCE-ID for an override."""
        if self.slot is None:
            return self.uid(domain)
        return f"{self.uid(domain)}/{self.slot:%Y%m%dT%H%M%S}"

    @property
    def master(self) -> EventKey:
        return EventKey(self.series)


@dataclass(frozen=True)
class Planned:
    """One event of a feed: its identity, what it shows, and the subscription feed's event
    whose SEQUENCE and LAST-MODIFIED it carries (itself, unless it exists only in a variant)."""

    key: EventKey
    occurrence: Occurrence
    source: EventKey


@dataclass(frozen=True)
class Recurrence:
    """A weekly series' recurring master: DTSTART on ``first``, RRULE weekly until ``until``
    (UTC, or open-ended), minus ``exdates`` (aware local starts of the weeks left out)."""

    first: Occurrence
    until: dt.datetime | None
    exdates: tuple[dt.datetime, ...]


@dataclass(frozen=True)
class SeriesPlan:
    series: Series
    master: Recurrence | None
    events: tuple[Planned, ...]  # the master's overrides, or standalone events


def plans(schedule: Schedule, options: Options = SUBSCRIPTION) -> Iterator[SeriesPlan]:
    """The plan of every selected series, in schedule order."""
    for series in schedule.series:
        if options.series is not None and series.id not in options.series:
            continue
        whole = options.tag is None or options.tag in series.tags
        if options.expand:
            yield _expanded(series, options)
        elif series.weekly and whole:
            yield _weekly(series, options)
        elif series.weekly:
            yield _tagged_weekly(series, options)
        else:
            chosen = [s for s in series.sessions if wanted(series, s, options)]
            yield SeriesPlan(series, None, tuple(_standalone(series, s) for s in chosen))


def wanted(series: Series, session: Session | None, options: Options) -> bool:
    """Whether a variant shows a session (None: a week nobody wrote anything for)."""
    if session is not None and session.cancelled and not options.show_cancelled:
        return False
    if options.tag is None or options.tag in series.tags:
        return True
    return session is not None and options.tag in session.tags


def source(occurrence: Occurrence) -> EventKey:
    """The subscription feed's event that carries this occurrence."""
    series = occurrence.series.id
    if occurrence.slot is None:
        return EventKey(series, day=occurrence.date)
    if occurrence.session is None:
        return EventKey(series)
    return EventKey(series, slot=occurrence.slot)


def standalone(occurrence: Occurrence) -> Planned:
    """One occurrence as an event of its own (expanded feeds, one session's file): a UID of
    its own, since a RECURRENCE-ID without its master is mishandled by clients."""
    day = occurrence.slot.date() if occurrence.slot else occurrence.date
    return Planned(EventKey(occurrence.series.id, day=day), occurrence, source(occurrence))


def first_active_slot(series: Series) -> dt.date | None:
    """The first regular slot that is not cancelled: where the RRULE's DTSTART goes."""
    cancelled = {s.date for s in series.sessions if s.cancelled}
    day = series.starts
    while day in cancelled:
        day += WEEK
    if series.ends and day > series.ends:
        return None
    return day


def _local(series: Series, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, series.at, tzinfo=series.zone)


def _override(series: Series, day: dt.date) -> Planned:
    occurrence = occurrences.weekly(series, day)
    key = EventKey(series.id, slot=occurrence.slot)
    return Planned(key, occurrence, key)


def _standalone(series: Series, session: Session) -> Planned:
    key = EventKey(series.id, day=session.date)
    return Planned(key, occurrences.one_off(series, session), key)


def _weekly(series: Series, options: Options) -> SeriesPlan:
    first = series.starts if options.show_cancelled else first_active_slot(series)
    if first is None:
        return SeriesPlan(series, None, ())
    until = None
    if series.ends:
        last = list(occurrences.slots(series, series.ends - dt.timedelta(days=6), series.ends))
        if last:
            until = _local(series, last[-1]).astimezone(dt.UTC)
    exdates, overrides = [], []
    for session in series.sessions:
        if session.date < first:
            continue  # only cancelled weeks precede the first real session
        if session.cancelled and not options.show_cancelled:
            exdates.append(_local(series, session.date))
        else:
            overrides.append(_override(series, session.date))
    master = Recurrence(occurrences.weekly(series, first, plain=True), until, tuple(exdates))
    return SeriesPlan(series, master, tuple(overrides))


def _tagged_weekly(series: Series, options: Options) -> SeriesPlan:
    """Only the tagged sessions of a weekly series, under the series' own UID: the RRULE runs
    from the first tagged session to the last (UNTIL), every other week in between is an
    EXDATE, and each tagged session is an override as in the subscription feed. (RDATEs
    would be shorter, but libical reads RDATE;TZID times as UTC.)"""
    chosen = [s for s in series.sessions if wanted(series, s, options)]
    if not chosen:
        return SeriesPlan(series, None, ())
    picked = {s.date for s in chosen}
    exdates = tuple(
        _local(series, day)
        for day in occurrences.slots(series, chosen[0].date, chosen[-1].date)
        if day not in picked
    )
    until = _local(series, chosen[-1].date).astimezone(dt.UTC)
    master = Recurrence(occurrences.weekly(series, chosen[0].date, plain=True), until, exdates)
    return SeriesPlan(series, master, tuple(_override(series, s.date) for s in chosen))


def _expanded(series: Series, options: Options) -> SeriesPlan:
    """One standalone event per occurrence in the window."""
    first, last = options.expand
    found = occurrences.of_series(series, first, last)
    return SeriesPlan(
        series,
        None,
        tuple(standalone(o) for o in found if wanted(series, o.session, options)),
    )
