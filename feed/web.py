"""The feed routes, and what every route shares: the published version, the clock, and
sending stored bytes with HTTP validators. Thin functions over the published version."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.http import parse_date

from . import ical
from .publish import Document, Publisher, Version

BUNDLED_SCHEDULE = Path(__file__).resolve().parent.parent / "schedule.yaml"

bp = Blueprint("feed", __name__)


def flag(value) -> bool:
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


def send(document: Document) -> Response:
    """Serve stored bytes with validators: 304 when the client's copy is current."""
    status, headers, body = respond(document, request.environ, current_app.config)
    return Response(body, status=status, headers=headers)


def respond(document: Document, environ: dict, config) -> tuple[int, list, bytes]:
    """Status, headers and body for a stored document, from the request's WSGI environ.

    Request headers are read from the environ: werkzeug's header lookup builds an exception
    for every absent header, which cost more than the rest of this function."""
    gzip_on = flag(config["GZIP"])
    use_gzip = gzip_on and _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    headers = [
        ("ETag", document.etag_gzip if use_gzip else document.etag),
        ("Last-Modified", document.last_modified_http),
        ("Cache-Control", _cache_control(config["MAX_AGE"], config["STALE_WHILE_REVALIDATE"])),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "ETag, Last-Modified"),
    ]
    if gzip_on:
        headers.append(("Vary", "Accept-Encoding"))
    if _not_modified(environ, document):
        # RFC 9110 §15.4.5: the ETag identifies what is current; no other metadata.
        return 304, [h for h in headers if h[0] != "Last-Modified"], b""
    headers.append(("Content-Type", document.content_type))
    if document.filename:
        headers.append(("Content-Disposition", f'inline; filename="{document.filename}"'))
    if use_gzip:
        headers.append(("Content-Encoding", "gzip"))
    return 200, headers, document.gzipped if use_gzip else document.body


SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]


class FeedFastPath:
    """WSGI middleware for the request every subscriber's client repeats forever: a plain
    GET or HEAD of a feed, answered from the published bytes without Flask's routing and
    response objects (which cost more than the rest of the request). The bytes and headers
    are the ones the Flask routes send, from the same :func:`respond`; anything else (a
    query, an unknown series, no schedule yet) goes on to Flask."""

    STATUS = {200: "200 OK", 304: "304 NOT MODIFIED"}  # as werkzeug words them

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if method in ("GET", "HEAD") and not environ.get("QUERY_STRING"):
            document = self._document(path)
            if document is not None:
                status, headers, body = respond(document, environ, self.app.config)
                headers += SECURITY_HEADERS
                if status == 200:
                    headers.append(("Content-Length", str(len(body))))
                start_response(self.STATUS[status], headers)
                return [body] if status == 200 and method == "GET" else []
        return self.wsgi_app(environ, start_response)

    def _document(self, path: str) -> Document | None:
        if path == "/calendar.ics":
            series = None
        elif path.startswith("/series/") and path.endswith(".ics"):
            series = path[len("/series/") : -len(".ics")]
        else:
            return None
        current = self.app.extensions["feed.publisher"].current()
        if current is None or (series is not None and current.schedule.get(series) is None):
            return None
        return current.feed(ical.Options(series=(series,) if series else None))


@functools.lru_cache(maxsize=8)
def _cache_control(max_age, stale_while_revalidate) -> str:
    return f"public, max-age={int(max_age)}, stale-while-revalidate={int(stale_while_revalidate)}"


def _accepts_gzip(header: str) -> bool:
    """True only when gzip is named with q > 0. Some calendar clients mishandle compressed
    feeds (CLIENTS.md R22), so a wildcard ``*`` is not taken as consent."""
    for part in header.lower().split(","):
        name, _, params = part.partition(";")
        if name.strip() in ("gzip", "x-gzip"):
            q = params.strip()
            return not (q.startswith("q=") and _float(q[2:]) == 0)
    return False


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def _not_modified(environ: dict, document: Document) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        base = document.etag.strip('"')
        for tag in if_none_match.split(","):
            tag = tag.strip().removeprefix("W/").strip('"')
            if tag in (base, base + "-gz"):
                return True
        return False
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        when = parse_date(since)
        if when is not None:  # a malformed date is ignored
            return document.last_modified.replace(microsecond=0) <= when
    return False


def security_headers(response: Response) -> Response:
    # Plain assignments: nothing else sets these, and a lookup of an absent header costs an
    # exception in werkzeug, on the hottest path of the app.
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "site.embed":  # the one page meant for other sites' iframes
        headers["X-Frame-Options"] = "DENY"
    return response


EXPAND_PAST = dt.timedelta(days=31)
EXPAND_FUTURE = dt.timedelta(days=366)


def feed_options(current: Version, series_ids: tuple[str, ...] | None) -> ical.Options:
    """Options for a feed request; a bad value is a 400 naming the valid ones."""
    if not request.query_string:  # what every subscribed client asks for
        return ical.Options(series=series_ids)
    cancelled = request.args.get("cancelled", "hide")
    if cancelled not in ("hide", "show"):
        abort(400, f"cancelled={cancelled!r} is not valid; use cancelled=show or cancelled=hide.")
    tag = request.args.get("tag")
    if tag is not None and tag not in current.schedule.tag_names:
        known = ", ".join(current.schedule.tag_names) or "none are defined"
        abort(400, f"tag={tag!r} is not a known tag; known tags: {known}.")
    expand = request.args.get("expand")
    window = None
    if expand is not None:
        if expand != "utc":
            abort(400, f"expand={expand!r} is not valid; use expand=utc.")
        # A bounded window around today: expanded feeds are for widgets, not for subscribing.
        today = now().date()
        window = (today - EXPAND_PAST, today + EXPAND_FUTURE)
    return ical.Options(
        series=series_ids, show_cancelled=cancelled == "show", tag=tag, expand=window
    )


@bp.get("/calendar.ics")
def calendar():
    """Every series in one feed: the address people subscribe to."""
    current = version()
    return send(current.feed(feed_options(current, None)))


@bp.get("/series/<series_id>.ics")
def series_feed(series_id: str):
    """One series' feed (e.g. only the weekly meeting, or only the events of interest)."""
    current = version()
    if current.schedule.get(series_id) is None:
        known = ", ".join(s.id for s in current.schedule.series)
        abort(404, f"No series {series_id!r}. Known series: {known}.")
    return send(current.feed(feed_options(current, (series_id,))))


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
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/robots.txt")
def robots():
    """Calendar fetchers (Google's among them) obey robots.txt: allow everything."""
    return Response("User-agent: *\nAllow: /\n", mimetype="text/plain")


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
