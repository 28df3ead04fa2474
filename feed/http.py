"""HTTP policy, in one place: validators and conditional requests, Cache-Control, CORS,
security headers, when to gzip, the pages' Content-Security-Policy and robots.txt.

The Flask routes (through :func:`feed.web.send`), the WSGI fast path
(:class:`feed.feeds.FeedFastPath`) and the static export's header rules (:mod:`feed.build`)
all take their headers from here, so the three cannot drift apart.
"""

from __future__ import annotations

import functools

from werkzeug.http import parse_date, parse_etags

from .publish import Document

# CORS: any site may fetch the feeds and data (widgets, FullCalendar), and read the validators.
CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "ETag, Last-Modified"),
]

# Sent with every response; X-Frame-Options is left out only for the embeddable widget.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]
FRAMABLE_SECURITY_HEADERS = [h for h in SECURITY_HEADERS if h[0] != "X-Frame-Options"]

# No inline script or style anywhere: every asset is a file served by this app.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
EMBED_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")

# For answers that change when a session ends, not only when the schedule changes.
SHORT_LIVED = "public, max-age=60"
NO_STORE = "no-store"

# Calendar fetchers (Google's among them) obey robots.txt: allow everything.
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
PLAIN_TEXT = "text/plain; charset=utf-8"


def security_headers(framable: bool = False) -> list[tuple[str, str]]:
    return FRAMABLE_SECURITY_HEADERS if framable else SECURITY_HEADERS


def csp(framable: bool = False) -> str:
    return EMBED_CSP if framable else CSP


@functools.lru_cache(maxsize=8)
def cache_control(max_age, stale_while_revalidate) -> str:
    """Cache-Control of stored documents (FEED_MAX_AGE, FEED_STALE_WHILE_REVALIDATE)."""
    return f"public, max-age={int(max_age)}, stale-while-revalidate={int(stale_while_revalidate)}"


def accepts_gzip(header: str) -> bool:
    """True only when gzip is named with q > 0. Some calendar clients mishandle compressed
    feeds (docs/clients.md R22), so a wildcard ``*`` is not taken as consent."""
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


def not_modified(environ: dict, document: Document) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins (weak comparison, either representation's tag);
    If-Modified-Since counts only without it, and a malformed date is ignored."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        # The common case first: a client sending back the tag it was given. Measured: werkzeug's
        # parse_etags costs about 2.2 µs more than this comparison and is_resource_modified
        # about 7 µs, against about 5 µs for a whole fast-path 304 (benchmarks/inprocess.py);
        # so parse_etags only handles the other forms (lists, W/, *).
        if if_none_match == document.etag or if_none_match == document.etag_gzip:
            return True
        tags = parse_etags(if_none_match)
        return bool(
            tags.star_tag
            or tags.contains_weak(document.etag[1:-1])
            or tags.contains_weak(document.etag_gzip[1:-1])
        )
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        when = parse_date(since)
        if when is not None:
            return document.last_modified.replace(microsecond=0) <= when
    return False


def content_headers(document: Document) -> list[tuple[str, str]]:
    """What the bytes are: Content-Type, and the file name calendar apps save them under."""
    found = [("Content-Type", document.content_type)]
    if document.filename:
        found.append(("Content-Disposition", f'inline; filename="{document.filename}"'))
    return found


def respond(
    document: Document, environ: dict, config, short_lived: bool = False
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a stored document, from the request's WSGI environ:
    304 when the client's copy is current. Security headers and Content-Length are the
    caller's (Flask adds them to every response; the fast path adds them itself). ``config``
    is the app's: GZIP (a bool: create_app reads FEED_GZIP=0 as off), MAX_AGE and
    STALE_WHILE_REVALIDATE.

    ``short_lived`` is for answers that change when a session ends, not only when the schedule
    changes: clients revalidate by ETag, and get no Last-Modified, which could wrongly match an
    older answer. Request headers are read from the environ: werkzeug's header lookup builds an
    exception for every absent header, which cost more than the rest of this function."""
    gzip_on = config["GZIP"]
    use_gzip = gzip_on and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    headers = [("ETag", document.etag_gzip if use_gzip else document.etag)]
    if short_lived:
        headers.append(("Cache-Control", SHORT_LIVED))
    else:
        headers.append(("Last-Modified", document.last_modified_http))
        headers.append(
            ("Cache-Control", cache_control(config["MAX_AGE"], config["STALE_WHILE_REVALIDATE"]))
        )
    headers += CORS_HEADERS
    if gzip_on:
        headers.append(("Vary", "Accept-Encoding"))
    if not_modified(environ, document):
        # RFC 9110 §15.4.5: the ETag identifies what is current; no other metadata.
        return 304, [h for h in headers if h[0] != "Last-Modified"], b""
    headers += content_headers(document)
    if use_gzip:
        headers.append(("Content-Encoding", "gzip"))
    return 200, headers, document.gzipped if use_gzip else document.body


def file_headers(document: Document, cache: str | None) -> list[tuple[str, str]]:
    """The headers a static host must add to serve document as a file the way the app does:
    everything the app sends with a 200 except what a host derives itself (ETag,
    Last-Modified, Content-Length) and what belongs to its own compression (Vary,
    Content-Encoding). ``cache`` is the Cache-Control the app sends; None for a response
    the app does not send through :func:`respond` (robots.txt), which has no CORS either."""
    content = content_headers(document)
    found = content[:1]
    if cache is not None:
        found += [("Cache-Control", cache), *CORS_HEADERS]
    return found + SECURITY_HEADERS + content[1:]
