"""What the page and the widget show: plain functions of (schedule, date, base URL) that
build the templates' values. No request, no clock: the routes in :mod:`feed.pages` pass both."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from markupsafe import escape

from . import ical, jsonfeed, occurrences
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
EMBED_DEFAULT = 5  # sessions the widget shows unless asked for another number
GOOGLE_DETAILS_MAX = 1500  # long URLs fail in some browsers; the .ics link has everything


def zone_label(name: str) -> str:
    return ZONE_LABELS.get(name, name)


def feed_url(base: str) -> str:
    return base + "/calendar.ics"


def subscribe_links(name: str, feed: str) -> dict[str, str]:
    """Subscribe addresses per client (docs/clients.md R26). Google wants webcal:// in cid."""
    webcal = "webcal://" + feed.split("://", 1)[1]
    add_from_web = urlencode({"url": feed, "name": name}, quote_via=quote)
    return {
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?" + add_from_web,
        "office": "https://outlook.office.com/calendar/0/addfromweb?" + add_from_web,
        "https": feed,
    }


def google_add_link(occurrence: Occurrence) -> str:
    """Google Calendar's "add this event" template link, times in UTC."""
    if occurrence.all_day:
        dates = f"{occurrence.start:%Y%m%d}/{occurrence.end:%Y%m%d}"
    else:
        start, end = (t.astimezone(dt.UTC) for t in (occurrence.start, occurrence.end))
        dates = f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    params = {"action": "TEMPLATE", "text": occurrence.title, "dates": dates}
    details = ical.description(occurrence)
    if len(details) > GOOGLE_DETAILS_MAX:
        details = details[: GOOGLE_DETAILS_MAX - 1] + "…"
    params["details"] = details
    if occurrence.join:
        params["location"] = occurrence.join
    # safe="/" keeps dates as start/end, the form Google documents; other values have none.
    query = urlencode(params, safe="/", quote_via=quote)
    return "https://calendar.google.com/calendar/render?" + query


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def when(series: Series) -> str:
    """'Tuesdays 11:00 Pacific' for a weekly series."""
    return f"{WEEKDAYS[series.weekday].title()}s {series.at:%H:%M} {zone_label(series.timezone)}"


def session_view(occurrence: Occurrence, base: str, names: dict[str, str]) -> dict:
    """What the templates show for one occurrence (all text is escaped by the templates)."""
    entry = occurrence.session
    label = zone_label(occurrence.series.timezone)
    if occurrence.all_day:
        last = occurrence.end - dt.timedelta(days=1)
        day = long_date(occurrence.start)
        time = "all day" if last == occurrence.start else f"until {long_date(last)}"
        utc = None
    else:
        day = long_date(occurrence.date)
        time = f"{occurrence.start:%H:%M}–{occurrence.end:%H:%M} {label}"
        utc = occurrence.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "key": occurrence.key,
        "id": "s-" + occurrence.key.replace("/", "-"),
        "series": occurrence.series,
        "weekly": occurrence.series.weekly,
        "date": occurrence.date.isoformat(),
        "day": day,
        "short_day": f"{occurrence.date:%a} {occurrence.date.day} {occurrence.date:%b}",
        "time": time,
        "utc": utc,
        "zone": occurrence.series.timezone,
        "topic": occurrence.topic,
        "title": occurrence.title,
        "agenda": entry.agenda if entry else (),
        "notes": entry.notes if entry else (),
        **details(entry),
        "tags": [names.get(t, t) for t in occurrence.tags],
        "cancelled": occurrence.cancelled,
        "reason": entry.reason if entry else None,
        "moved_from": long_date(occurrence.slot.date()) if occurrence.moved else None,
        "join": occurrence.join,
        "ics": jsonfeed.session_path(occurrence),
        "google": google_add_link(occurrence),
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


def upcoming(schedule: Schedule, today: dt.date) -> list[Occurrence]:
    """Sessions from today on: the next few weeks, plus every later one the organizers wrote
    something for (up to a year ahead)."""
    found = occurrences.between(schedule, today, today + dt.timedelta(days=UPCOMING_DAYS))
    return [o for i, o in enumerate(found) if i < UPCOMING_PLAIN or o.session is not None]


def embedded(schedule: Schedule, today: dt.date, base: str, limit: int) -> dict:
    """Everything embed.html shows: the next ``limit`` sessions from today, compact."""
    names = schedule.tag_names
    found = occurrences.between(schedule, today, today + dt.timedelta(days=UPCOMING_DAYS))
    return {
        "schedule": schedule,
        "sessions": [session_view(o, base, names) for o in found[:limit]],
        "base": base,
    }


def archive(schedule: Schedule, today: dt.date) -> list[tuple[int, list[Occurrence]]]:
    """Past sessions with something written about them, by year, most recent first."""
    dates = [s.date for series in schedule.series for s in series.sessions]
    dates += [s.starts for s in schedule.series if s.starts]
    if not dates:
        return []
    past = occurrences.between(schedule, min(dates), today - dt.timedelta(days=1))
    years: dict[int, list[Occurrence]] = {}
    for o in reversed(past):
        if o.session is not None:
            years.setdefault(o.date.year, []).append(o)
    return list(years.items())


def page_context(schedule: Schedule, today: dt.date, base: str) -> dict:
    """Everything index.html shows, for the given date and public base URL."""
    names = schedule.tag_names
    coming = upcoming(schedule, today)
    following = next((o for o in coming if not o.cancelled), None)
    weekly = [s for s in schedule.series if s.weekly and (s.ends is None or s.ends >= today)]
    feed = feed_url(base)
    return {
        "schedule": schedule,
        "page": schedule.page,
        "weekly": [(s, when(s)) for s in weekly],
        "next": session_view(following, base, names) if following else None,
        "upcoming": [session_view(o, base, names) for o in coming],
        "archive": [
            (year, [session_view(o, base, names) for o in found])
            for year, found in archive(schedule, today)
        ],
        "subscribe": subscribe_links(schedule.name, feed),
        "series_feeds": [(s, f"{base}/series/{s.id}.ics") for s in schedule.series],
        "tag_feeds": [(label, f"{feed}?tag={quote(tag)}") for tag, label in schedule.tags],
        "base": base,
        "embed_snippet": embed_snippet(schedule, base),
    }


def embed_snippet(schedule: Schedule, base: str) -> str:
    title = escape(f"Upcoming sessions: {schedule.name}")  # the snippet is HTML itself
    return (
        f'<iframe src="{base}/embed?limit={EMBED_DEFAULT}" title="{title}" '
        f'width="320" height="420" style="border:0; max-width:100%"></iframe>'
    )
