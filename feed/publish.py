"""Published versions: every byte served for one version of schedule.yaml, rendered once.

A :class:`Version` is immutable once built: the validated schedule, its stamps and the rendered
documents with their validators (ETag, Last-Modified, gzip body). The :class:`Publisher` watches
schedule.yaml; when the file has changed and has been still for a moment (so a half-written file
is never read), it builds a complete new version off to the side and swaps it in with one
assignment. A file that fails validation leaves the old version in place and records the
problems for ``/healthz``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

import filelock

from . import ical, stamps
from .occurrences import Occurrence
from .plan import source
from .schedule import Problem, Report, Schedule, check

log = logging.getLogger(__name__)

ICS = "text/calendar; charset=utf-8"
JSON = "application/json"
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
        object.__setattr__(self, "etag", f'"{tag}"')
        object.__setattr__(self, "etag_gzip", f'"{tag}-gz"')  # another representation, own tag
        object.__setattr__(
            self,
            "last_modified_http",
            format_datetime(self.last_modified.astimezone(dt.UTC), usegmt=True),
        )
        object.__setattr__(self, "gzipped", gzip.compress(self.body, compresslevel=9, mtime=0))


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


class Version:
    """Everything served for one schedule version. Documents render once, on first use.

    ``events`` are the subscription feed's events, serialized once: the subscription feed and
    every series' feed are cut from them."""

    def __init__(
        self,
        schedule: Schedule,
        events: list[ical.EventBytes],
        stamp_map: dict[str, stamps.Stamp],
        source_bytes: bytes,
        warnings: tuple[Problem, ...] = (),
    ):
        self.schedule = schedule
        self.events = events
        self.stamps = stamp_map
        self.source_digest = hashlib.sha256(source_bytes).hexdigest()
        self.warnings = warnings
        self._documents: OrderedDict[tuple, Document] = OrderedDict()
        self._lock = threading.Lock()
        self._pinned = 0
        # The subscription feeds are rendered now, so no subscriber waits for them, and they
        # are never evicted.
        self.feed()
        for series in schedule.series:
            self.feed(ical.Options(series=(series.id,)))
        self._pinned = len(self._documents)

    @property
    def last_modified(self) -> dt.datetime:
        """When anything in this version last changed."""
        return max((s.modified for s in self.stamps.values()), default=ical.EPOCH)

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
    current = {
        **{e.key.text(schedule.domain): stamps.Content(e.key.series, e.digest) for e in events},
        **meta_contents(schedule),
    }
    new_stamps = stamps.restamp(previous, current, edited)
    return Version(schedule, events, new_stamps, source_bytes, warnings)


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
    try:
        return stamps.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s: ignoring the stamps file: %s", path, exc)
        return {}


