"""What every route shares: the published version, the clock, sending stored bytes, the
request parameters several routes take, and the routes for machines (/healthz, /robots.txt)
and plain-text errors. The routes themselves live in :mod:`feed.pages` (people),
:mod:`feed.api` (scripts and widgets) and :mod:`feed.feeds` (calendar apps)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import http, occurrences
from .occurrences import Occurrence
from .publish import SCHEMA_JSON, Document, Publisher, Version
from .schedule import FIRST_YEAR, LAST_YEAR, Schedule, Series

BUNDLED_SCHEDULE = Path(__file__).resolve().parent.parent / "schedule.yaml"

bp = Blueprint("web", __name__)

NEXT_DAYS = 366  # /next, /next.ics and /join look this far ahead
FRAMABLE = "pages.embed"  # the one page meant for other sites' iframes

# ASCII digits only: \d and str.isdigit() take other scripts' digits (and superscripts),
# which int() and date parsing then refuse with an exception.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"[0-9]{1,6}")


def flag(value) -> bool:
    """A yes/no setting: FEED_GZIP=0, false, no, off or empty is no."""
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


def publisher() -> Publisher:
    return current_app.extensions["feed.publisher"]


def now() -> dt.datetime:
    """The current instant: the only clock of the app. Config NOW (ISO 8601, e.g.
    FEED_NOW=2026-03-10T12:00:00Z) pins it for previews and tests."""
    pinned = current_app.config.get("NOW")
    if pinned:
        value = (
            pinned if isinstance(pinned, dt.datetime) else dt.datetime.fromisoformat(str(pinned))
        )
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def version() -> Version:
    """The version to serve, or 503 when no valid schedule was ever loaded."""
    found = publisher().current()
    if found is None:
        abort(503, "No valid schedule has been loaded yet; see /healthz for the problems.")
    return found


def send(document: Document, short_lived: bool = False) -> Response:
    """Serve stored bytes with validators: 304 when the client's copy is current.
    ``short_lived``: for answers that change as sessions pass (see :func:`feed.http.respond`)."""
    status, headers, body = http.respond(document, request.environ, current_app.config, short_lived)
    return Response(body, status=status, headers=headers)


def security_headers(response: Response) -> Response:
    """Added to every response Flask sends (the fast path adds the same list itself)."""
    # Plain assignments: nothing else sets these, and a lookup of an absent header costs an
    # exception in werkzeug.
    headers = response.headers
    for name, value in http.security_headers(framable=request.endpoint == FRAMABLE):
        headers[name] = value
    return response


# -- the edge: today, the public address ----------------------------------------------------------


def local_today(schedule: Schedule) -> dt.date:
    """Today where the meeting is (the calendar's time zone)."""
    return now().astimezone(ZoneInfo(schedule.timezone)).date()


# The public address: FEED_PUBLIC_URL (config PUBLIC_URL) for a deployment, else calendar.url.
# It is the only source of absolute links. Without it, a request made on this machine to a
# loopback name (development: `feed serve`, tests) gets links to where it was sent; any other
# request gets relative links and no subscribe buttons: a Host header is never reflected, since
# a cache in front of the app would serve the reflected page to everyone.
PUBLIC_URL_UNSET = (
    "the public address is not set, so pages and data files offer no absolute links "
    "(no subscribe buttons) except to requests from this machine; set calendar.url in "
    "schedule.yaml, or FEED_PUBLIC_URL=https://... for this deployment"
)
_LOOPBACK_HOST = re.compile(r"(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?", re.ASCII)
_LOOPBACK_ADDRESS = re.compile(r"(?:::ffff:)?127(?:\.\d{1,3}){3}|::1", re.ASCII)


@functools.lru_cache(maxsize=16)
def normal_public_url(value: str) -> str:
    """A public address as links are built from it: ``https://host[:port][/path]`` without a
    trailing slash. ValueError says what is wrong: links must be https (a feed must never
    redirect from http), and a query or fragment would end up in the middle of every link."""
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme != "https" or not host:
        raise ValueError(f"{text!r} is not an https address (write e.g. https://example.org)")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(f"{text!r} has a query or fragment; give only the address and path")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} holds a user name or password")
    if any(c.isspace() or ord(c) < 32 for c in text) or any(c in text for c in "\"'<>\\`"):
        raise ValueError(f"{text!r} holds spaces, quotes or angle brackets")
    return f"https://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def public_url_of(schedule: Schedule | None, override: str | None) -> str | None:
    """The configured public address (override: FEED_PUBLIC_URL, else calendar.url), or
    None. ValueError when the one that applies is not a usable address."""
    if override:
        return normal_public_url(override)
    if schedule is not None and schedule.url:
        return normal_public_url(schedule.url)
    return None


def public_url_problem(schedule: Schedule | None, override: str | None) -> str | None:
    """Why links cannot be absolute (for `feed check`, /healthz and the start-up log), or
    None when the public address is set."""
    try:
        found = public_url_of(schedule, override)
    except ValueError as error:
        which = "FEED_PUBLIC_URL" if override else "calendar.url"
        return f"{which}: {error}; {PUBLIC_URL_UNSET}"
    return None if found else PUBLIC_URL_UNSET


