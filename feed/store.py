"""The store: the folder that every process of one deployment shares, holding what is published.

Layout (``FEED_STATE_DIR``, by default ``.schedule.published/`` beside the stamps file)::

    head.json         which version is current, and its serial (rises by one per move)
    status.json       what the last look at the files found: problems, stamps damage
    signal            8 bytes, a counter that ticks after every change of the two above
    lock              held while a version is built and the head moves (one process at a time)
    versions/<id>/    one published version: source.yaml, stamps.json, the feeds (plain and
                      gzip) and manifest.json; <id> is a digest of the source and the stamps

A version folder is written completely under another name, then renamed into place, and never
changed again; head.json and status.json are replaced by rename. Every process maps ``signal``
into memory, so checking for a change on each request costs a comparison of 8 bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import mmap
import os
import secrets
import shutil
import stat
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock

from . import stamps
from .publish import ICS, Document, Version, write_atomically
from .schedule import Problem, check

FORMAT = 1
KEEP = 4  # version folders kept, the head's included: the floor of SEQUENCE if one is damaged
STALE_TEMPORARY = 3600  # seconds after which a half-written version folder is litter


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to set."""


@dataclass(frozen=True)
class Head:
    store: str  # a random id of the store: a store made anew (folder deleted) starts over
    serial: int
    version: str


@dataclass(frozen=True)
class Status:
    """What the last look at the files found. ``key`` names the files' contents it describes."""

    key: tuple = ()
    problems: tuple[Problem, ...] = ()
    stamps: tuple[stamps.Damage, ...] = ()


