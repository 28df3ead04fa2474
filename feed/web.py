"""What every route shares: the published version, the clock, sending stored bytes, the
request parameters several routes take, and the routes for machines (/healthz, /robots.txt)
and plain-text errors. The routes themselves live in :mod:`feed.pages` (people),
:mod:`feed.api` (scripts and widgets) and :mod:`feed.feeds` (calendar apps)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, jsonify, request

from . import http, occurrences
from .occurrences import Occurrence
from .publish import Document, Publisher, Version
from .schedule import FIRST_YEAR, LAST_YEAR, Schedule, Series

BUNDLED_SCHEDULE = Path(__file__).resolve().parent.parent / "schedule.yaml"

bp = Blueprint("web", __name__)

NEXT_DAYS = 366  # /next, /next.ics and /join look this far ahead
FRAMABLE = "pages.embed"  # the one page meant for other sites' iframes

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def public_base(schedule: Schedule) -> str:
    """The public URL without a trailing slash: calendar.url if set, else the request's host.

    X-Forwarded-* headers are not trusted: behind a proxy, set calendar.url in schedule.yaml."""
    return (schedule.url or request.host_url).rstrip("/")


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


def parse_tag(schedule: Schedule, raw: str | None) -> str | None:
    if raw is not None and raw not in schedule.tag_names:
        known = ", ".join(schedule.tag_names) or "none are defined"
        abort(400, f"tag={raw!r} is not a known tag; known tags: {known}.")
    return raw


# -- routes for machines, and errors --------------------------------------------------------------


@bp.get("/healthz")
def healthz():
    """200 while a good version is served (listing problems of a newer, broken file, if any);
    503 only when no valid schedule was ever loaded."""
    pub = publisher()
    current = pub.current()
    problems = [str(p) for p in pub.problems]
    body = {
        "status": "ok" if current and not problems else ("degraded" if current else "failing"),
        "schedule": str(pub.path),
        "problems": problems,
        "warnings": [str(p) for p in current.warnings] if current else [],
    }
    if current:
        body["version"] = current.source_digest[:12]
        body["last_modified"] = current.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = jsonify(body)
    response.status_code = 200 if current else 503
    response.headers["Cache-Control"] = http.NO_STORE
    return response


@bp.get("/robots.txt")
def robots():
    """Calendar fetchers (Google's among them) obey robots.txt: allow everything."""
    return Response(http.ROBOTS_TXT, content_type=http.PLAIN_TEXT)


@bp.app_errorhandler(400)
@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
@bp.app_errorhandler(503)
def plain_error(error):
    """Errors as one plain sentence: calendar clients and scripts show it as it is."""
    return Response(
        f"{error.code} {error.name}: {error.description}\n",
        status=error.code,
        mimetype="text/plain",
    )
