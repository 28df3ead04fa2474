"""What the page and the widget show: plain functions of (schedule, date, site) that build the
templates' values. No request, no clock: the routes in :mod:`feed.pages` pass both.

Every link is built by :mod:`feed.links`, from the public address, so a site served under a
path (https://owner.github.io/repo) keeps it in every link, and a static export links to its
files.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from . import ical, jsonfeed, occurrences
from .links import (
    FeedVariant,
    Site,
    feed_list,
    google_add_link,
    outlook_add_link,
    reminder_links,
    subscribe_links,
)
from .occurrences import Occurrence
from .schedule import SESSION_DETAILS, WEEKDAYS, Schedule, Series, Session

# Names people use for a zone; anything else is shown by its IANA name.
ZONE_LABELS = {
    "America/Los_Angeles": "Pacific",
    "America/Denver": "Mountain",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
}
UPCOMING_DAYS = 366  # the page lists dated sessions this far ahead
UPCOMING_PLAIN = 6  # ... and at least this many weeks, with or without a topic
EMBED_MAX = 20
# A static export's widget holds this many more sessions than it can show, so it still has
# enough after the browser drops those that ended since the build.
EMBED_SPARE = 20


def zone_label(name: str) -> str:
    return ZONE_LABELS.get(name, name)


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: dt.date, year: int | None = None) -> str:
    """'Tue 3 Mar', with the year when it is not ``year`` (this year)."""
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == year else f"{text} {day.year}"


def when(series: Series) -> str:
    """'Tuesdays 11:00 Pacific' for a weekly series."""
    return f"{WEEKDAYS[series.weekday].title()}s {series.at:%H:%M} {zone_label(series.timezone)}"


def utc_offset(moment: dt.datetime) -> str:
    """'UTC−7', 'UTC+5:30': the offset people can convert from without JavaScript."""
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def ends_utc(occurrence: Occurrence) -> str:
    """When an occurrence ends, in UTC: all-day events end at midnight where they happen."""
    return _utc_text(occurrences.ends_at(occurrence))


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def session_view(
    occurrence: Occurrence,
    site: Site,
    names: dict[str, str],
    instant: dt.datetime | None = None,
) -> dict:
    """What the templates show for one occurrence (all text is escaped by the templates).

    Times are in the meeting's zone with their UTC offset, the form that needs no script;
    ``start_utc``/``end_utc`` let the browser show them in the visitor's zone instead.
    ``instant`` (now) decides whether the session is live or over."""
    entry = occurrence.session
    label = zone_label(occurrence.series.timezone)
    year = instant.astimezone(occurrence.series.zone).year if instant else None
    if occurrence.all_day:
        last = occurrence.end - dt.timedelta(days=1)
        day = long_date(occurrence.start)
        time = "all day" if last == occurrence.start else f"until {long_date(last)}"
        utc = None
    else:
        day = long_date(occurrence.date)
        # The wall-clock times that exist: a slot the clocks skip (02:30 on the spring-forward
        # day) is shown as the instant it means (03:30), as the feed and the JSON say.
        zone = occurrence.series.zone
        start, end = (
            t.astimezone(dt.UTC).astimezone(zone) for t in (occurrence.start, occurrence.end)
        )
        time = f"{start:%H:%M}–{end:%H:%M} {label} ({utc_offset(start)})"
        utc = _utc_text(occurrence.start)
    started = instant is not None and occurrences.starts_at(occurrence) <= instant
    ended = instant is not None and occurrences.ends_at(occurrence) <= instant
    return {
        "key": occurrence.key,
        "id": "s-" + occurrence.key.replace("/", "-"),
        "series": occurrence.series,
        "weekly": occurrence.series.weekly,
        "date": occurrence.date.isoformat(),
        "day": day,
        "short_day": short_date(occurrence.date, year),
        "time": time,
        "utc": utc,
        "ends": ends_utc(occurrence),
        "zone": occurrence.series.timezone,
        "zone_label": label,
        "topic": occurrence.topic,
        "title": occurrence.title,
        "heading": occurrence.topic
        or ("Topic to be announced" if occurrence.series.weekly else occurrence.series.title),
        "agenda": entry.agenda if entry else (),
        "notes": entry.notes if entry else (),
        **details(entry),
        "tags": [names.get(t, t) for t in occurrence.tags],
        "cancelled": occurrence.cancelled,
        "reason": entry.reason if entry else None,
        "moved_from": long_date(occurrence.slot.date()) if occurrence.moved else None,
        "join": occurrence.join,
        "live": started and not ended and not occurrence.cancelled,
        "ended": ended,
        "page": site.session(occurrence),
        "ics": site.url(jsonfeed.session_path(occurrence)),
        "google": google_add_link(occurrence),
        "outlook": outlook_add_link(occurrence),
    }


def details(entry: Session | None) -> dict:
    """The session's details (speaker, links ...), in the order feed.schedule declares them:
    ``texts``, (label, value) pairs shown as "Label: value", and ``links``, (link text, URL,
    spaced) triples shown on one line. ``spaced``: a space goes before every link but the
    first declared one, as the page has always been written."""
    values = [(d, getattr(entry, d.name) if entry else None) for d in SESSION_DETAILS]
    urls = [(d, value) for d, value in values if d.link_text is not None]
    return {
        "texts": [(d.label, value) for d, value in values if d.link_text is None and value],
        "links": [(d.link_text, value, i > 0) for i, (d, value) in enumerate(urls) if value],
    }


def upcoming(schedule: Schedule, instant: dt.datetime) -> list[Occurrence]:
    """Sessions that have not ended: the next few weeks, plus every later one the organizers
    wrote something for (up to a year ahead)."""
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    found = occurrences.between(
        schedule, today - dt.timedelta(days=1), today + dt.timedelta(days=UPCOMING_DAYS)
    )
    found = [o for o in found if occurrences.ends_at(o) > instant]
    return [o for i, o in enumerate(found) if i < UPCOMING_PLAIN or o.session is not None]


def embedded(schedule: Schedule, instant: dt.datetime, site: Site, limit: int) -> dict:
    """Everything embed.html shows: the next ``limit`` sessions that have not ended, compact.
    A static export holds spare ones, hidden, for the browser to show as earlier ones end."""
    names = schedule.tag_names
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    found = occurrences.between(
        schedule, today - dt.timedelta(days=1), today + dt.timedelta(days=UPCOMING_DAYS)
    )
    found = [o for o in found if occurrences.ends_at(o) > instant]
    count = EMBED_MAX + EMBED_SPARE if site.static else limit
    return {
        "schedule": schedule,
        "sessions": [session_view(o, site, names, instant) for o in found[:count]],
        "shown": limit,
        "site": site,
    }


def archive(schedule: Schedule, instant: dt.datetime) -> list[tuple[int, list[Occurrence]]]:
    """Past sessions with something written about them, by year, most recent first."""
    dates = [s.date for series in schedule.series for s in series.sessions]
    dates += [s.starts for s in schedule.series if s.starts]
    if not dates:
        return []
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    past = occurrences.between(schedule, min(dates), today)
    years: dict[int, list[Occurrence]] = {}
    for o in reversed(past):
        if o.session is not None and occurrences.ends_at(o) <= instant:
            years.setdefault(o.date.year, []).append(o)
    return list(years.items())


def hero(moment: occurrences.Moment, site: Site, names: dict[str, str], instant) -> dict | None:
    """The live or next session as the first screen shows it, with the clock rule's state."""
    if moment.session is None:
        return None
    return {**session_view(moment.session, site, names, instant), "state": moment.state}


