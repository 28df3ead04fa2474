"""The production server: granian, a Rust HTTP server, running the app's WSGI hot path.

Run ``python -m feed.server`` (``--help`` for the options). It listens on 127.0.0.1:8000, or on
every interface at ``$PORT`` when a platform sets it; one worker process per CPU. Why granian
and these settings (numbers in BENCHMARKS.md):

- HTTP parsing, keep-alive and writing bodies happen in Rust, outside the interpreter, so a
  feed request costs the server a few microseconds of Python (:mod:`feed.hotpath`), not the
  hundreds gunicorn's Python HTTP code takes.
- Connections are handled by an event loop: a client that sends half a request, or reads an
  answer slowly, holds a socket and a few kB, never a worker or a thread. Headers must arrive
  within ``HEADER_TIMEOUT``; an idle keep-alive connection is closed after it too.
- The app runs in ``BLOCKING_THREADS`` threads per worker: the request path never waits on
  I/O (publishing runs in a child process), so more threads would only contend for the GIL.
- A worker that dies is replaced; ``kill -HUP`` replaces every worker one by one. A new worker
  serves the store's head (see feed.publish): nothing depends on what a process loaded at start.
"""

from __future__ import annotations

import argparse
import os
import sys

HEADER_TIMEOUT = 5.0  # seconds for a client to send its request headers (or idle keep-alive)
BLOCKING_THREADS = 1
KILL_TIMEOUT = 20  # seconds a worker gets to finish its requests on stop or reload


def application():
    """The WSGI app of one worker process (granian calls it in each worker)."""
    from . import create_app
    from .hotpath import HotPath

    return HotPath(create_app())


def cpus() -> int:
    """CPUs this process may use (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def settings(argv: list[str] | None = None) -> dict:
    """The server's settings: command line, then environment, then defaults."""
    parser = argparse.ArgumentParser(prog="python -m feed.server", description=__doc__)
    platform_port = os.environ.get("PORT")
    parser.add_argument(
        "--host",
        default="0.0.0.0" if platform_port else "127.0.0.1",
        help="address to listen on (default: 127.0.0.1, or every interface when PORT is set)",
    )
    parser.add_argument("--port", type=int, default=int(platform_port or 8000))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or cpus()),
        help="worker processes (default: $WEB_CONCURRENCY, else one per CPU)",
    )
    parser.add_argument("--threads", type=int, default=BLOCKING_THREADS)
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=os.environ.get("FEED_ACCESS_LOG", "").lower() in ("1", "true", "yes", "on"),
        help="one line per request on standard output (FEED_ACCESS_LOG=1)",
    )
    parser.add_argument("--log-level", default=os.environ.get("FEED_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    return {
        "address": args.host,
        "port": args.port,
        "workers": max(1, args.workers),
        "blocking_threads": max(1, args.threads),
        "access_log": args.access_log,
        "log_level": args.log_level,
    }


def main(argv: list[str] | None = None) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    chosen = settings(argv)
    Granian(
        "feed.server:application",
        factory=True,
        interface=Interfaces.WSGI,
        address=chosen["address"],
        port=chosen["port"],
        workers=chosen["workers"],
        blocking_threads=chosen["blocking_threads"],
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=int(HEADER_TIMEOUT * 1000)),
        log_level=LogLevels(chosen["log_level"]),
        log_access=chosen["access_log"],
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=KILL_TIMEOUT,
    ).serve()


if __name__ == "__main__":
    sys.exit(main())
