"""Pages and small JSON routes for attendees and other sites: the meeting's page, per-session
files, /sessions.json, /next, /join and an embeddable widget.

Everything that depends on "today" gets the date from :func:`now` here, at the edge; the page
and JSON builders below are plain functions of (schedule, date, base URL). Rendered bytes are
cached in the published version, keyed by what they depend on, so each renders once per day.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import segno
from flask import Blueprint, Response, abort, redirect, render_template, request
from markupsafe import escape

from . import ical, jsonfeed, occurrences
from .occurrences import Occurrence
from .publish import HTML, ICS, JSON, Document, Version
from .schedule import WEEKDAYS, Schedule, Series
from .web import now, send, version

bp = Blueprint("site", __name__)

# Names people use for a zone; anything else is shown by its IANA name.
ZONE_LABELS = {
    "America/Los_Angeles": "Pacific",
    "America/Denver": "Mountain",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
}
UPCOMING_DAYS = 366  # the page lists dated sessions this far ahead
UPCOMING_PLAIN = 6  # ... and at least this many weeks, with or without a topic
MAX_SPAN_DAYS = 3 * 366  # /sessions.json: at most about three years per request
DEFAULT_SPAN_DAYS = 365
MAX_LIMIT = 500
EMBED_DEFAULT, EMBED_MAX = 5, 20
FIRST_YEAR, LAST_YEAR = 1970, 2200  # the years schedule.yaml accepts
GOOGLE_DETAILS_MAX = 1500  # long URLs fail in some browsers; the .ics link has everything
JSON_PARAMS = ("from", "to", "series", "tag", "limit")

# No inline script or style anywhere: every asset is a file served by this app.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- the edge: clock, base URL, responses ---------------------------------------------------------


def local_today(schedule: Schedule) -> dt.date:
    """Today where the meeting is (the calendar's time zone)."""
    return now().astimezone(ZoneInfo(schedule.timezone)).date()


def public_base(schedule: Schedule) -> str:
    """The public URL without a trailing slash: calendar.url if set, else the request's host.

    X-Forwarded-* headers are not trusted: behind a proxy, set calendar.url in schedule.yaml."""
    return (schedule.url or request.host_url).rstrip("/")


def since_midnight(current: Version, today: dt.date) -> dt.datetime:
    """Last-Modified of a document that changes with the date: the version or today's start,
    whichever is later, so If-Modified-Since never keeps yesterday's page."""
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=ZoneInfo(current.schedule.timezone))
    return max(current.last_modified, midnight.astimezone(dt.UTC))


def html(document: Document, framable: bool = False) -> Response:
    response = send(document)
    response.headers["Content-Security-Policy"] = EMBED_CSP if framable else CSP
    return response


def short_lived(response: Response) -> Response:
    """For answers that change when a session ends, not only when the schedule changes:
    revalidate by ETag, and drop Last-Modified, which could wrongly match an older answer."""
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers.pop("Last-Modified", None)
    return response


# -- pure helpers ----------------------------------------------------------------------------------


def zone_label(name: str) -> str:
    return ZONE_LABELS.get(name, name)


def feed_url(base: str) -> str:
    return base + "/calendar.ics"


def subscribe_links(name: str, feed: str) -> dict[str, str]:
    """Subscribe addresses per client (CLIENTS.md R26). Google wants webcal:// inside cid."""
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
        "speaker": entry.speaker if entry else None,
        "url": entry.url if entry else None,
        "recording": entry.recording if entry else None,
        "tags": [names.get(t, t) for t in occurrence.tags],
        "cancelled": occurrence.cancelled,
        "reason": entry.reason if entry else None,
        "moved_from": long_date(occurrence.slot.date()) if occurrence.moved else None,
        "join": occurrence.join,
        "ics": jsonfeed.session_path(occurrence),
        "google": google_add_link(occurrence),
    }


def upcoming(schedule: Schedule, today: dt.date) -> list[Occurrence]:
    """Sessions from today on: the next few weeks, plus every later one the organizers wrote
    something for (up to a year ahead)."""
    found = occurrences.between(schedule, today, today + dt.timedelta(days=UPCOMING_DAYS))
    return [o for i, o in enumerate(found) if i < UPCOMING_PLAIN or o.session is not None]


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