def default_root(stamps_path: Path, writable_beside: bool, schedule_path: Path) -> Path:
    """Beside the stamps file when the app may write there, else a private temporary folder
    named after the two files (the same for every process of the deployment)."""
    if writable_beside:
        beside = stamps_path.with_name(
            "." + stamps_path.name.removesuffix(".json").removesuffix(".stamps") + ".published"
        )
        if _writable(beside.parent):
            return beside
    key = f"{schedule_path.absolute()}\0{stamps_path.absolute()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return _private_parent() / digest


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _private_parent() -> Path:
    """tmp/feed-<uid>: made 0700 by us, refused if anyone else could have made or changed it."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    parent = Path(tempfile.gettempdir()) / f"feed-{uid}"
    try:
        parent.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(parent)
    except OSError as exc:
        raise StoreError(
            f"no writable folder for published versions ({parent}: {exc.strerror}); "
            "set FEED_STATE_DIR to a writable folder"
        ) from None
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
    if hasattr(os, "getuid") and not (private and info.st_uid == uid):
        raise StoreError(f"{parent} is not a private folder of this user; set FEED_STATE_DIR")
    return parent


class Signal:
    """A counter in a file of 8 bytes, mapped into memory: ``value()`` is a read of shared
    memory, ``tick()`` (under the store's lock) writes the next value in place."""

    def __init__(self, path: Path):
        self.path = path
        self._map: mmap.mmap | None = None
        self._inode = None
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(bytes(8))
            except FileExistsError:
                pass
        self._open()

    def _open(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if info.st_size >= 8:
                    self._map = mmap.mmap(handle.fileno(), 8, access=mmap.ACCESS_READ)
                    self._inode = (info.st_dev, info.st_ino)
        except (OSError, ValueError):
            self._map = None

    def value(self) -> bytes:
        if self._map is not None:
            return self._map[:8]
        try:  # not mappable here: read the file instead
            with open(self.path, "rb") as handle:
                return handle.read(8)
        except OSError:
            return b""

    def reopen_if_replaced(self) -> None:
        """A store folder made anew has a new signal file: follow it."""
        try:
            info = os.stat(self.path)
        except OSError:
            return
        if (info.st_dev, info.st_ino) != self._inode:
            self._open()

    def tick(self) -> None:
        try:
            with open(self.path, "r+b") as handle:
                current = handle.read(8)
                number = struct.unpack("<Q", current)[0] if len(current) == 8 else 0
                handle.seek(0)
                handle.write(struct.pack("<Q", number + 1))
        except OSError:
            write_atomically(self.path, struct.pack("<Q", int(time.time() * 1000)))
            self._open()


_process_locks: dict[Path, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class Store:
    def __init__(self, root: Path):
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / "versions").mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot make the folder for published versions {root}: {exc.strerror}; "
                "set FEED_STATE_DIR to a writable folder"
            ) from None
        if not _writable(root):
            raise StoreError(f"{root} is not writable; set FEED_STATE_DIR to a writable folder")
        self.versions = root / "versions"
        self.signal = Signal(root / "signal")
        with _process_locks_guard:
            self._thread_lock = _process_locks.setdefault(root.absolute(), threading.Lock())

    # -- locking -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, timeout: float, name: str = "lock") -> Iterator[bool]:
        """Hold the store's lock (``name``), shared with every process; yields False when it
        could not be had within timeout (0: only if free now)."""
        # flock excludes other processes; this lock, the other threads of this one.
        thread_lock = self._thread_lock if name == "lock" else None
        if thread_lock is not None:
            got = (
                thread_lock.acquire(timeout=timeout) if timeout > 0 else thread_lock.acquire(False)
            )
            if not got:
                yield False
                return
        lock = filelock.FileLock(self.root / name, timeout=timeout, thread_local=False)
        try:
            try:
                lock.acquire()
            except (filelock.Timeout, OSError):
                yield False
                return
            try:
                yield True
            finally:
                lock.release()
        finally:
            if thread_lock is not None:
                thread_lock.release()

    # -- head and status -----------------------------------------------------------------------

    def head(self) -> Head | None:
        data = _read_json(self.root / "head.json")
        try:
            return Head(str(data["store"]), int(data["serial"]), str(data["version"]))
        except (KeyError, TypeError, ValueError):
            return None

    def status(self) -> Status:
        data = _read_json(self.root / "status.json")
        try:
            return Status(
                key=_tuple(data["key"]),
                problems=tuple(Problem(**p) for p in data["problems"]),
                stamps=tuple(stamps.Damage(**d) for d in data["stamps"]),
            )
        except (KeyError, TypeError, ValueError):
            return Status()

    def commit(self, head: Head | None, status: Status) -> None:
        """Move the head (when given) and record the status, then tick the signal. Under the
        lock: the head is written first, so a process that sees the tick finds it."""
        if head is not None:
            _write_json(self.root / "head.json", dataclasses.asdict(head))
        _write_json(
            self.root / "status.json",
            {
                "format": FORMAT,
                "key": list(status.key),
                "problems": [dataclasses.asdict(p) for p in status.problems],
                "stamps": [dataclasses.asdict(d) for d in status.stamps],
            },
        )
        self.signal.tick()

    def next_head(self, previous: Head | None, version_id: str) -> Head:
        if previous is None:
            return Head(secrets.token_hex(8), 1, version_id)
        return Head(previous.store, previous.serial + 1, version_id)

    # -- versions ------------------------------------------------------------------------------

    def has(self, version_id: str) -> bool:
        return (self.versions / version_id / "manifest.json").is_file()

    def write(self, version: Version, source: bytes, schedule_path: str) -> str:
        """Store a version (once: the id names its content) and return its id."""
        stamps_text = stamps.dumps(version.stamps)
        version_id = hashlib.sha256(
            version.source_digest.encode() + b"\n" + stamps_text.encode()
        ).hexdigest()[:24]
        if self.has(version_id):
            return version_id
        folder = Path(tempfile.mkdtemp(prefix=f".{version_id}.", dir=self.versions))
        os.chmod(folder, 0o755)
        feeds = []
        for number, (path, document) in enumerate(version.feeds.items()):
            name = f"{number}.ics"
            (folder / name).write_bytes(document.body)
            (folder / f"{name}.gz").write_bytes(document.gzipped)
            feeds.append(
                {
                    "path": path,
                    "file": name,
                    "etag": document.etag[1:-1],
                    "modified": document.last_modified.isoformat(),
                    "filename": document.filename,
                }
            )
        (folder / "source.yaml").write_bytes(source)
        (folder / "stamps.json").write_text(stamps_text, encoding="utf-8")
        manifest = {
            "format": FORMAT,
            "id": version_id,
            "schedule": schedule_path,
            "source_digest": version.source_digest,
            "last_modified": version.last_modified.isoformat(),
            "warnings": [dataclasses.asdict(w) for w in version.warnings],
            "feeds": feeds,
        }
        _write_json(folder / "manifest.json", manifest)
        try:
            os.rename(folder, self.versions / version_id)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            if not self.has(version_id):
                raise
        return version_id

    def load(self, version_id: str) -> Version:
        """A stored version with its feeds in memory; schedule and stamps load on first use.
        Raises OSError or ValueError when the folder is missing or damaged."""
        folder = self.versions / version_id
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("id") != version_id:
            raise ValueError(f"{folder}: not a version of this format")
        feeds = {}
        for entry in manifest["feeds"]:
            body = (folder / entry["file"]).read_bytes()
            if Document.tag_of(body) != entry["etag"]:
                raise ValueError(f"{folder / entry['file']}: damaged (its digest does not match)")
            feeds[entry["path"]] = Document.restore(
                body,
                (folder / f"{entry['file']}.gz").read_bytes(),
                ICS,
                dt.datetime.fromisoformat(entry["modified"]),
                entry["filename"],
                entry["etag"],
            )
        schedule_path = manifest["schedule"]

        def load():
            report = check((folder / "source.yaml").read_bytes(), schedule_path)
            if report.schedule is None:
                raise ValueError(f"{folder}: the stored schedule is not valid")
            return report.schedule, self.stamps_of(version_id)

        return Version(
            source_digest=manifest["source_digest"],
            warnings=tuple(Problem(**w) for w in manifest["warnings"]),
            feeds=feeds,
            last_modified=dt.datetime.fromisoformat(manifest["last_modified"]),
            load=load,
        )

    def stamps_of(self, version_id: str) -> dict[str, stamps.Stamp]:
        return stamps.loads((self.versions / version_id / "stamps.json").read_text("utf-8"))

    def floor(self, head: Head | None) -> tuple[dict[str, stamps.Stamp], int]:
        """The stamps already published: the head's, merged with any other kept version's
        (the head's are the highest unless its folder is damaged). Returns them and how many
        version folders could not be read."""
        from .publish import newest

        names = [head.version] if head is not None else []
        names += [n for n in self._by_age() if n not in names]
        found, unreadable = [], 0
        for name in names:
            try:
                found.append(self.stamps_of(name))
            except (OSError, ValueError):
                unreadable += 1
        return newest(*found), unreadable

    def _by_age(self) -> list[str]:
        entries = []
        for child in self.versions.iterdir():
            if child.name.startswith("."):
                continue
            try:
                entries.append((child.stat().st_mtime, child.name))
            except OSError:
                continue
        return [name for _, name in sorted(entries, reverse=True)]

    def collect(self, head: Head | None) -> None:
        """Delete all but the newest KEEP versions (never the head's) and old litter."""
        keep = {head.version} if head is not None else set()
        for name in self._by_age():
            if len(keep) >= KEEP:
                break
            keep.add(name)
        now = time.time()
        for child in self.versions.iterdir():
            try:
                litter = (
                    child.name.startswith(".") and now - child.stat().st_mtime > STALE_TEMPORARY
                )
            except OSError:
                continue
            if litter or (not child.name.startswith(".") and child.name not in keep):
                shutil.rmtree(child, ignore_errors=True)


def _tuple(value) -> tuple:
    return tuple(_tuple(v) if isinstance(v, list) else v for v in value)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format", FORMAT) == FORMAT else {}


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps({"format": FORMAT, **data}, indent=1, sort_keys=True) + "\n"
    if not write_atomically(path, text):
        raise OSError(f"cannot write {path}")