def page_context(schedule: Schedule, instant: dt.datetime, site: Site) -> dict:
    """Everything index.html shows, at the given instant and for the given site."""
    names = schedule.tag_names
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    coming = upcoming(schedule, instant)
    moment = occurrences.live_or_next(schedule, instant)
    weekly = [s for s in schedule.series if s.weekly and (s.ends is None or s.ends >= today)]
    feed = site.feed()
    return {
        "schedule": schedule,
        "page": schedule.page,
        "site": site,
        "weekly": [(s, when(s)) for s in weekly],
        "next": hero(moment, site, names, instant),
        "upcoming": [session_view(o, site, names, instant) for o in coming],
        "archive": [
            (year, [session_view(o, site, names, instant) for o in found])
            for year, found in archive(schedule, instant)
        ],
        "subscribe": subscribe_links(schedule.name, feed) if site.absolute else None,
        "reminders": reminder_links(site) if site.absolute else [],
        "feed": feed,
        "feeds": feed_list(schedule, site),
        "expanded": site.feed(FeedVariant(expanded=True)),
        "embed_snippet": embed_snippet(schedule, site),
        "fullcalendar_snippet": fullcalendar_snippet(site),
    }


def session_context(
    schedule: Schedule, occurrence: Occurrence, instant: dt.datetime, site: Site
) -> dict:
    """Everything session.html shows: one session, its preview tags and its Event data."""
    view = session_view(occurrence, site, schedule.tag_names, instant)
    summary = view["time"] if occurrence.all_day else f"{view['day']}, {view['time']}"
    if occurrence.cancelled:
        summary = f"Cancelled: {view['day']}" + (f" ({view['reason']})" if view["reason"] else "")
    return {
        "schedule": schedule,
        "site": site,
        "s": view,
        "description": f"{summary}. {schedule.name}.",
        "json_ld": json_ld(schedule, occurrence, view, site),
    }


