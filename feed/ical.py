"""Render a schedule as an iCalendar feed: pure functions from the model to bytes.

Shape of the feed (docs/clients.md gives the evidence behind each rule; plan.py decides which
events a variant holds):
- one recurring master VEVENT per weekly series, DTSTART;TZID on its first real session,
  RRULE:FREQ=WEEKLY, one EXDATE per cancelled week written exactly like DTSTART;
- one override VEVENT per session with a topic, agenda or move, after its master: same UID,
  RECURRENCE-ID written exactly like DTSTART, and a complete copy of the properties;
- one VEVENT per one-off event (all-day ones as VALUE=DATE with an exclusive DTEND);
- one compact VTIMEZONE per TZID;
- no wall clock: DTSTAMP, LAST-MODIFIED and SEQUENCE come from the stamps (see stamps.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from icalendar import Calendar, Event, vDuration, vText, vUri

from . import plan, vtimezone
from .occurrences import Occurrence
from .plan import SUBSCRIPTION, EventKey, Options, Planned
from .schedule import SESSION_DETAILS, AgendaItem, Schedule
from .stamps import Stamp
from .vtimezone import DAY_CODES

__all__ = ["SUBSCRIPTION", "EventBytes", "Options", "description", "events", "render"]

PRODID = "-//feed//schedule.yaml calendar feed//EN"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
UNSTAMPED = Stamp(0, EPOCH, "")
END_CALENDAR = b"END:VCALENDAR\r\n"
END_EVENT = b"END:VEVENT\r\n"


@dataclass(frozen=True)
class EventBytes:
    """One VEVENT serialized once, without its stamps: the digest input and the feed's part."""

    key: EventKey  # the event's own identity (UID, and RECURRENCE-ID for an override)
    source: EventKey  # the subscription feed's event whose stamps it carries
    body: bytes  # "BEGIN:VEVENT\r\n ... END:VEVENT\r\n" without DTSTAMP/LAST-MODIFIED/SEQUENCE

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]


def events(schedule: Schedule, options: Options = SUBSCRIPTION) -> list[EventBytes]:
    """Every VEVENT of a feed variant, serialized once, masters before their overrides."""
    found = []
    for series_plan in plan.plans(schedule, options):
        master = series_plan.master
        if master is not None:
            key = EventKey(series_plan.series.id)
            found.append(EventBytes(key, key, _master(schedule, key, master).to_ical()))
        for planned in series_plan.events:
            event = _planned(schedule, planned, utc=options.expand is not None)
            found.append(EventBytes(planned.key, planned.source, event.to_ical()))
    return found


def stamp_for(stamps: Mapping[str, Stamp], key: EventKey, domain: str) -> Stamp:
    """The stamps an event carries. Variants hold events the subscription feed lacks
    (cancelled weeks shown, expanded occurrences): they follow their series' master, whose
    SEQUENCE rises whenever a week is cancelled."""
    return stamps.get(key.text(domain)) or stamps.get(key.master.text(domain)) or UNSTAMPED


def render(
    schedule: Schedule,
    options: Options,
    parts: Sequence[EventBytes],
    stamps: Mapping[str, Stamp],
) -> bytes:
    """The feed as bytes: CRLF lines folded at 75 octets, deterministic for the same input.

    ``parts`` are the variant's events from :func:`events`; the subscription feed and every
    series' feed share one serialization of them."""
    cal = _calendar()
    name = feed_name(schedule, options)
    # As TEXT, escaped: icalendar would write these unknown properties raw, CR included.
    cal.add("NAME", vText(name))
    cal.add("X-WR-CALNAME", vText(name))
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
    out = [_open(cal)]
    for part in parts:
        stamp = stamp_for(stamps, part.source, schedule.domain)
        out += [part.body[: -len(END_EVENT)], stamp_lines(stamp), END_EVENT]
    out.append(END_CALENDAR)
    return b"".join(out)


def stamp_lines(stamp: Stamp) -> bytes:
    """DTSTAMP, LAST-MODIFIED and SEQUENCE of one event, the last properties of its VEVENT."""
    when = stamp.modified.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"DTSTAMP:{when}\r\nLAST-MODIFIED:{when}\r\nSEQUENCE:{stamp.sequence}\r\n".encode()


def render_occurrence(
    schedule: Schedule, stamps: Mapping[str, Stamp], occurrence: Occurrence
) -> bytes:
    """One session as a file of its own, for people who do not subscribe."""
    cal = _calendar()
    if not occurrence.all_day:
        year = occurrence.date.year
        cal.add_component(vtimezone.component(occurrence.series.timezone, year, year))
    planned = plan.standalone(occurrence)
    body = _planned(schedule, planned, utc=False).to_ical()[: -len(END_EVENT)]
    stamp = stamp_for(stamps, planned.source, schedule.domain)
    return b"".join([_open(cal), body, stamp_lines(stamp), END_EVENT, END_CALENDAR])


# Clients disagree on unescaping , ; and \ in names (docs/clients.md R30); control characters
# and line separators would break the line.
_UNSAFE_IN_NAMES = re.compile(r"\s*[,;\\\x00-\x1f\x7f\x85\u2028\u2029]\s*")


def feed_name(schedule: Schedule, options: Options) -> str:
    """The calendar's display name, free of characters clients unescape differently."""
    name = schedule.name
    if options.series and len(options.series) == 1:
        series = schedule.get(options.series[0])
        if series and series.title != schedule.name:
            name = f"{schedule.name} - {series.title}"
    return _UNSAFE_IN_NAMES.sub(" ", name).strip()


def _calendar() -> Calendar:
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    return cal


def _open(cal: Calendar) -> bytes:
    """The calendar's text up to where its events go."""
    head = cal.to_ical()
    assert head.endswith(END_CALENDAR)
    return head[: -len(END_CALENDAR)]


def _zone_years(schedule: Schedule, options: Options) -> dict[str, tuple[int, int]]:
    years: dict[str, tuple[int, int]] = {}
    for series in schedule.series:
        if options.series is not None and series.id not in options.series:
            continue
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


def _master(schedule: Schedule, key: EventKey, master: plan.Recurrence) -> Event:
    series = master.first.series
    event = _event(schedule, master.first, key.uid(schedule.domain))
    rule = {"FREQ": "WEEKLY"}
    if master.until is not None:
        rule["UNTIL"] = master.until
    rule["BYDAY"] = DAY_CODES[series.weekday]
    event.add("RRULE", rule)
    for start in master.exdates:
        event.add("EXDATE", start)
    return event


def _planned(schedule: Schedule, planned: Planned, utc: bool) -> Event:
    occurrence = planned.occurrence
    if utc and not occurrence.all_day:
        occurrence = occurrence.in_utc()
    event = _event(schedule, occurrence, planned.key.uid(schedule.domain))
    if planned.key.slot is not None:
        event.add("RECURRENCE-ID", planned.key.slot.replace(tzinfo=occurrence.series.zone))
    return event


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
        for detail in SESSION_DETAILS:  # speaker, links: "Label: value", as declared
            value = getattr(session, detail.name)
            if value:
                lines.append(f"{detail.label}: {value}")
    if occurrence.join and not occurrence.cancelled:
        lines += ["", f"Join: {occurrence.join}"]
    return "\n".join(lines).strip("\n")


def agenda_lines(items: tuple[AgendaItem, ...], depth: int = 0) -> list[str]:
    lines = []
    for item in items:
        lines.append("  " * depth + "- " + item.text)
        lines += agenda_lines(item.children, depth + 1)
    return lines
