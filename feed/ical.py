"""Render a schedule as an iCalendar feed: pure functions from the model to bytes.

Shape of the feed (see ../shared/CLIENTS.md for the evidence behind each rule):
- one recurring master VEVENT per weekly series, DTSTART;TZID on its first real session,
  RRULE:FREQ=WEEKLY, one EXDATE per cancelled week written exactly like DTSTART;
- one override VEVENT per session with a topic, agenda or move, after its master: same UID,
  RECURRENCE-ID written exactly like DTSTART, and a complete copy of the properties;
- one VEVENT per one-off event (all-day ones as VALUE=DATE with an exclusive DTEND);
- one compact VTIMEZONE per TZID;
- no wall clock: DTSTAMP, LAST-MODIFIED and SEQUENCE come from the stamps (see stamps.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from icalendar import Calendar, Event, vDuration, vText, vUri

from . import occurrences, vtimezone
from .occurrences import Occurrence
from .schedule import AgendaItem, Schedule, Series, Session
from .stamps import Stamp, restamp

PRODID = "-//feed//schedule.yaml calendar feed//EN"
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Options:
    """What a feed variant contains. The default is the subscription feed."""

    series: tuple[str, ...] | None = None  # None: every series
    show_cancelled: bool = False  # cancelled weeks as STATUS:CANCELLED overrides, not EXDATEs
    tag: str | None = None  # only the sessions with this tag (or whole series carrying it)
    # (first, last) local dates: one VEVENT per occurrence in UTC, for widgets with weak
    # recurrence or time-zone support. Not for subscribing: past the window, events vanish.
    expand: tuple[dt.date, dt.date] | None = None


SUBSCRIPTION = Options()


def uid(schedule: Schedule, series: Series, day: dt.date | None = None) -> str:
    """Stable forever: derived from the series id, and the date for an event that stands
    alone (a one-off event, or one occurrence of a weekly series taken out of it)."""
    if day is None:
        return f"{series.id}@{schedule.domain}"
    return f"{series.id}-{day:%Y%m%d}@{schedule.domain}"


def occurrence_uid(schedule: Schedule, occurrence: Occurrence) -> str:
    """The UID of one occurrence as a standalone event (expanded feeds, per-session files)."""
    day = occurrence.slot.date() if occurrence.slot else occurrence.date
    return uid(schedule, occurrence.series, day)


def stamp_key(event: Event) -> str:
    """Identifies one VEVENT across versions: its UID, plus RECURRENCE-ID for overrides."""
    key = str(event["UID"])
    if "RECURRENCE-ID" in event:
        key += "/" + event["RECURRENCE-ID"].dt.strftime("%Y%m%dT%H%M%S")
    return key


@dataclass(frozen=True)
class EventBytes:
    """One VEVENT serialized once, without its stamps: the digest input and the feed's part."""

    key: str  # stamp key of the subscription feed's event it comes from
    series: str
    body: bytes  # "BEGIN:VEVENT\r\n ... END:VEVENT\r\n" without DTSTAMP/LAST-MODIFIED/SEQUENCE

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]


def events(schedule: Schedule, options: Options = SUBSCRIPTION) -> list[EventBytes]:
    """Every VEVENT of a feed variant, serialized once, masters before their overrides."""
    return [
        EventBytes(key, series_id, event.to_ical())
        for event, key, series_id in _events(schedule, options)
    ]


def digests(schedule: Schedule, blocks: list[EventBytes] | None = None) -> dict[str, str]:
    """A digest of each VEVENT's content (stamps excluded) in the subscription feed."""
    return {block.key: block.digest for block in blocks or events(schedule)}


def stamps_for(
    schedule: Schedule, previous: Mapping[str, Stamp], edited: dt.datetime
) -> dict[str, Stamp]:
    """New stamps after a schedule edit made at ``edited``."""
    return restamp(previous, digests(schedule), edited)


