"""Published versions: every byte served for one version of schedule.yaml, rendered once.

Invariant: every request, in every process and after every restart, is answered from the version
the store's head names or a newer one, and the head moves only forward, to the newest valid
schedule rendered with stamps no lower than any version published before it.

How it is kept: a version is rendered once, by one process, under the store's lock
(:mod:`feed.release`), and written to the store beside the schedule, content-addressed
(:mod:`feed.store`); then the head moves to it and a shared counter ticks. Each process
(:mod:`feed.publisher`) compares that counter with the one it last saw on every request (a read
of shared memory) and adopts the head before answering when it moved, so no process can serve
an older version after any process served a newer one. Rendering never happens on the request
path, and the store survives restarts, so a restarted or replaced process starts from the head.

This module is what a version is: a :class:`Version` is immutable once built (the validated
schedule, its stamps and the rendered documents with their validators: ETag, Last-Modified,
gzip body). A version read back from the store holds its feeds' bytes at once and reads the
schedule and stamps behind them only when a page or a variant needs them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from . import ical, stamps
from .occurrences import Occurrence
from .plan import source
from .schedule import Problem, Report, Schedule, check

log = logging.getLogger(__name__)

ICS = "text/calendar; charset=utf-8"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Document:
    """One published resource: bytes plus what HTTP caches need to know about them."""

    body: bytes
    content_type: str
    last_modified: dt.datetime
    filename: str | None = None
    etag: str = field(init=False)
    etag_gzip: str = field(init=False, repr=False)
    last_modified_http: str = field(init=False, repr=False)
    gzipped: bytes = field(init=False, repr=False)

    def __post_init__(self):
        # Strong validator from the content; gzip once, with a fixed mtime so it is stable too.
        # Everything a response needs is computed here, once, not on each request.
        tag = hashlib.sha256(self.body).hexdigest()[:32]
        self._finish(tag, gzip.compress(self.body, compresslevel=9, mtime=0))

    def _finish(self, tag: str, gzipped: bytes) -> None:
        object.__setattr__(self, "etag", f'"{tag}"')
        object.__setattr__(self, "etag_gzip", f'"{tag}-gz"')  # another representation, own tag
        object.__setattr__(
            self,
            "last_modified_http",
            format_datetime(self.last_modified.astimezone(dt.UTC), usegmt=True),
        )
        object.__setattr__(self, "gzipped", gzipped)

    @classmethod
    def restore(
        cls,
        body: bytes,
        gzipped: bytes,
        content_type: str,
        last_modified: dt.datetime,
        filename: str | None,
        tag: str,
    ) -> Document:
        """A document read back from the store: its tag and gzip body were computed when it
        was published (the caller has checked the tag against the body)."""
        document = object.__new__(cls)
        for name, value in (
            ("body", body),
            ("content_type", content_type),
            ("last_modified", last_modified),
            ("filename", filename),
        ):
            object.__setattr__(document, name, value)
        document._finish(tag, gzipped)
        return document

    @staticmethod
    def tag_of(body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()[:32]


CALENDAR_KEY = "@calendar"  # the calendar's header: part of every feed
PAGE_KEY = "@page"  # the page's texts: part of no feed


def meta_contents(schedule: Schedule) -> dict[str, stamps.Content]:
    """What is not an event, stamped like events: the calendar's header and the page's texts."""
    header = (
        schedule.name,
        schedule.description,
        schedule.refresh,
        schedule.domain,
        schedule.tags,
        schedule.url,
    )
    page = (schedule.page, [(s.id, s.title, s.description) for s in schedule.series])
    return {
        CALENDAR_KEY: stamps.Content(None, _digest(repr(header))),
        PAGE_KEY: stamps.Content(None, _digest(repr(page))),
    }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


MAX_DOCUMENTS = 256  # cached per version, besides the subscription feeds


def feed_path(series_id: str | None) -> str:
    """The URL path of a subscription feed: every series, or one."""
    return "/calendar.ics" if series_id is None else f"/series/{series_id}.ics"


def feed_options(series_id: str | None) -> ical.Options:
    return ical.Options(series=None if series_id is None else (series_id,))


class Version:
    """Everything served for one schedule version. Documents render once, on first use.

    ``feeds`` are the subscription feeds by URL path (``/calendar.ics``, ``/series/<id>.ics``):
    rendered when the version is built, never evicted. A version built here (:func:`new_version`)
    holds its schedule, stamps and ``events`` (the subscription feed's events, serialized once:
    every series' feed is cut from them). A version read from the store gets its feeds and
    ``load``, which returns (schedule, stamps) the first time a page or variant needs them."""

    def __init__(
        self,
        *,
        source_digest: str,
        schedule: Schedule | None = None,
        stamp_map: dict[str, stamps.Stamp] | None = None,
        events: list[ical.EventBytes] | None = None,
        warnings: tuple[Problem, ...] = (),
        feeds: dict[str, Document] | None = None,
        last_modified: dt.datetime | None = None,
        load: Callable[[], tuple[Schedule, dict[str, stamps.Stamp]]] | None = None,
    ):
        self.source_digest = source_digest
        self.warnings = warnings
        self._schedule = schedule
        self._stamps = stamp_map
        self._events = events
        self._load = load
        self._last_modified = last_modified
        self._documents: OrderedDict[tuple, Document] = OrderedDict()
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._pinned = 0
        if feeds is None:
            # Rendered now, so no subscriber waits for them, and never evicted.
            feeds = {feed_path(None): self.feed()}
            for series in self.schedule.series:
                feeds[feed_path(series.id)] = self.feed(feed_options(series.id))
        else:
            for path, document in feeds.items():
                series_id = None if path == feed_path(None) else path[8:-4]
                self._documents[("feed", feed_options(series_id))] = document
        self.feeds = feeds
        self._pinned = len(self._documents)

    def _loaded(self) -> None:
        with self._loading:
            if self._schedule is None or self._stamps is None:
                assert self._load is not None, "a version needs its schedule or a loader"
                self._schedule, self._stamps = self._load()

    @property
    def schedule(self) -> Schedule:
        if self._schedule is None:
            self._loaded()
        return self._schedule

    @property
    def stamps(self) -> dict[str, stamps.Stamp]:
        if self._stamps is None:
            self._loaded()
        return self._stamps

    @property
    def events(self) -> list[ical.EventBytes]:
        if self._events is None:
            self._events = ical.events(self.schedule)
        return self._events

    @property
    def last_modified(self) -> dt.datetime:
        """When anything in this version last changed."""
        if self._last_modified is None:
            self._last_modified = max(
                (s.modified for s in self.stamps.values()), default=ical.EPOCH
            )
        return self._last_modified

    def stamp(self, occurrence: Occurrence) -> stamps.Stamp:
        """The stamps of the subscription feed's event that carries an occurrence."""
        return ical.stamp_for(self.stamps, source(occurrence), self.schedule.domain)

    def document(self, key: tuple, build: Callable[[], Document]) -> Document:
        """The document for key, built once per version (thread-safe)."""
        found = self._documents.get(key)
        if found is None:
            with self._lock:
                found = self._documents.get(key)
                if found is None:
                    found = build()
                    self._documents[key] = found
                    # Day-dependent pages and variants come and go: keep the newest ones.
                    while len(self._documents) > self._pinned + MAX_DOCUMENTS:
                        oldest = list(self._documents)[self._pinned]
                        del self._documents[oldest]
        return found

    def feed(self, options: ical.Options = ical.SUBSCRIPTION) -> Document:
        """The iCalendar feed for options, rendered once per version."""

        def build() -> Document:
            selected = {
                s.id
                for s in self.schedule.series
                if options.series is None or s.id in options.series
            }
            if options.subscription:
                parts = [e for e in self.events if e.key.series in selected]
            else:
                parts = ical.events(self.schedule, options)
            body = ical.render(self.schedule, options, parts, self.stamps)
            modified = max(
                (
                    s.modified
                    for key, s in self.stamps.items()
                    if key != PAGE_KEY and (s.series is None or s.series in selected)
                ),
                default=ical.EPOCH,
            )
            single = options.series and len(options.series) == 1
            return Document(
                body, ICS, modified, filename=f"{options.series[0] if single else 'calendar'}.ics"
            )

        return self.document(("feed", options), build)


def new_version(
    schedule: Schedule,
    previous: dict[str, stamps.Stamp],
    edited: dt.datetime,
    source_bytes: bytes = b"",
    warnings: tuple[Problem, ...] = (),
) -> Version:
    """The version of a valid schedule, its stamps carried on from ``previous`` by an edit at
    ``edited``. Pure apart from rendering."""
    events = ical.events(schedule)
    stamped = events + ical.cancelled_events(schedule)  # what every variant shows
    current = {
        **{e.key.text(schedule.domain): stamps.Content(e.key.series, e.digest) for e in stamped},
        **meta_contents(schedule),
    }
    new_stamps = stamps.restamp(previous, current, edited)
    return Version(
        source_digest=hashlib.sha256(source_bytes).hexdigest(),
        schedule=schedule,
        stamp_map=new_stamps,
        events=events,
        warnings=warnings,
    )


def build_version(
    source_bytes: bytes, path: str, previous: dict[str, stamps.Stamp], edited: dt.datetime
) -> tuple[Version | None, Report]:
    """Validate schedule text and, when it is valid, render its version."""
    report = check(source_bytes, path)
    if report.schedule is None:
        return None, report
    version = new_version(report.schedule, previous, edited, source_bytes, report.warnings)
    return version, report


def stamps_path_for(schedule_path: Path) -> Path:
    """schedule.yaml -> schedule.stamps.json, beside it."""
    return schedule_path.with_name(schedule_path.stem + ".stamps.json")


def read_stamps(path: Path) -> dict[str, stamps.Stamp]:
    """What can be recovered from a stamps file ({} when there is none); damage is logged."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.error("%s: cannot read the stamps file: %s", path, exc.strerror)
        return {}
    found, damage = stamps.read(text, dt.datetime.now(dt.UTC))
    for item in damage:
        log.error("%s: %s", path, item)
    return found


def write_atomically(path: Path, text: str | bytes) -> bool:
    """Replace path's content in one step (write a temporary file, then rename it)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return False
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; the file is for other readers too
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def newest(*maps: dict[str, stamps.Stamp]) -> dict[str, stamps.Stamp]:
    """Per event, the stamp with the highest SEQUENCE among several sources."""
    result: dict[str, stamps.Stamp] = {}
    for stamp_map in maps:
        for key, stamp in stamp_map.items():
            old = result.get(key)
            if old is None or (stamp.sequence, stamp.modified) > (old.sequence, old.modified):
                result[key] = stamp
    return result


def __getattr__(name: str):
    """``Publisher``, the process side (watching, adopting the head), lives in feed.publisher;
    the routes know it as feed.publish.Publisher. Looked up lazily: it imports this module."""
    if name == "Publisher":
        from .publisher import Publisher

        return Publisher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HTML",
    "ICS",
    "JSON",
    "Document",
    "Version",
    "build_version",
    "new_version",
    "newest",
    "read_stamps",
    "stamps_path_for",
    "write_atomically",
]
