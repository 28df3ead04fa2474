"""The Flask app: thin routes over the bytes of the published version."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from flask import Blueprint, Flask, Request, Response, abort, current_app, jsonify, request
from werkzeug.http import parse_date

from . import ical
from .publish import Document, Publisher, Version

BUNDLED_SCHEDULE = Path(__file__).resolve().parent.parent / "schedule.yaml"

bp = Blueprint("feed", __name__)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app. Settings come from defaults, then FEED_* environment variables
    (e.g. FEED_SCHEDULE=/srv/schedule.yaml, FEED_MAX_AGE=3600), then test_config."""
    app = Flask(__name__)
    app.config.from_mapping(
        SCHEDULE=str(BUNDLED_SCHEDULE),
        STAMPS=None,  # default: schedule.stamps.json beside the schedule
        WRITE_STAMPS=True,  # False for read-only deployments (stamps are kept in memory)
        SETTLE_SECONDS=1.0,  # a changed file must be still this long before it is read
        CHECK_INTERVAL=1.0,  # look at the file at most this often
        MAX_AGE=3600,  # Cache-Control max-age for feeds, in seconds
        STALE_WHILE_REVALIDATE=86400,
        GZIP=True,  # some calendar clients have failed on compressed feeds: allow turning off
    )
    app.config.from_prefixed_env("FEED")
    if test_config:
        app.config.update(test_config)
    for name in ("MAX_AGE", "STALE_WHILE_REVALIDATE", "SETTLE_SECONDS", "CHECK_INTERVAL"):
        # Fail at start with the setting's name, not with a 500 on every request.
        try:
            if float(app.config[name]) < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(
                f"FEED_{name}={app.config[name]!r} is not a number of seconds (0 or more)"
            ) from None
    app.extensions["feed.publisher"] = Publisher(
        app.config["SCHEDULE"],
        stamps_path=app.config["STAMPS"],
        settle=float(app.config["SETTLE_SECONDS"]),
        interval=float(app.config["CHECK_INTERVAL"]),
        write_stamps=_flag(app.config["WRITE_STAMPS"]),
    )
    app.register_blueprint(bp)
    from . import site  # imports this module: register it once both exist

    app.register_blueprint(site.bp)
    app.after_request(_security_headers)
    return app


def _flag(value) -> bool:
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


def send(document: Document, req: Request | None = None) -> Response:
    """Serve stored bytes with validators: 304 when the client's copy is current.

    Request headers are read from the WSGI environ: werkzeug's header lookup builds an
    exception for every absent header, which cost more than the rest of this function.
    """
    req = req or request
    config = current_app.config
    gzip_on = _flag(config["GZIP"])
    use_gzip = gzip_on and _accepts_gzip(req.environ.get("HTTP_ACCEPT_ENCODING", ""))
    headers = [
        ("ETag", document.etag_gzip if use_gzip else document.etag),
        ("Last-Modified", document.last_modified_http),
        ("Cache-Control", _cache_control(config["MAX_AGE"], config["STALE_WHILE_REVALIDATE"])),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "ETag, Last-Modified"),
    ]
    if gzip_on:
        headers.append(("Vary", "Accept-Encoding"))
    if _not_modified(req, document):
        return Response(status=304, headers=headers)
    headers.append(("Content-Type", document.content_type))
    if document.filename:
        headers.append(("Content-Disposition", f'inline; filename="{document.filename}"'))
    if use_gzip:
        headers.append(("Content-Encoding", "gzip"))
    return Response(document.gzipped if use_gzip else document.body, status=200, headers=headers)


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


def _not_modified(req: Request, document: Document) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = req.environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        base = document.etag.strip('"')
        for tag in if_none_match.split(","):
            tag = tag.strip().removeprefix("W/").strip('"')
            if tag in (base, base + "-gz"):
                return True
        return False
    since = req.environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        when = parse_date(since)
        if when is not None:  # a malformed date is ignored
            return document.last_modified.replace(microsecond=0) <= when
    return False


def _security_headers(response: Response) -> Response:
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