def render(
    schedule: Schedule,
    stamps: Mapping[str, Stamp],
    options: Options = SUBSCRIPTION,
    blocks: list[EventBytes] | None = None,
) -> bytes:
    """The feed as bytes: CRLF lines folded at 75 octets, deterministic for the same input.

    ``blocks`` are the variant's events when already serialized (see :func:`events`): the
    subscription feed and every series' feed share them, so each event is serialized once."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    name = feed_name(schedule, options)
    cal.add("NAME", name)
    cal.add("X-WR-CALNAME", name)
    description = schedule.description
    if options.series and len(options.series) == 1:
        series = schedule.get(options.series[0])
        description = (series.description if series else None) or description
    if description:
        cal.add("DESCRIPTION", description)
        cal.add("X-WR-CALDESC", vText(description))
    cal.add("REFRESH-INTERVAL", vDuration(schedule.refresh), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(schedule.refresh))
    if not options.expand:
        for tzid, (first, last) in sorted(_zone_years(schedule, options).items()):
            cal.add_component(vtimezone.component(tzid, first, last))
    if blocks is None:
        blocks = events(schedule, options)
    head = cal.to_ical()
    assert head.endswith(END_CALENDAR)
    parts = [head[: -len(END_CALENDAR)]]
    for block in blocks:
        parts += [block.body[: -len(END_EVENT)], stamp_lines(block.key, stamps), END_EVENT]
    parts.append(END_CALENDAR)
    return b"".join(parts)


END_CALENDAR = b"END:VCALENDAR\r\n"
END_EVENT = b"END:VEVENT\r\n"


def stamp_lines(key: str, stamps: Mapping[str, Stamp]) -> bytes:
    """DTSTAMP, LAST-MODIFIED and SEQUENCE of one event, the last properties of its VEVENT.

    Variants hold events the subscription feed lacks (cancelled weeks shown, expanded
    occurrences): they follow the event they come from, else their series' master, whose
    SEQUENCE rises whenever a week is cancelled."""
    stamp = stamps.get(key) or stamps.get(key.split("/")[0]) or Stamp(0, EPOCH, "")
    when = stamp.modified.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"DTSTAMP:{when}\r\nLAST-MODIFIED:{when}\r\nSEQUENCE:{stamp.sequence}\r\n".encode()


def render_occurrence(
    schedule: Schedule, stamps: Mapping[str, Stamp], occurrence: Occurrence
) -> bytes:
    """One session as a file of its own, for people who do not subscribe: a standalone event
    with a UID of its own (a RECURRENCE-ID without its master is mishandled by clients)."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    if not occurrence.all_day:
        year = occurrence.date.year
        cal.add_component(vtimezone.component(occurrence.series.timezone, year, year))
    event = _event(schedule, occurrence, occurrence_uid(schedule, occurrence))
    body = event.to_ical()[: -len(END_EVENT)]
    head = cal.to_ical()[: -len(END_CALENDAR)]
    return b"".join(
        [head, body, stamp_lines(source_key(schedule, occurrence), stamps), END_EVENT, END_CALENDAR]
    )


def source_key(schedule: Schedule, occurrence: Occurrence) -> str:
    """The stamp key of the subscription feed's event that carries this occurrence."""
    if occurrence.slot is None:
        return uid(schedule, occurrence.series, occurrence.date)
    master = uid(schedule, occurrence.series)
    if occurrence.session is None:
        return master
    return f"{master}/{occurrence.slot:%Y%m%dT%H%M%S}"


def feed_name(schedule: Schedule, options: Options) -> str:
    """The calendar's display name, free of characters clients unescape differently."""
    name = schedule.name
    if options.series and len(options.series) == 1:
        series = schedule.get(options.series[0])
        if series and series.title != schedule.name:
            name = f"{schedule.name} - {series.title}"
    return re.sub(r"\s*[,;\\\n]\s*", " ", name).strip()


