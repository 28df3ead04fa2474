"""The publisher of one process: which version it serves, and who notices that the files changed.

Every request asks :meth:`Publisher.current`, which compares the store's signal (8 bytes of
shared memory) with the value this process last saw and, when it moved, adopts the store's head
before answering: reading the stored feeds takes milliseconds, rendering happened elsewhere.
So a process never answers from an older version once any process has answered from a newer one.

A watcher thread in every process looks at the files every ``interval`` seconds (a stat each)
and adopts new heads in the background, so requests rarely wait. When the files changed and the
schedule has been still for ``settle`` seconds, the first process to take the store's lock
releases (:mod:`feed.release`): in its watcher thread for a schedule of ordinary size, and in
a child process with a time limit above ``child_above`` bytes, so the render of a large
schedule never holds a server process's memory or interpreter. Files are read without
blocking (a FIFO is a problem, not a hang), and a failed release is retried later: nothing
stops the watcher.

``interval=0`` is the development mode of the tests: no thread, the files are looked at on
every request and released in the requesting thread.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import stamps
from .publish import Version, stamps_path_for
from .release import LOCK_TIMEOUT, Sources, key_of, observe, record_failure, release, settled
from .schedule import Problem
from .store import Store, default_root

log = logging.getLogger(__name__)

RELEASE_TIMEOUT = 300.0  # seconds for one release in a child process (the largest takes ~20 s)
# A schedule larger than this is released in a child process; a smaller one in the watcher
# thread (the bundled schedule renders in about 0.1 s: a child would only add its start-up).
CHILD_ABOVE = 128 * 1024
RETRY_AFTER = 30.0  # seconds before the same files are released again after a failed release
SIGNAL_TICK = 0.1  # seconds between the watcher's looks at the signal (a memory read)

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class Publisher:
    """Serves the store's head; watches schedule.yaml and its stamps file for changes.

    ``settle``: how long (seconds) a changed schedule must stay unchanged before it is read, so
    an editor that saves in two steps never publishes half a file. ``interval``: seconds between
    looks at the files. ``write_stamps``: keep the stamps file up to date (and repair it).
    ``state_dir``: the store (default: beside the stamps file when writable, else a private
    temporary folder).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        stamps_path: str | os.PathLike | None = None,
        settle: float = 1.0,
        interval: float = 1.0,
        write_stamps: bool = True,
        state_dir: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.time,
        release_timeout: float = RELEASE_TIMEOUT,
        child_above: int = CHILD_ABOVE,
    ):
        self.path = Path(path)
        self.stamps_path = Path(stamps_path) if stamps_path else stamps_path_for(self.path)
        self.sources = Sources(self.path, self.stamps_path, write_stamps, settle)
        root = (
            Path(state_dir)
            if state_dir
            else default_root(self.stamps_path, write_stamps, self.path)
        )
        self.store = Store(root)
        self.settle = settle
        self.interval = interval
        self.write_stamps = write_stamps
        self.clock = clock
        self.release_timeout = release_timeout
        self.child_above = child_above
        self.version: Version | None = None
        self.serial: tuple[str, int] | None = None  # (store id, serial) of the adopted head
        self.problems: tuple[Problem, ...] = ()
        self.stamp_damage: tuple[stamps.Damage, ...] = ()
        self._seen = b"?"
        self._sync_lock = threading.Lock()
        self._observed: tuple | None = None
        self._pending = True
        self._retry_at = 0.0
        self._watcher_pid: int | None = None
        self._stop = threading.Event()
        self.inline = interval == 0
        self._sync()
        if self.inline:
            self._look(force=self.version is None)
        else:
            if self.version is None:
                # Nothing to serve yet: publish what is there now, settled or not, and wait.
                self._release(force=True)
                self._sync()
            self._start_watcher()

    # -- the request path ----------------------------------------------------------------------

    def current(self) -> Version | None:
        """The version to serve now: the store's head, adopted first if it moved."""
        if self.inline:
            self._look()
        elif self.store.signal.value() != self._seen:
            self._sync()
        if self._watcher_pid != _pid and not self.inline:
            self._start_watcher()  # forked after start (a preloading server): watch here too
        return self.version

    def _sync(self) -> None:
        """Adopt the store's head and status (once per tick of the signal)."""
        with self._sync_lock:
            seen = self.store.signal.value()
            if seen == self._seen:
                return
            for _attempt in range(3):
                head = self.store.head()
                if head is None or self.serial == (head.store, head.serial):
                    break
                if self.serial and self.serial[0] == head.store and head.serial < self.serial[1]:
                    break  # never back to an older head
                try:
                    self.version = self.store.load(head.version)
                except (OSError, ValueError) as exc:
                    log.error("cannot load published version %s: %s", head.version, exc)
                    continue  # collected under us by a newer release: read the head again
                self.serial = (head.store, head.serial)
                break
            status = self.store.status()
            self.problems = status.problems
            self.stamp_damage = status.stamps
            self._seen = seen

    # -- looking at the files --------------------------------------------------------------------

    def _observation(self) -> tuple:
        return (
            observe(self.sources.schedule),
            observe(self.sources.stamps),
            observe(self.sources.damaged),
        )

    def _look(self, force: bool = False) -> None:
        """Inline mode: release in this thread when the files changed and have settled."""
        try:
            if self.store.signal.value() != self._seen:
                self._sync()
            if not self._changed(force):
                return
            with self.store.locked(LOCK_TIMEOUT) as got:
                if not got:
                    return
                outcome = release(self.store, self.sources, self.clock, force)
            if outcome.what == "unsettled":
                self._pending = True
                return
            head = outcome.head
            if outcome.version is not None and head is not None:
                with self._sync_lock:
                    if head.version == outcome.version_id:
                        self.version = outcome.version  # the one just built: no reload
                        self.serial = (head.store, head.serial)
            self._sync()
        except Exception:  # noqa: BLE001 - a request must never fail because of the files
            log.exception("%s: looking at the schedule failed", self.path)

    def _changed(self, force: bool = False) -> bool:
        """True when the files changed since they were last examined and have settled."""
        observed = self._observation()
        if observed != self._observed:
            self._observed = observed
            self._pending = True
        if not self._pending:
            return False
        if not force and not settled(self.sources, self.clock()):
            return False
        self._pending = False
        return key_of(self.sources) != self.store.status().key

    # -- the watcher -----------------------------------------------------------------------------

    def _start_watcher(self) -> None:
        self._watcher_pid = _pid
        thread = threading.Thread(target=self._watch, name="feed-watcher", daemon=True)
        thread.start()

    def _watch(self) -> None:
        next_look = 0.0
        while not self._stop.wait(min(SIGNAL_TICK, self.interval)):
            try:
                self.store.signal.reopen_if_replaced()
                if self.store.signal.value() != self._seen:
                    self._sync()
                    self._prepare()
                # Every interval; and while a change waits to settle, on every tick, so it is
                # released as soon as it has.
                if self.clock() < next_look and not self._pending:
                    continue
                next_look = self.clock() + self.interval
                if self.clock() >= self._retry_at and self._changed():
                    self._release()
                    self._sync()
                    self._prepare()
            except Exception:  # noqa: BLE001 - the watcher must outlive any one failure
                log.exception("%s: the watcher failed; trying again", self.path)

    def _prepare(self) -> None:
        """Read the adopted version's schedule now, so no page request waits for it."""
        version = self.version
        if version is not None:
            try:
                version.schedule  # noqa: B018 - loads it
            except (OSError, ValueError) as exc:
                log.error("cannot load the schedule of the published version: %s", exc)

    def _release(self, force: bool = False) -> None:
        """Release in this thread when the schedule is small, else in a child process."""
        try:
            size = os.stat(self.sources.schedule).st_size
        except OSError:
            size = 0
        if size > self.child_above:
            self._release_in_child(force)
            return
        with self.store.locked(LOCK_TIMEOUT) as got:
            if got and release(self.store, self.sources, self.clock, force).what == "unsettled":
                self._pending = True

    def _release_in_child(self, force: bool = False) -> None:
        """Run one release in a child process, if no other process is running one."""
        with self.store.locked(0, name="build") as got:
            if not got:
                self._pending = True  # another process is releasing: look again later
                return
            command = [
                sys.executable,
                "-c",
                "import sys; from feed.release import main; sys.exit(main(sys.argv[1:]))",
                "--schedule",
                str(self.sources.schedule),
                "--stamps",
                str(self.sources.stamps),
                "--state",
                str(self.store.root),
                "--settle",
                str(0 if force else self.settle),
            ]
            if not self.write_stamps:
                command.append("--read-only")
            path = os.environ.get("PYTHONPATH")
            env = {
                **os.environ,
                "PYTHONPATH": _PACKAGE_PARENT + (os.pathsep + path if path else ""),
            }
            try:
                result = subprocess.run(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    timeout=self.release_timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                self._failed(f"publishing took longer than {self.release_timeout:.0f} s")
                return
            if result.returncode != 0:
                self._failed(f"publishing failed (exit status {result.returncode})")
            elif result.stdout.strip() == b"unsettled":
                self._pending = True

    def _failed(self, message: str) -> None:
        log.error("%s: %s", self.path, message)
        self._retry_at = self.clock() + RETRY_AFTER
        self._pending = True
        record_failure(self.store, self.sources, message)

    def stop(self) -> None:
        """Stop the watcher (tests and embedding; servers just exit)."""
        self._stop.set()


_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
