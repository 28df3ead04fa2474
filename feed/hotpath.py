"""The hot path: the WSGI entry point of the production server, answering the request every
subscribed calendar repeats forever from responses prepared once per version.

A plain ``GET`` of a subscription feed (``/calendar.ics``, ``/series/<id>.ics``), with no
condition or with an ``If-None-Match`` naming the current tag, is answered from a table built
when the version is adopted: status, the header list and the body, for each of plain and gzip.
The table is built with :func:`feed.http.respond`, the function the Flask routes and
:class:`feed.feeds.FeedFastPath` answer with, so the three cannot differ
(``tests/test_hotpath.py`` compares them). Everything else (HEAD, queries,
``If-Modified-Since``, other tag forms, every other path) goes on to the app unchanged.

What it costs per request is the point (``BENCHMARKS.md``): one look at the store's signal,
two dictionary lookups and a string comparison.
"""

from __future__ import annotations

from flask import Flask

from . import http
from .publish import Document, Version

STATUS = {200: "200 OK", 304: "304 NOT MODIFIED"}  # as werkzeug words them
_ACCEPT_CACHE_SIZE = 256


class Prepared:
    """The responses for one feed document: [plain, gzip] for 200 and for 304."""

    __slots__ = ("etag", "etag_gzip", "full", "not_modified")

    def __init__(self, document: Document, config):
        self.etag = document.etag
        self.etag_gzip = document.etag_gzip
        self.full = []
        self.not_modified = []
        for gzip in (False, True):
            accept = {"HTTP_ACCEPT_ENCODING": "gzip"} if gzip else {}
            status, headers, body = http.respond(document, accept, config)
            headers = headers + http.SECURITY_HEADERS + [("Content-Length", str(len(body)))]
            self.full.append((STATUS[status], headers, body))
            tag = document.etag_gzip if gzip and config["GZIP"] else document.etag
            status, headers, _ = http.respond(
                document, {**accept, "HTTP_IF_NONE_MATCH": tag}, config
            )
            self.not_modified.append((STATUS[status], headers + http.SECURITY_HEADERS))


class HotPath:
    """WSGI callable in front of the Flask app (see the module's docstring)."""

    def __init__(self, app: Flask):
        self.app = app
        self.publisher = app.extensions["feed.publisher"]
        self.gzip_on = bool(app.config["GZIP"])
        # One attribute, swapped whole: a request uses the table of the version it was given.
        self._prepared: tuple[Version | None, dict[str, Prepared]] = (None, {})
        self._accepts: dict[str, bool] = {}

    def _prepare(self, version: Version) -> dict[str, Prepared]:
        config = {
            "GZIP": self.gzip_on,
            "MAX_AGE": self.app.config["MAX_AGE"],
            "STALE_WHILE_REVALIDATE": self.app.config["STALE_WHILE_REVALIDATE"],
        }
        return {path: Prepared(document, config) for path, document in version.feeds.items()}

    def _gzip(self, header: str | None) -> int:
        if not header or not self.gzip_on:
            return 0
        found = self._accepts.get(header)
        if found is None:
            if len(self._accepts) >= _ACCEPT_CACHE_SIZE:
                self._accepts.clear()  # clients send a handful of distinct values
            found = self._accepts[header] = http.accepts_gzip(header)
        return 1 if found else 0

    def __call__(self, environ, start_response):
        version = self.publisher.current()
        prepared_for, table = self._prepared
        if prepared_for is not version and version is not None:
            table = self._prepare(version)
            self._prepared = (version, table)
        if environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING"):
            prepared = table.get(environ.get("PATH_INFO"))
            if prepared is not None and "HTTP_IF_MODIFIED_SINCE" not in environ:
                match = environ.get("HTTP_IF_NONE_MATCH")
                gzip = self._gzip(environ.get("HTTP_ACCEPT_ENCODING"))
                if match is None:
                    status, headers, body = prepared.full[gzip]
                    start_response(status, list(headers))
                    return [body]
                if match == prepared.etag or match == prepared.etag_gzip:
                    status, headers = prepared.not_modified[gzip]
                    start_response(status, list(headers))
                    return []
        return self.app(environ, start_response)