def _zone_years(schedule: Schedule, options: Options) -> dict[str, tuple[int, int]]:
    years: dict[str, tuple[int, int]] = {}
    for series in _selected(schedule, options):
        dates = [s.date for s in series.sessions] + [
            s.moved_to.date() for s in series.sessions if s.moved_to
        ]
        if series.weekly:
            dates += [series.starts] + ([series.ends] if series.ends else [])
        elif all((s.at or series.at) is None for s in series.sessions):
            continue  # all-day events carry no TZID
        if not dates:
            continue
        first, last = min(dates).year, max(dates).year
        old = years.get(series.timezone)
        years[series.timezone] = (min(first, old[0]), max(last, old[1])) if old else (first, last)
    return years


def _selected(schedule: Schedule, options: Options) -> Iterable[Series]:
    return [s for s in schedule.series if options.series is None or s.id in options.series]


def _events(schedule: Schedule, options: Options) -> list[tuple[Event, str, str]]:
    """Every VEVENT of the feed, without stamps, masters before their overrides, each with
    the stamp key of the subscription feed's event it comes from, and its series id."""
    result: list[tuple[Event, str, str]] = []
    for series in _selected(schedule, options):
        whole = options.tag is None or options.tag in series.tags
        if options.expand:
            found = _expanded(schedule, series, options)
        elif series.weekly and whole:
            found = _weekly(schedule, series, options)
        elif series.weekly:
            found = _tagged_weekly(schedule, series, options)
        else:
            found = []
            for session in series.sessions:
                if not _wanted(series, session, options):
                    continue
                occurrence = occurrences.one_off(series, session)
                event_uid = uid(schedule, series, session.date)
                found.append((_event(schedule, occurrence, event_uid), event_uid))
        result += [(event, key, series.id) for event, key in found]
    return result


def _wanted(series: Series, session: Session | None, options: Options) -> bool:
    if session is not None and session.cancelled and not options.show_cancelled:
        return False
    if options.tag is None or options.tag in series.tags:
        return True
    return session is not None and options.tag in session.tags


def _weekly(schedule: Schedule, series: Series, options: Options) -> list[tuple[Event, str]]:
    first = occurrences.first_active_slot(series)
    if options.show_cancelled:
        first = series.starts
    if first is None:
        return []
    series_uid = uid(schedule, series)
    master = _event(schedule, occurrences.weekly(series, first, plain=True), series_uid)
    rule = {"FREQ": "WEEKLY", "BYDAY": DAY_CODES[series.weekday]}
    if series.ends:
        last = list(occurrences.slots(series, series.ends - dt.timedelta(days=6), series.ends))
        if last:
            until = dt.datetime.combine(last[-1], series.at, tzinfo=series.zone)
            rule["UNTIL"] = until.astimezone(dt.UTC)
    master.add("RRULE", rule)
    overrides = []
    for session in series.sessions:
        if session.date < first:
            continue  # only cancelled weeks precede the first real session
        occurrence = occurrences.weekly(series, session.date)
        if session.cancelled and not options.show_cancelled:
            master.add("EXDATE", occurrence.slot.replace(tzinfo=series.zone))
            continue
        overrides.append(_override(schedule, occurrence, series_uid))
    return [(master, series_uid), *overrides]


def _override(schedule: Schedule, occurrence: Occurrence, series_uid: str) -> tuple[Event, str]:
    event = _event(schedule, occurrence, series_uid)
    event.add("RECURRENCE-ID", occurrence.slot.replace(tzinfo=occurrence.series.zone))
    return event, stamp_key(event)


def _tagged_weekly(schedule: Schedule, series: Series, options: Options) -> list[tuple[Event, str]]:
    """Only the tagged sessions of a weekly series, under the series' own UID: the RRULE runs
    from the first tagged session to the last (UNTIL), every other week in between is an
    EXDATE, and each tagged session is an override as in the subscription feed. (RDATEs
    would be shorter, but libical reads RDATE;TZID times as UTC.)"""
    chosen = [s for s in series.sessions if _wanted(series, s, options)]
    if not chosen:
        return []
    series_uid = uid(schedule, series)
    master = _event(schedule, occurrences.weekly(series, chosen[0].date, plain=True), series_uid)
    last = dt.datetime.combine(chosen[-1].date, series.at, tzinfo=series.zone)
    master.add(
        "RRULE",
        {"FREQ": "WEEKLY", "UNTIL": last.astimezone(dt.UTC), "BYDAY": DAY_CODES[series.weekday]},
    )
    wanted = {s.date for s in chosen}
    for day in occurrences.slots(series, chosen[0].date, chosen[-1].date):
        if day not in wanted:
            master.add("EXDATE", dt.datetime.combine(day, series.at, tzinfo=series.zone))
    overrides = [
        _override(schedule, occurrences.weekly(series, s.date), series_uid) for s in chosen
    ]
    return [(master, series_uid), *overrides]


