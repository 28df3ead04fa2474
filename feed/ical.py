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

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from icalendar import Calendar, Event, vDuration, vText, vUri

from . import occurrences, vtimezone
from .occurrences import Occurrence
from .schedule import AgendaItem, Schedule, Series
from .stamps import Stamp, restamp

PRODID = "-//feed//schedule.yaml calendar feed//EN"
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Options:
    """What a feed variant contains. The default is the subscription feed."""

    series: tuple[str, ...] | None = None  # None: every series
    show_cancelled: bool = False  # cancelled weeks as STATUS:CANCELLED overrides, not EXDATEs


SUBSCRIPTION = Options()


def uid(schedule: Schedule, series: Series, day: dt.date | None = None) -> str:
    """Stable forever: derived from the series id (and the date, for one-off events)."""
    if day is None:
        return f"{series.id}@{schedule.domain}"
    return f"{series.id}-{day:%Y%m%d}@{schedule.domain}"


def stamp_key(event: Event) -> str:
    """Identifies one VEVENT across versions: its UID, plus RECURRENCE-ID for overrides."""
    key = str(event["UID"])
    if "RECURRENCE-ID" in event:
        key += "/" + event["RECURRENCE-ID"].dt.strftime("%Y%m%dT%H%M%S")
    return key


def digests(schedule: Schedule) -> dict[str, str]:
    """A digest of each VEVENT's content (stamps excluded) in the subscription feed."""
    return {
        stamp_key(e): hashlib.sha256(e.to_ical()).hexdigest()[:16]
        for e in _events(schedule, SUBSCRIPTION)
    }


def stamps_for(
    schedule: Schedule, previous: Mapping[str, Stamp], edited: dt.datetime
) -> dict[str, Stamp]:
    """New stamps after a schedule edit made at ``edited``."""
    return restamp(previous, digests(schedule), edited)


def render(
    schedule: Schedule, stamps: Mapping[str, Stamp], options: Options = SUBSCRIPTION
) -> bytes:
    """The feed as bytes: CRLF lines folded at 75 octets, deterministic for the same input."""
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
    events = _events(schedule, options)
    for tzid, (first, last) in sorted(_zone_years(schedule, options).items()):
        cal.add_component(vtimezone.component(tzid, first, last))
    for event in events:
        _stamp(event, stamps)
        cal.add_component(event)
    return cal.to_ical()


def feed_name(schedule: Schedule, options: Options) -> str:
    """The calendar's display name, free of characters clients unescape differently."""
    name = schedule.name
    if options.series and len(options.series) == 1:
        series = schedule.get(options.series[0])
        if series and series.title != schedule.name:
            name = f"{schedule.name} - {series.title}"
    return re.sub(r"\s*[,;\\\n]\s*", " ", name).strip()


def _stamp(event: Event, stamps: Mapping[str, Stamp]) -> None:
    key = stamp_key(event)
    # Variants add events the subscription feed lacks (cancelled weeks shown): they follow
    # their master, whose SEQUENCE rises whenever a week is cancelled.
    stamp = stamps.get(key) or stamps.get(str(event["UID"])) or Stamp(0, EPOCH, "")
    event.add("DTSTAMP", stamp.modified)
    event.add("LAST-MODIFIED", stamp.modified)
    event.add("SEQUENCE", stamp.sequence)


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


def _events(schedule: Schedule, options: Options) -> list[Event]:
    """Every VEVENT of the feed, without stamps, masters before their overrides."""
    result: list[Event] = []
    for series in _selected(schedule, options):
        if series.weekly:
            result.extend(_weekly(schedule, series, options))
        else:
            for session in series.sessions:
                if session.cancelled and not options.show_cancelled:
                    continue
                occurrence = occurrences.one_off(series, session)
                result.append(_event(schedule, occurrence, uid(schedule, series, session.date)))
    return result


def _weekly(schedule: Schedule, series: Series, options: Options) -> list[Event]:
    first = occurrences.first_active_slot(series)
    if options.show_cancelled:
        first = series.starts
    if first is None:
        return []
    master_occurrence = occurrences.weekly(series, first, plain=True)
    series_uid = uid(schedule, series)
    master = _event(schedule, master_occurrence, series_uid)
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
        override = _event(schedule, occurrence, series_uid)
        override.add("RECURRENCE-ID", occurrence.slot.replace(tzinfo=series.zone))
        overrides.append(override)
    return [master, *overrides]


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
