"""What people look at: the meeting's page, the widget other sites embed, a page per session,
the QR code that subscribes, and the feed variants by the file names a static export gives them.

Everything that depends on the clock gets the instant from :func:`feed.web.now`, at the edge;
the templates' values come from the plain functions of :mod:`feed.views`. One clock rule holds
everywhere (:func:`feed.occurrences.live_or_next`): a session is live from its start to its end,
then the next one is next. Rendered bytes are cached in the published version, keyed by the
span of time in which they stay right, and browsers and caches may keep them until that span
ends. The key holds the site's base, which is the public address, a loopback address or a mount
path: never a Host header from elsewhere, so other hosts neither get their name reflected nor
fill the cache.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request

from . import http, ical, occurrences
from .feeds import expand_window
from .links import EMBED_DEFAULT, FeedVariant, Site, webcal
from .plan import ALARMS
from .publish import HTML, Document
from .views import EMBED_MAX, embedded, page_context, session_context
from .web import (
    NEXT_DAYS,
    normal_public_url,
    now,
    parse_limit,
    public_base,
    public_url_problem,
    send,
    series_or_404,
    session_or_404,
    version,
)

THEMES = ("auto", "light", "dark")  # the widget's ?theme=: follow the visitor, or the host site

bp = Blueprint("pages", __name__)


@bp.record_once
def check_public_address(state) -> None:
    """At start: a bad FEED_PUBLIC_URL stops the app with its reason; a missing public
    address is logged, so the operator who forgot it reads why there are no subscribe links."""
    app = state.app
    override = app.config.get("PUBLIC_URL")
    if override:
        try:
            normal_public_url(override)
        except ValueError as error:
            raise ValueError(f"FEED_PUBLIC_URL: {error}") from None
    current = app.extensions["feed.publisher"].current()
    problem = public_url_problem(current.schedule if current else None, override)
    if problem:
        app.logger.warning("feed: %s", problem)


def site() -> Site:
    """Where this request's links point; STATIC_EXPORT is set by `feed build`."""
    static = bool(current_app.config.get("STATIC_EXPORT"))
    return Site(public_base(version().schedule), static=static)


def html(document: Document, framable: bool = False) -> Response:
    response = send(document)
    response.headers["Content-Security-Policy"] = http.csp(framable)
    return response


def fresh_until(
    response: Response, instant: dt.datetime, until: dt.datetime | None, longest: int | None = None
) -> Response:
    """Let browsers and caches keep an answer that follows the clock until it changes, and no
    longer than ``longest`` seconds (default: the usual lifetime, MAX_AGE). No
    stale-while-revalidate: a stale copy would show a session as next after it started. A
    static export's files get ``longest`` itself: their pages follow the clock in the browser,
    and the build's clock says nothing about when they are read."""
    seconds = int(current_app.config["MAX_AGE"]) if longest is None else longest
    if until is not None and not current_app.config.get("STATIC_EXPORT"):
        seconds = min(seconds, max(0, math.ceil((until - instant).total_seconds())))
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    return response


# /next and join.html: their subject changes when a session ends, and a static export's copy
# when the site is rebuilt, so they are kept a minute at most (as http.SHORT_LIVED says).
SHORT_SECONDS = 60


def qr_svg(text: str) -> bytes:
    """A QR code as a small SVG image (no script, no external references), with the quiet
    zone of 4 modules the QR standard asks for: with less, some phones do not find the code."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=4, border=4, xmldecl=False, light="#fff"
    )
    return out.getvalue()


def dated(current, instant: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(start of its span, Last-Modified, end of the span) of a page that follows the clock:
    it changed when its span began (or when the schedule did, if later), and changes when the
    span ends. The start names the span in cache keys."""
    since, until = occurrences.clock_span(current.schedule, instant)
    return since, max(current.last_modified, since.astimezone(dt.UTC)), until


@bp.get("/")
def index():
    """The meeting's page: the live or next session, how to join and subscribe, what is
    coming, what happened."""
    current = version()
    schedule = current.schedule
    instant = now()
    span, modified, until = dated(current, instant)
    where = site()

    def build() -> Document:
        body = render_template("index.html", **page_context(schedule, instant, where))
        return Document(body.encode(), HTML, modified)

    return fresh_until(html(current.document(("page", span, where), build)), instant, until)


def parse_theme(raw: str | None) -> str:
    if raw is None:
        return "auto"
    if raw not in THEMES:
        abort(400, f"theme={raw!r} is not valid; use theme=light, theme=dark or theme=auto.")
    return raw


@bp.get("/embed")
def embed():
    """The upcoming sessions, compact, for other sites' iframes (the only framable page).
    ``?theme=light`` or ``dark`` matches the host site; ``auto`` follows the visitor."""
    current = version()
    schedule = current.schedule
    limit = parse_limit(request.args.get("limit"), EMBED_DEFAULT, EMBED_MAX)
    theme = parse_theme(request.args.get("theme"))
    instant = now()
    span, modified, until = dated(current, instant)
    where = site()

    def build() -> Document:
        context = embedded(schedule, instant, where, limit)
        body = render_template("embed.html", theme=theme, **context)
        return Document(body.encode(), HTML, modified)

    document = current.document(("embed", span, where, limit, theme), build)
    return fresh_until(html(document, framable=True), instant, until)