def qr_svg(text: str) -> bytes:
    """A QR code as a small SVG image (no script, no external references)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, light="#fff"
    )
    return out.getvalue()


def next_session(schedule: Schedule, instant: dt.datetime, need_join: bool = False):
    """The first session not cancelled that has not ended yet (so a running one counts)."""
    today = instant.astimezone(ZoneInfo(schedule.timezone)).date()
    found = occurrences.between(
        schedule, today - dt.timedelta(days=1), today + dt.timedelta(days=UPCOMING_DAYS)
    )
    for occurrence in found:
        if occurrence.cancelled or (need_join and not occurrence.join):
            continue
        end = occurrence.end
        if not isinstance(end, dt.datetime):
            end = dt.datetime.combine(end, dt.time(), tzinfo=occurrence.series.zone)
        if end > instant:
            return occurrence
    return None


def find_occurrence(series: Series, day: dt.date) -> Occurrence | None:
    """The occurrence keyed by day: a regular slot of a weekly series, or a one-off's date."""
    if series.weekly:
        if day in occurrences.slots(series, day, day):
            return occurrences.weekly(series, day)
        return None
    entry = series.session(day)
    return occurrences.one_off(series, entry) if entry else None


# -- parameters ------------------------------------------------------------------------------------


def parse_day(name: str, raw: str) -> dt.date:
    if not _DAY.match(raw):
        abort(400, f"{name}={raw!r} is not a date; use {name}=YYYY-MM-DD, e.g. 2026-03-10.")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name}={raw!r} is not a valid date; check the month and day.")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        abort(400, f"{name}={raw!r} is out of range; use a year from {FIRST_YEAR} to {LAST_YEAR}.")
    return day