def write_atomically(path: Path, text: str) -> bool:
    """Replace path's content in one step (write a temporary file, then rename it)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return False
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; the file is for other readers too
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
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


def last_good_path_for(schedule_path: Path) -> Path:
    """Where the last valid schedule is kept, so a restart on a broken file still serves."""
    return schedule_path.with_name(f".{schedule_path.stem}.last-good{schedule_path.suffix}")


class Publisher:
    """Serves the newest good version of a schedule file, reloading it when it changes.

    ``settle`` is how long (seconds) a changed file must stay unchanged before it is read, so an
    editor that saves in two steps never publishes half a file. ``interval`` bounds how often the
    file is looked at (one ``stat``) on the request path. With ``write_stamps``, the stamps file
    and a copy of the last valid schedule are written beside the schedule; the copy is what a
    restarted app serves while the schedule file itself is broken.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        stamps_path: str | os.PathLike | None = None,
        settle: float = 1.0,
        interval: float = 1.0,
        write_stamps: bool = True,
        clock: Callable[[], float] = time.time,
    ):
        self.path = Path(path)
        self.stamps_path = Path(stamps_path) if stamps_path else stamps_path_for(self.path)
        self.last_good_path = last_good_path_for(self.path)
        self.settle = settle
        self.interval = interval
        self.write_stamps = write_stamps
        self.clock = clock
        self.version: Version | None = None
        self.problems: tuple[Problem, ...] = ()
        self._seen: tuple | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.refresh(force=True)
        if self.version is None:
            self._fall_back_to_last_good()

    def current(self) -> Version | None:
        """The version to serve now; looks at the file at most once per interval."""
        if self.clock() - self._checked >= self.interval:
            self.refresh()
        return self.version

    def refresh(self, force: bool = False) -> None:
        """Reload the schedule if the file changed and has settled."""
        if not self._lock.acquire(blocking=force):
            return  # another thread is reloading; keep serving the current version
        try:
            self._checked = self.clock()
            try:
                info = self.path.stat()
            except OSError as exc:
                message = f"cannot read the file: {exc.strerror}"
                hint = "check FEED_SCHEDULE"
                self._fail((Problem(str(self.path), 1, 1, "", message, hint=hint),))
                return
            seen = (info.st_mtime_ns, info.st_size, info.st_ino)
            if seen == self._seen:
                return
            if not force and abs(self._checked - info.st_mtime) < self.settle:
                return  # still being written; look again on a later request
            source = self.path.read_bytes()
            if self.path.stat().st_mtime_ns != info.st_mtime_ns:
                return  # changed while we read it
            self._seen = seen
            if self.version and hashlib.sha256(source).hexdigest() == self.version.source_digest:
                self.problems = ()
                return
            self._load(source, dt.datetime.fromtimestamp(info.st_mtime, dt.UTC))
        finally:
            self._lock.release()

    def _load(self, source: bytes, edited: dt.datetime) -> None:
        # Several worker processes reload the same file: one at a time, so each reads the
        # stamps the previous one wrote, and all of them publish the same bytes.
        with _exclusive(self.stamps_path if self.write_stamps else None):
            self._load_locked(source, edited)

    def _load_locked(self, source: bytes, edited: dt.datetime) -> None:
        # The stamps file may be read-only (or behind): never let a SEQUENCE fall below one
        # this process already published.
        published = self.version.stamps if self.version else {}
        previous = newest(read_stamps(self.stamps_path), published)
        version, report = build_version(source, str(self.path), previous, edited)
        if version is None:
            self._fail(report.errors)
            return
        if self.write_stamps:
            if version.stamps != previous and not write_atomically(
                self.stamps_path, stamps.dumps(version.stamps)
            ):
                log.info("%s is read-only; stamps are kept in memory", self.stamps_path)
            _write_if_changed(self.last_good_path, source)
        for warning in version.warnings:
            log.warning("%s", warning)
        self.version = version  # one assignment: requests see the old or the new, never a mix
        self.problems = ()
        log.info("%s: published version %s", self.path, version.source_digest[:12])

    def _fall_back_to_last_good(self) -> None:
        """After a restart on a broken file, serve the last valid schedule this app saw."""
        try:
            source = self.last_good_path.read_bytes()
            edited = dt.datetime.fromtimestamp(self.last_good_path.stat().st_mtime, dt.UTC)
        except OSError:
            return
        version, _ = build_version(
            source, str(self.last_good_path), read_stamps(self.stamps_path), edited
        )
        if version is not None:
            self.version = version
            log.error(
                "%s is invalid; serving the last good copy %s", self.path, self.last_good_path
            )

    def _fail(self, errors: tuple[Problem, ...]) -> None:
        self.problems = errors
        for problem in self.problems:
            log.error("%s", problem)
        if self.version is not None:
            log.error("%s is invalid; still serving the last good version", self.path)


@contextlib.contextmanager
def _exclusive(path: Path | None):
    """A lock beside path, shared by every process of the app (none if None or if the folder
    is read-only). filelock works on every platform, so `feed check` runs on Windows too."""
    lock = None
    if path is not None:
        try:
            lock = filelock.FileLock(path.with_name(f".{path.name}.lock"))
            lock.acquire()
        except OSError:
            lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    if not write_atomically(path, data.decode("utf-8", "replace")):
        log.info("cannot keep a last good copy at %s", path)