def _expanded(schedule: Schedule, series: Series, options: Options) -> list[tuple[Event, str]]:
    """One standalone VEVENT per occurrence in the window, timed ones in UTC."""
    first, last = options.expand
    result = []
    for occurrence in occurrences.of_series(series, first, last):
        if not _wanted(series, occurrence.session, options):
            continue
        event_uid = occurrence_uid(schedule, occurrence)
        source = source_key(schedule, occurrence)
        if not occurrence.all_day:
            occurrence = dataclasses.replace(
                occurrence,
                start=occurrence.start.astimezone(dt.UTC),
                end=occurrence.end.astimezone(dt.UTC),
            )
        result.append((_event(schedule, occurrence, event_uid), source))
    return result


def _event(schedule: Schedule, occurrence: Occurrence, event_uid: str) -> Event:
    """One VEVENT with every property it needs: overrides inherit nothing from the master."""
    event = Event()
    event.add("UID", event_uid)
    if occurrence.all_day:
        event.add("DTSTART", occurrence.start, parameters={"VALUE": "DATE"})
        event.add("DTEND", occurrence.end, parameters={"VALUE": "DATE"})
        event.add("TRANSP", "TRANSPARENT")
    else:
        event.add("DTSTART", occurrence.start)
        event.add("DTEND", occurrence.end)
        event.add("TRANSP", "TRANSPARENT" if occurrence.cancelled else "OPAQUE")
    title = occurrence.title
    if occurrence.cancelled:
        reason = occurrence.session.reason
        title = f"Cancelled: {title}" + (f" ({reason})" if reason else "")
    event.add("SUMMARY", title)
    event.add("STATUS", "CANCELLED" if occurrence.cancelled else "CONFIRMED")
    event.add("DESCRIPTION", description(occurrence))
    join = occurrence.join
    session = occurrence.session
    if join:
        event.add("LOCATION", join)
        event.add(
            "CONFERENCE",
            vUri(join),
            parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Join online"},
        )
    link = join or (session and session.url)
    if link:
        event.add("URL", vUri(link))
    tags = occurrence.tags
    if tags:
        names = schedule.tag_names
        event.add("CATEGORIES", [vText(names.get(t, t)) for t in tags])
    return event


def description(occurrence: Occurrence) -> str:
    """Plain text for DESCRIPTION: topic, agenda, notes, links and the join link."""
    session = occurrence.session
    lines: list[str] = []
    if session is None:
        if occurrence.series.description:
            lines.append(occurrence.series.description)
    else:
        if session.cancelled:
            lines.append("Cancelled" + (f": {session.reason}" if session.reason else "."))
        if session.topic:
            lines.append(session.topic)
        if session.agenda:
            lines += ["", "Agenda:", *agenda_lines(session.agenda)]
        if session.notes:
            lines += ["", *("Note: " + n for n in session.notes)]
        if session.speaker:
            lines.append(f"Speaker: {session.speaker}")
        if session.url:
            lines.append(f"More: {session.url}")
        if session.recording:
            lines.append(f"Recording: {session.recording}")
    if occurrence.join and not occurrence.cancelled:
        lines += ["", f"Join: {occurrence.join}"]
    return "\n".join(lines).strip("\n")


def agenda_lines(items: tuple[AgendaItem, ...], depth: int = 0) -> list[str]:
    lines = []
    for item in items:
        lines.append("  " * depth + "- " + item.text)
        lines += agenda_lines(item.children, depth + 1)
    return lines
