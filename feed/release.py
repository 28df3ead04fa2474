"""Release: turn the files (schedule.yaml and its stamps) into the next published version, once.

:func:`release` runs under the store's lock, in whichever process got it: it reads both files,
and when their contents differ from what the store last examined it validates the schedule,
stamps every event from the newest of the stamps file and every stamp already published (so
SEQUENCE never goes down, whatever happened to the stamps file), stores the version, moves the
head and records what it found. A broken schedule records its problems and leaves the head.

Files are read without blocking and only when they are regular files: a FIFO, a directory, a
device or an unreadable path is a problem to report, never a hang. :func:`main` runs it in a
process of its own: that is how a server process publishes without rendering in itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import hashlib
import logging
import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import stamps
from .publish import Version, build_version, newest, write_atomically
from .schedule import Problem
from .schedule.yamlread import MAX_BYTES
from .store import Head, Status, Store

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 60.0  # seconds; a release of the largest schedule takes well under this


@dataclass(frozen=True)
class Sources:
    """The files one deployment publishes from, and how."""

    schedule: Path
    stamps: Path
    write_stamps: bool = True
    settle: float = 1.0

    @property
    def damaged(self) -> Path:
        """Where a damaged stamps file is kept after the app rebuilt it."""
        return self.stamps.with_name(self.stamps.name + ".damaged")

    @property
    def legacy_last_good(self) -> Path:
        """The last good copy earlier versions of the app kept beside the schedule."""
        path = self.schedule
        return path.with_name(f".{path.stem}.last-good{path.suffix}")


@dataclass(frozen=True)
class Read:
    """One file as read: its bytes, or why not (``error``: a sentence; ``missing``)."""

    data: bytes | None
    mtime: float = 0.0
    error: str | None = None
    missing: bool = False
    identity: tuple = ()  # (inode, size, mtime_ns) when read, to tell a change during the read

    @property
    def key(self) -> str:
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        return "missing" if self.missing else f"error: {self.error}"


def observe(path: Path) -> tuple:
    """What changes when a file is replaced in any way (written in place, renamed over,
    deleted and made again, a symlink swapped): cheap, one stat."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return ("absent", exc.errno)
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def read_file(path: Path, limit: int = MAX_BYTES + 1) -> Read:
    """A regular file's bytes (at most ``limit``), never blocking on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return Read(None, missing=True, error="the file does not exist")
    except OSError as exc:
        return Read(None, error=_reason(exc))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Read(None, error=f"it is {_kind(info.st_mode)}, not a regular file")
        chunks, size = [], 0
        while size < limit:
            chunk = os.read(fd, min(1 << 20, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        identity = (info.st_ino, info.st_size, info.st_mtime_ns)
        return Read(b"".join(chunks), mtime=info.st_mtime, identity=identity)
    except OSError as exc:
        return Read(None, error=_reason(exc))
    finally:
        os.close(fd)


def _changed_since(path: Path, read: Read) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return True
    return (info.st_ino, info.st_size, info.st_mtime_ns) != read.identity


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EISDIR:
        return "it is a directory, not a regular file"
    return f"it cannot be read ({exc.strerror})"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def key_of(sources: Sources) -> tuple:
    """What the store's status must name for the files to count as examined: the contents of
    both files, and whether a damaged stamps file is still kept beside them."""
    return (
        read_file(sources.schedule).key,
        read_file(sources.stamps, limit=64 << 20).key,
        sources.damaged.exists(),
    )


def settled(sources: Sources, now: float) -> bool:
    """True when the schedule has not been modified for ``settle`` seconds (or is absent)."""
    try:
        return now - os.stat(sources.schedule).st_mtime >= sources.settle
    except OSError:
        return True


@dataclass(frozen=True)
class Outcome:
    what: str  # "unchanged", "unsettled", "published", "kept" (broken file: head stays)
    version: Version | None = None  # the version built here, when one was
    version_id: str | None = None
    head: Head | None = None


def release(store: Store, sources: Sources, clock=time.time, force: bool = False) -> Outcome:
    """Examine the files and publish what they say. Call with the store's lock held.
    ``force``: do not wait for the schedule to settle (nothing is published yet)."""
    now = clock()
    if not force and not settled(sources, now):
        return Outcome("unsettled")
    schedule = read_file(sources.schedule)
    stamps_read = read_file(sources.stamps, limit=64 << 20)
    if schedule.data is not None and (
        _changed_since(sources.schedule, schedule)
        or (not force and now - schedule.mtime < sources.settle)
    ):
        return Outcome("unsettled")  # written to since the look above: look again later
    key = (schedule.key, stamps_read.key, sources.damaged.exists())
    head = store.head()
    head_ok = head is not None and store.has(head.version)
    previous = store.status()
    if previous.key == key and (head_ok or head is None):
        return Outcome("unchanged", head=head)

    floor, unreadable = store.floor(head if head_ok else None)
    when = dt.datetime.fromtimestamp(now, dt.UTC)
    # A stamps file that never existed is not damage (a read-only deployment may have none);
    # one that existed (or was reported missing) and is gone is.
    existed = bool(previous.key) and previous.key[1] != "missing"
    existed = existed or any("missing" in d.reason for d in previous.stamps)
    file_stamps, damage = _stamps_from(stamps_read, floor if existed else {}, when, floor)
    if unreadable:
        damage.append(
            stamps.Damage(
                f"{unreadable} published versions in the state folder are unreadable; "
                "SEQUENCE comes from the others",
                "nothing to do unless it recurs (then check the disk)",
            )
        )
    previous_stamps = newest(file_stamps, floor)

    problems: tuple[Problem, ...] = ()
    version = None
    source = b""
    if schedule.data is None:
        problems = (_file_problem(sources.schedule, schedule),)
    else:
        edited = dt.datetime.fromtimestamp(min(schedule.mtime, now), dt.UTC)
        version, report = build_version(
            schedule.data, str(sources.schedule), previous_stamps, edited
        )
        problems, source = report.errors, schedule.data
    if version is None and not head_ok:
        version, source = _from_legacy_copy(sources, previous_stamps)

    new_head = version_id = None
    if version is not None:
        version_id = store.write(version, source, str(sources.schedule))
        if not head_ok or head.version != version_id:
            new_head = store.next_head(head if head_ok else None, version_id)
    published = version.stamps if version is not None else previous_stamps
    if sources.write_stamps:
        damage = _repair_stamps_file(sources, stamps_read, file_stamps, published, damage)
    if not damage and sources.damaged.exists():
        damage = list(previous.stamps) or [
            stamps.Damage("the stamps file was damaged and has been rebuilt", _DELETE_EVIDENCE)
        ]
    final_key = (
        schedule.key,
        read_file(sources.stamps, limit=64 << 20).key,
        sources.damaged.exists(),
    )
    store.commit(new_head, Status(final_key, problems, tuple(damage)))
    store.collect(new_head or head)
    for problem in problems:
        log.error("%s", problem)
    for item in damage:
        log.error("%s: %s", sources.stamps, item)
    if new_head is not None:
        log.info(
            "%s: published version %s (serial %d)",
            sources.schedule,
            new_head.version,
            new_head.serial,
        )
    return Outcome("published" if new_head else "kept", version, version_id, new_head or head)


_DELETE_EVIDENCE = (
    "commit the rebuilt schedule.stamps.json so other hosts and restarts agree, then delete "
    "schedule.stamps.json.damaged"
)


def _stamps_from(
    read: Read, expected: dict, when: dt.datetime, floor: dict
) -> tuple[dict[str, stamps.Stamp], list[stamps.Damage]]:
    """The stamps file's stamps, range-checked against the floor, and what was wrong with it.
    ``expected``: what the file should hold when it is missing (empty: not damage)."""
    if read.data is not None:
        found, damage = stamps.read(read.data.decode("utf-8", "replace"), when, floor)
        return found, list(damage)
    if read.missing and not expected:
        return {}, []  # never written: a first start, or a deployment without one
    reason = "the stamps file is missing" if read.missing else f"the stamps file: {read.error}"
    return {}, [
        stamps.Damage(reason + "; SEQUENCE comes from the published versions", stamps.RESTORE)
    ]


def _repair_stamps_file(
    sources: Sources, read: Read, file_stamps: dict, published: dict, damage: list
) -> list[stamps.Damage]:
    """Write the stamps that are published to the stamps file when they differ from it. A
    damaged file is first moved aside as evidence, and the damage is reported until the
    operator has looked (deleted the evidence)."""
    if not damage and file_stamps == published and read.data is not None:
        return damage
    if damage:
        evidence = sources.damaged
        try:
            if evidence.is_dir() and not evidence.is_symlink():
                shutil.rmtree(evidence)
            elif evidence.exists() or evidence.is_symlink():
                evidence.unlink()
            if sources.stamps.exists() or sources.stamps.is_symlink():
                os.rename(sources.stamps, evidence)
            else:
                evidence.write_text(
                    f"{sources.stamps.name} was missing; the app rebuilt it from the versions "
                    "it had published.\n",
                    encoding="utf-8",
                )
        except OSError as exc:
            log.error("cannot keep the damaged stamps file as %s: %s", evidence, exc.strerror)
    if not write_atomically(sources.stamps, stamps.dumps(published)):
        log.info(
            "%s is read-only; the published stamps are kept in the state folder", sources.stamps
        )
        return damage
    return [
        stamps.Damage(
            f"{d.reason}; the app rebuilt schedule.stamps.json without lowering any SEQUENCE "
            "and kept the damaged one as schedule.stamps.json.damaged",
            _DELETE_EVIDENCE,
        )
        for d in damage
    ]


def _file_problem(path: Path, read: Read) -> Problem:
    return Problem(
        str(path),
        1,
        1,
        "",
        f"{read.error or 'cannot be read'}",
        hint="point FEED_SCHEDULE at the schedule file, or restore it",
    )


def _from_legacy_copy(sources: Sources, previous: dict) -> tuple[Version | None, bytes]:
    """With nothing published yet and a broken schedule: the last good copy that earlier
    versions of the app kept, if there is one."""
    copy = read_file(sources.legacy_last_good)
    if copy.data is None:
        return None, b""
    edited = dt.datetime.fromtimestamp(copy.mtime, dt.UTC)
    version, _ = build_version(copy.data, str(sources.legacy_last_good), previous, edited)
    if version is not None:
        log.error(
            "%s is invalid; serving the last good copy %s",
            sources.schedule,
            sources.legacy_last_good,
        )
    return version, copy.data if version is not None else b""


def record_failure(store: Store, sources: Sources, message: str) -> None:
    """A release that could not finish (it crashed or ran out of time): a problem to report,
    under the files' current key so it is not retried until they change."""
    with store.locked(LOCK_TIMEOUT) as got:
        if not got:
            return
        problem = Problem(str(sources.schedule), 1, 1, "", message, hint="see the server's log")
        store.commit(None, Status(key_of(sources), (problem,), store.status().stamps))


def main(argv: list[str] | None = None) -> int:
    """Release once, in a process of its own (memory and time are bounded by the caller)."""
    parser = argparse.ArgumentParser(prog="python -m feed.release", description=__doc__)
    parser.add_argument("--schedule", required=True, type=Path)
    parser.add_argument("--stamps", required=True, type=Path)
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--read-only", action="store_true", help="never write the stamps file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s feed.release: %(message)s")
    sources = Sources(args.schedule, args.stamps, not args.read_only, args.settle)
    store = Store(args.state)
    with store.locked(LOCK_TIMEOUT) as got:
        if not got:
            log.warning("the store is locked by another release; giving up")
            return 3
        outcome = release(store, sources)
    print(outcome.what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
