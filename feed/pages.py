"""What people look at: the meeting's page, the widget other sites embed, and the QR code of
the feed's address.

Everything that depends on "today" gets the date from :func:`feed.web.now`, at the edge; the
templates' values come from the plain functions of :mod:`feed.views`. Rendered bytes are cached
in the published version, keyed by what they depend on, so each renders once per day.
"""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, render_template, request

from . import http
from .publish import HTML, Document
from .views import EMBED_DEFAULT, embedded, feed_url, page_context
from .web import local_today, parse_limit, public_base, send, since_midnight, version

bp = Blueprint("pages", __name__)

EMBED_MAX = 20


def html(document: Document, framable: bool = False) -> Response:
    response = send(document)
    response.headers["Content-Security-Policy"] = http.csp(framable)
    return response


def qr_svg(text: str) -> bytes:
    """A QR code as a small SVG image (no script, no external references)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, light="#fff"
    )
    return out.getvalue()


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
        body = render_template("embed.html", **embedded(schedule, today, base, limit))
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