def parse_limit(raw: str | None, default: int, largest: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        abort(400, f"limit={raw!r} is not valid; use a whole number from 1 to {largest}.")
    return int(raw)


def parse_series(schedule: Schedule, values: list[str]) -> tuple[str, ...] | None:
    ids = [i for v in values for i in v.split(",")]
    if not ids:
        return None
    known = [s.id for s in schedule.series]
    for sid in ids:
        if sid not in known:
            abort(400, f"series={sid!r} is not a known series; known series: {', '.join(known)}.")
    return tuple(dict.fromkeys(ids))


def parse_tag(schedule: Schedule, raw: str | None) -> str | None:
    if raw is not None and raw not in schedule.tag_names:
        known = ", ".join(schedule.tag_names) or "none are defined"
        abort(400, f"tag={raw!r} is not a known tag; known tags: {known}.")
    return raw


# -- routes ----------------------------------------------------------------------------------------


@bp.get("/")
def index():
    """The meeting's page: when, how to join and subscribe, what is coming, what happened."""
    current = version()
    schedule = current.schedule
    today = local_today(schedule)
    base = public_base(schedule)

    def build() -> Document:
        body = render_template("index.html", **page_context(schedule, today, base))
        return Document(body.encode(), HTML, since_midnight(current, today))

    return html(current.document(("page", today, base), build))


@bp.get("/embed")
def embed():
    """The upcoming sessions, compact, for other sites' iframes (the only framable page)."""
    current = version()
    schedule = current.schedule
    limit = parse_limit(request.args.get("limit"), EMBED_DEFAULT, EMBED_MAX)
    today = local_today(schedule)
    base = public_base(schedule)

    def build() -> Document:
        names = schedule.tag_names
        found = occurrences.between(schedule, today, today + dt.timedelta(days=UPCOMING_DAYS))
        body = render_template(
            "embed.html",
            schedule=schedule,
            sessions=[session_view(o, base, names) for o in found[:limit]],
            base=base,
        )
        return Document(body.encode(), HTML, since_midnight(current, today))

    return html(current.document(("embed", today, base, limit), build), framable=True)


@bp.get("/qr.svg")
def qr():
    """A QR code of the feed's address, for the page (phones scan it to subscribe)."""
    current = version()
    feed = feed_url(public_base(current.schedule))

    def build() -> Document:
        return Document(qr_svg(feed), "image/svg+xml", current.last_modified)

    return send(current.document(("qr", feed), build))


@bp.get("/sessions/<series_id>/<day>.ics")
def session_ics(series_id: str, day: str):
    """One session as its own .ics file, for people who add single sessions."""
    current = version()
    schedule = current.schedule
    series = schedule.get(series_id)
    if series is None:
        known = ", ".join(s.id for s in schedule.series)
        abort(404, f"No series {series_id!r}. Known series: {known}.")
    date = parse_day("date", day)
    occurrence = find_occurrence(series, date)
    if occurrence is None:
        abort(
            404,
            f"No session of {series_id} on {date}. Sessions are named by the date of their "
            "regular slot; see /sessions.json for the list.",
        )

    def build() -> Document:
        body = ical.render_occurrence(schedule, current.stamps, occurrence)
        key = ical.source_key(schedule, occurrence)
        stamp = current.stamps.get(key) or current.stamps.get(key.split("/")[0])
        modified = stamp.modified if stamp else current.last_modified
        return Document(body, ICS, modified, f"{series_id}-{date}.ics")

    if occurrence.session is None:  # a plain week: cheap to render, not worth keeping
        return send(build())
    return send(current.document(("session.ics", occurrence.key), build))


@bp.get("/sessions.json")
def sessions_json():
    """Expanded sessions as JSON; see the README for the parameters."""
    current = version()
    schedule = current.schedule
    args = request.args
    for name in args:
        if name not in JSON_PARAMS:
            abort(400, f"Unknown parameter {name!r}; use from, to, series, tag or limit.")
    today = local_today(schedule)
    first = parse_day("from", args["from"]) if "from" in args else today
    if "to" in args:
        last = parse_day("to", args["to"])
    else:
        last = first + dt.timedelta(days=DEFAULT_SPAN_DAYS)
    if last < first:
        abort(400, f"to={last} is before from={first}.")
    if (last - first).days > MAX_SPAN_DAYS:
        abort(
            400,
            f"from={first} to={last} is more than {MAX_SPAN_DAYS} days (3 years); "
            "ask for a shorter range.",
        )
    series_ids = parse_series(schedule, args.getlist("series"))
    tag = parse_tag(schedule, args.get("tag"))
    limit = parse_limit(args.get("limit"), MAX_LIMIT, MAX_LIMIT)
    base = public_base(schedule)

    def build() -> Document:
        found = occurrences.between(schedule, first, last, series_ids)
        if tag is not None:
            found = [o for o in found if tag in o.tags]
        query = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "series": list(series_ids) if series_ids else None,
            "tag": tag,
        }
        body = jsonfeed.render(schedule, found, base, query, limit)
        dated = "from" not in args  # "from" defaults to today
        modified = since_midnight(current, today) if dated else current.last_modified
        return Document(body, JSON, modified, "sessions.json")

    if not args:  # the default form is what widgets ask for; other forms vary too much
        return send(current.document(("sessions.json", today, base), build))
    return send(build())


def _next_or_404(current: Version, need_join: bool = False) -> Occurrence:
    found = next_session(current.schedule, now(), need_join)
    if found is None:
        what = "with a join link " if need_join else ""
        abort(404, f"No upcoming session {what}in the next {UPCOMING_DAYS} days.")
    return found


@bp.get("/next")
@bp.get("/next.json")
def next_json():
    """The next session that is not cancelled (a running one counts until it ends)."""
    current = version()
    found = _next_or_404(current)
    base = public_base(current.schedule)

    def build() -> Document:
        body = jsonfeed.render_one(current.schedule, found, base)
        return Document(body, JSON, current.last_modified)

    return short_lived(send(current.document(("next.json", found.key, base), build)))


@bp.get("/next.ics")
def next_ics():
    """The next session as an .ics file."""
    current = version()
    found = _next_or_404(current)

    def build() -> Document:
        body = ical.render_occurrence(current.schedule, current.stamps, found)
        return Document(body, ICS, current.last_modified, "next.ics")

    return short_lived(send(current.document(("next.ics", found.key), build)))


@bp.get("/join")
def join():
    """A stable short link to the next session's join link, for chat topics and slides."""
    found = _next_or_404(version(), need_join=True)
    response = redirect(found.join, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response
