"""Real servers for tests: gunicorn (and plain static file servers) on loopback ports."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 20.0, log=None) -> None:
    """Poll url until it answers; fail with the server's last log lines if it dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if log is not None:
                log.seek(0)
                output = log.read()
            else:
                output = process.stderr.read() if process.stderr else b""
            raise RuntimeError(
                f"server exited with {process.returncode}: "
                f"{output.decode(errors='replace')[-2000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up in {timeout}s")


@contextlib.contextmanager
def gunicorn(
    schedule: Path, *, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run the app under a real gunicorn on 127.0.0.1; yields its base URL."""
    port = free_port()
    environ = {**os.environ, "FEED_SCHEDULE": str(schedule), **(env or {})}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: a chatty server never blocks on a full pipe
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", process, log=log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