def json_ld(schedule: Schedule, occurrence: Occurrence, view: dict, site: Site) -> Markup:
    """schema.org Event data for search engines and link previews, ready for a
    <script type="application/ld+json"> (the characters that could end it are escaped)."""
    if occurrence.all_day:
        start, end = (
            occurrence.start.isoformat(),
            (occurrence.end - dt.timedelta(days=1)).isoformat(),
        )
    else:
        start, end = occurrence.start.isoformat(), occurrence.end.isoformat()
    status = "EventScheduled"
    if occurrence.cancelled:
        status = "EventCancelled"
    elif occurrence.moved:
        status = "EventRescheduled"
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": occurrence.title,
        "startDate": start,
        "endDate": end,
        "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode",
        "eventStatus": f"https://schema.org/{status}",
        "location": {
            "@type": "VirtualLocation",
            # A cancelled week has no meeting to join: its page says what happened.
            "url": (None if occurrence.cancelled else occurrence.join) or view["page"],
        },
        "description": ical.description(occurrence),
        "organizer": {"@type": "Organization", "name": schedule.name, "url": site.page()},
        "isAccessibleForFree": True,
        "url": view["page"],
    }
    if occurrence.moved:
        data["previousStartDate"] = weekly_slot(occurrence).isoformat()
    speaker = occurrence.session.speaker if occurrence.session else None
    if speaker:
        data["performer"] = {"@type": "Person", "name": speaker}
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)


def weekly_slot(occurrence: Occurrence) -> dt.datetime:
    """The regular start of a moved weekly session, in its zone."""
    return occurrence.slot.replace(tzinfo=occurrence.series.zone)


def embed_snippet(schedule: Schedule, site: Site) -> str:
    title = escape(f"Upcoming sessions: {schedule.name}")  # the snippet is HTML itself
    return (
        f'<iframe src="{escape(site.embed())}" title="{title}" '
        f'width="320" height="420" style="border:0; max-width:100%"></iframe>'
    )


# FullCalendar and its iCalendar plugin, as published on npm (the versions the tests run).
FULLCALENDAR_SCRIPTS = (
    "https://cdn.jsdelivr.net/npm/ical.js@2.2.1/dist/ical.es5.min.cjs",
    "https://cdn.jsdelivr.net/npm/@fullcalendar/core@6.1.21/index.global.min.js",
    "https://cdn.jsdelivr.net/npm/@fullcalendar/daygrid@6.1.21/index.global.min.js",
    "https://cdn.jsdelivr.net/npm/@fullcalendar/icalendar@6.1.21/index.global.min.js",
)


def fullcalendar_snippet(site: Site) -> str:
    """A month calendar of the sessions for another site, right in every visitor's time zone
    as it stands: FullCalendar's iCalendar plugin passes a TZID time on as a wall-clock time,
    so it reads the expanded feed, whose times are UTC (docs/clients.md R37-R38). The feed's
    address is a path, not a query, so the snippet works on a static export too."""
    scripts = "".join(f'<script src="{src}"></script>\n' for src in FULLCALENDAR_SCRIPTS)
    feed = site.feed(FeedVariant(expanded=True))
    return (
        '<div id="meeting-calendar"></div>\n'
        + scripts
        + "<script>\n"
        + 'document.addEventListener("DOMContentLoaded", function () {\n'
        + '  var element = document.getElementById("meeting-calendar");\n'
        + "  new FullCalendar.Calendar(element, {\n"
        + '    initialView: "dayGridMonth",\n'
        + f'    events: {{ url: "{feed}", format: "ics" }},\n'
        + "  }).render();\n"
        + "});\n"
        + "</script>\n"
    )