def public_address_health(current: Version | None) -> dict:
    """What /healthz says about the public address: the address, or why there is none."""
    schedule = current.schedule if current else None
    override = current_app.config.get("PUBLIC_URL")
    problem = public_url_problem(schedule, override)
    body: dict = {"public_url": None if problem else public_url_of(schedule, override)}
    if problem:
        body["public_url_problem"] = problem
    return body


def is_loopback_request() -> bool:
    """Sent from this machine to a loopback name: only then may links follow the request."""
    environ = request.environ
    return bool(
        _LOOPBACK_ADDRESS.fullmatch(environ.get("REMOTE_ADDR") or "")
        and _LOOPBACK_HOST.fullmatch(environ.get("HTTP_HOST") or "")
    )


def public_base(schedule: Schedule) -> str:
    """Where links point, without a trailing slash: the public address when it is set; for a
    loopback request without one, the address it was sent to; otherwise only the app's mount
    path ("" at the root), so links are relative (see :class:`feed.links.Site`).

    X-Forwarded-* headers and the Host header of other requests are never used."""
    try:
        found = public_url_of(schedule, current_app.config.get("PUBLIC_URL"))
    except ValueError:  # reported by /healthz and at start; links stay relative meanwhile
        found = None
    if found:
        return found
    if is_loopback_request():
        return f"{request.scheme}://{request.environ['HTTP_HOST']}{request.script_root}"
    return request.script_root


def since_midnight(current: Version, today: dt.date) -> dt.datetime:
    """Last-Modified of a document that changes with the date: the version or today's start,
    whichever is later, so If-Modified-Since never keeps yesterday's page."""
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=ZoneInfo(current.schedule.timezone))
    return max(current.last_modified, midnight.astimezone(dt.UTC))


def next_or_404(current: Version, need_join: bool = False) -> Occurrence:
    """The next session (see :func:`feed.occurrences.next_session`), or a 404 saying so."""
    found = occurrences.next_session(current.schedule, now(), need_join, NEXT_DAYS)
    if found is None:
        what = "with a join link " if need_join else ""
        abort(404, f"No upcoming session {what}in the next {NEXT_DAYS} days.")
    return found


# -- parameters several routes take ---------------------------------------------------------------


def known_series(schedule: Schedule) -> str:
    """The series ids, for messages that name the valid ones."""
    return ", ".join(s.id for s in schedule.series)


def series_or_404(schedule: Schedule, series_id: str) -> Series:
    series = schedule.get(series_id)
    if series is None:
        abort(404, f"No series {series_id!r}. Known series: {known_series(schedule)}.")
    return series


def session_or_404(schedule: Schedule, series_id: str, day: str) -> Occurrence:
    """The session a URL names by its series and the date of its regular slot."""
    series = series_or_404(schedule, series_id)
    date = parse_day("date", day)
    occurrence = occurrences.on(series, date)
    if occurrence is None:
        abort(
            404,
            f"No session of {series_id} on {date}. Sessions are named by the date of their "
            "regular slot; see /sessions.json for the list.",
        )
    return occurrence


def parse_day(name: str, raw: str) -> dt.date:
    if not _DAY.fullmatch(raw):
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
    if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= largest:
        abort(400, f"limit={raw!r} is not valid; use a whole number from 1 to {largest}.")
    return int(raw)


def parse_tag(schedule: Schedule, raw: str | None) -> str | None:
    if raw is not None and raw not in schedule.tag_names:
        known = ", ".join(schedule.tag_names) or "none are defined"
        abort(400, f"tag={raw!r} is not a known tag; known tags: {known}.")
    return raw


# -- routes for machines, and errors --------------------------------------------------------------


@bp.get("/healthz")
def healthz():
    """200 while a good version is served, "degraded" with the problems of a newer, broken
    schedule or of the stamps file (each with its fix); 503 only when no valid schedule was
    ever published. Without FEED_HEALTH_DETAILS, no file contents and no absolute paths
    (see feed.health)."""
    from .health import report

    status, body = report(publisher(), flag(current_app.config.get("HEALTH_DETAILS", False)))
    body.update(public_address_health(publisher().current()))  # tells who forgot to set it
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = http.NO_STORE
    return response


@bp.get("/robots.txt")
def robots():
    """Calendar fetchers (Google's among them) obey robots.txt: allow everything."""
    return Response(http.ROBOTS_TXT, content_type=http.PLAIN_TEXT)


@bp.get("/schedule.schema.json")
def schedule_schema():
    """The JSON Schema of schedule.yaml, for editors: a schedule kept elsewhere names it in its
    ``# yaml-language-server: $schema=<site>/schedule.schema.json`` line."""
    from .schedule.jsonschema import dumps

    current = version()

    def build() -> Document:
        body = dumps().encode()
        return Document(body, SCHEMA_JSON, current.last_modified)

    return send(current.document(("schema",), build))


@bp.app_errorhandler(HTTPException)
def plain_error(error: HTTPException):
    """Errors as one plain sentence: calendar clients and scripts show it as it is. Headers
    the error carries are kept: a 405 names the methods allowed (Allow, RFC 9110 §15.5.6)."""
    response = Response(
        f"{error.code} {error.name}: {error.description}\n",
        status=error.code,
        mimetype="text/plain",
    )
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