@bp.get("/sessions/<series_id>/<day>")
def session_page(series_id: str, day: str):
    """One session's page, to share: its time in the visitor's zone, agenda, join link while
    it matters, recording and slides, "add to calendar", link-preview tags and schema.org
    Event data. ``<day>.html`` is the same page by the name a static export gives it."""
    current = version()
    schedule = current.schedule
    occurrence = session_or_404(schedule, series_id, day.removesuffix(".html"))
    instant = now()
    start, end = occurrences.starts_at(occurrence), occurrences.ends_at(occurrence)
    phase = "before" if instant < start else "live" if instant < end else "over"
    until = start if phase == "before" else end if phase == "live" else None
    where = site()

    def build() -> Document:
        body = render_template(
            "session.html", **session_context(schedule, occurrence, instant, where)
        )
        return Document(body.encode(), HTML, current.last_modified)

    document = current.document(("session", occurrence.key, phase, where), build)
    return fresh_until(html(document), instant, until)


@bp.get("/join.html")
def join_page():
    """A page that sends the visitor on to the live or next session's join link: /join as a
    file, for static exports (whose hosts cannot redirect by the clock) and chats that want a
    page."""
    current = version()
    schedule = current.schedule
    instant = now()
    where = site()
    moment = occurrences.live_or_next(schedule, instant, True, NEXT_DAYS)
    join = moment.session.join if moment.session else None

    def build() -> Document:
        body = render_template("join.html", schedule=schedule, site=where, join=join)
        return Document(body.encode(), HTML, current.last_modified)

    page = current.document(("join.html", join, where), build)
    response = html(page)
    response.headers.pop("Last-Modified", None)  # the next session changes; the ETag tells
    return fresh_until(response, instant, moment.until, SHORT_SECONDS)


# The page's own assets, compressed like every other document (Flask's static files are not):
# most of the page's weight over the wire.
ASSETS = {
    "site.js": "text/javascript; charset=utf-8",
    "site.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@bp.get("/static/site.js")
@bp.get("/static/site.css")
@bp.get("/static/icon.svg")
def asset():
    name = request.path.rsplit("/", 1)[1]
    path = Path(current_app.static_folder) / name

    def build() -> Document:
        modified = dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.UTC)
        return Document(path.read_bytes(), ASSETS[name], modified)

    return send(version().document(("asset", name), build))


@bp.get("/qr.svg")
def qr():
    """A QR code of the address that subscribes (webcal://): a phone's camera opens it in the
    calendar app, where the https address would only download a file to import once."""
    current = version()
    where = site()
    if not where.absolute:
        abort(404, "No QR code: the public address is not set (calendar.url or FEED_PUBLIC_URL).")
    address = webcal(where.feed())

    def build() -> Document:
        return Document(qr_svg(address), "image/svg+xml", current.last_modified)

    return send(current.document(("qr", address), build))


# -- feed variants by path ----------------------------------------------------------------------
# A static host ignores query strings, so a static export holds /tags/<tag>.ics for ?tag=,
# /with-cancelled/... for ?cancelled=show, /expanded/... for ?expand=utc and /alarm-15m/... for
# ?alarm=15m. The app answers the
# same paths with the same bytes, so the page, the README's recipes and every subscriber's
# address work the same on both, and a site can move from one to the other.


@bp.get("/tags/<tag>.ics")
@bp.get("/with-cancelled/<path:rest>")
@bp.get("/expanded/<path:rest>")
@bp.get("/alarm-<alarm>/<path:rest>")
def feed_variant(**_):
    """A feed variant named by its path (see :class:`feed.links.FeedVariant`)."""
    current = version()
    schedule = current.schedule
    variant = FeedVariant.from_path(request.path)
    if variant is None and request.view_args.get("alarm") not in (None, *ALARMS):
        valid = ", ".join(f"alarm-{a}" for a in ALARMS)
        abort(404, f"No reminder alarm-{request.view_args['alarm']}: use one of {valid}.")
    if variant is None:
        abort(404, "No such feed: use calendar.ics, series/<id>.ics or tags/<tag>.ics.")
    if variant.series is not None:
        series_or_404(schedule, variant.series)
    if variant.tag is not None and variant.tag not in schedule.tag_names:
        known = ", ".join(schedule.tag_names) or "none are defined"
        abort(404, f"No tag {variant.tag!r}. Known tags: {known}.")
    options = ical.Options(
        series=(variant.series,) if variant.series else None,
        show_cancelled=variant.cancelled,
        tag=variant.tag,
        expand=expand_window() if variant.expanded else None,
        alarm=variant.alarm,
    )
    return send(current.feed(options))
