"""What calendar apps fetch: the subscription feeds (every series, or one), a single session's
.ics, the next session's, and the WSGI fast path for the request subscribed clients repeat."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, request

from . import http, ical
from .plan import ALARMS
from .publish import ICS, Document, Version
from .web import next_or_404, now, parse_tag, send, series_or_404, session_or_404, version

bp = Blueprint("feeds", __name__)

EXPAND_PAST = dt.timedelta(days=31)
EXPAND_FUTURE = dt.timedelta(days=366)


def expand_window() -> tuple[dt.date, dt.date]:
    """The dates of an expanded feed (``?expand=utc``, /expanded/...): a bounded window around
    today, since expanded feeds are for widgets, not for subscribing."""
    today = now().date()
    return (today - EXPAND_PAST, today + EXPAND_FUTURE)


def feed_options(current: Version, series_ids: tuple[str, ...] | None) -> ical.Options:
    """Options for a feed request; a bad value is a 400 naming the valid ones."""
    if not request.query_string:  # what every subscribed client asks for
        return ical.Options(series=series_ids)
    cancelled = request.args.get("cancelled", "hide")
    if cancelled not in ("hide", "show"):
        abort(400, f"cancelled={cancelled!r} is not valid; use cancelled=show or cancelled=hide.")
    tag = parse_tag(current.schedule, request.args.get("tag"))
    expand = request.args.get("expand")
    if expand not in (None, "utc"):
        abort(400, f"expand={expand!r} is not valid; use expand=utc.")
    window = expand_window() if expand else None
    return ical.Options(
        series=series_ids,
        show_cancelled=cancelled == "show",
        tag=tag,
        expand=window,
        alarm=parse_alarm(request.args.get("alarm")),
    )


def parse_alarm(value: str | None) -> str | None:
    """``?alarm=``: one of a few reminders, or a 400 naming them."""
    if value is None or value in ALARMS:
        return value
    valid = ", ".join(f"alarm={a}" for a in ALARMS)
    abort(400, f"alarm={value!r} is not valid; use one of {valid}.")


@bp.get("/calendar.ics")
def calendar():
    """Every series in one feed: the address people subscribe to."""
    current = version()
    return send(current.feed(feed_options(current, None)))


@bp.get("/series/<series_id>.ics")
def series_feed(series_id: str):
    """One series' feed (e.g. only the weekly meeting, or only the events of interest)."""
    current = version()
    series_or_404(current.schedule, series_id)
    return send(current.feed(feed_options(current, (series_id,))))


@bp.get("/sessions/<series_id>/<day>.ics")
def session_ics(series_id: str, day: str):
    """One session as its own .ics file, for people who add single sessions."""
    current = version()
    schedule = current.schedule
    occurrence = session_or_404(schedule, series_id, day)
    date = occurrence.keyed_by

    def build() -> Document:
        body = ical.render_occurrence(schedule, current.stamps, occurrence)
        # Last-Modified: when this session last changed, not the whole schedule.
        modified = current.stamp(occurrence).modified
        return Document(body, ICS, modified, f"{series_id}-{date}.ics")

    if occurrence.session is None:  # a plain week: cheap to render, not worth keeping
        return send(build())
    return send(current.document(("session.ics", occurrence.key), build))


@bp.get("/next.ics")
def next_ics():
    """The next session as an .ics file."""
    current = version()
    found = next_or_404(current)

    def build() -> Document:
        body = ical.render_occurrence(current.schedule, current.stamps, found)
        return Document(body, ICS, current.last_modified, "next.ics")

    return send(current.document(("next.ics", found.key), build), short_lived=True)


class FeedFastPath:
    """WSGI middleware for the request every subscriber's client repeats forever: a plain
    GET or HEAD of a feed, answered from the published bytes without Flask's routing and
    response objects (which cost more than the rest of the request). The bytes and headers
    are the ones the Flask routes send, from the same :func:`feed.http.respond`; anything
    else (a query, an unknown series, no schedule yet) goes on to Flask."""

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
                status, headers, body = http.respond(document, environ, self.app.config)
                headers += http.SECURITY_HEADERS
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
