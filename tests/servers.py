"""Real servers for tests: the production server (``python -m feed.server``, granian) on
loopback ports, and helpers to reach each of its worker processes."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REACH_DEADLINE = 30.0  # seconds to reach every worker: bounds a hang


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0, log=None) -> None:
    """Poll url until it answers; fail with the server's last log lines if it dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {_tail(process, log)}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up in {timeout}s: {_tail(process, log)}")


def _tail(process, log) -> str:
    if log is not None:
        log.seek(0)
        output = log.read()
    else:
        output = process.stderr.read() if process.stderr else b""
    return output.decode(errors="replace")[-3000:]


class Server(str):
    """The base URL (a str, as the tests use it), with the server's process and log."""

    process: subprocess.Popen
    log: object
    port: int

    def workers(self) -> list[int]:
        """The pids of the worker processes now (children of the master)."""
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def health(self) -> dict:
        """/healthz over a new connection (so any worker may answer it)."""
        status, _, body = request(self.port, "/healthz")
        data = json.loads(body)
        data["http_status"] = status
        return data

    def reload(self) -> None:
        """kill -HUP: the server replaces every worker."""
        self.process.send_signal(signal.SIGHUP)

    def output(self) -> str:
        return _tail(self.process, self.log)


def request(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection (closed after it): a new connection may reach any
    worker, where a kept-alive one stays with the worker that accepted it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


@contextlib.contextmanager
def app_server(
    schedule: Path,
    *,
    workers: int = 2,
    threads: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run the app under the production server on 127.0.0.1; yields its base URL."""
    port = free_port()
    environ = {**os.environ, "FEED_SCHEDULE": str(schedule), **(env or {})}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feed.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: a chatty server never blocks on a full pipe
        start_new_session=True,  # its own process group: stopped whole, children included
    )
    server = Server(f"http://127.0.0.1:{port}")
    server.process, server.log, server.port = process, log, port
    try:
        wait_until_up(server + "/healthz", process, log=log)
        deadline = time.monotonic() + 30
        while len(server.workers()) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


class Workers:
    """A kept-alive connection to each worker process: a connection stays with the worker
    that accepted it, so each worker can be asked directly."""

    def __init__(self, server: Server):
        self.server = server
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def get(self, connection, path: str) -> tuple[int, dict, bytes]:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def reach_all(self) -> None:
        """Open connections until every live worker holds one (bounded)."""
        deadline = time.monotonic() + REACH_DEADLINE
        while time.monotonic() < deadline:
            alive = set(self.server.workers())
            for pid in list(self.connections):
                if pid not in alive:
                    self.connections.pop(pid).close()
            if alive and alive <= set(self.connections):
                return
            connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            try:
                _, _, body = self.get(connection, "/healthz")
            except (OSError, http.client.HTTPException):
                connection.close()
                time.sleep(0.05)
                continue
            pid = json.loads(body)["pid"]
            if pid in self.connections or pid not in alive:
                connection.close()
            else:
                self.connections[pid] = connection
        raise AssertionError(f"could not reach every worker: {self.server.output()}")

    def ask(self) -> dict[int, tuple[dict, int, dict, bytes]]:
        """Each worker's /healthz and /calendar.ics."""
        self.reach_all()
        answers = {}
        for pid, connection in list(self.connections.items()):
            try:
                _, _, health = self.get(connection, "/healthz")
                status, headers, body = self.get(connection, "/calendar.ics")
            except (OSError, http.client.HTTPException):
                self.connections.pop(pid).close()  # closed while idle: reach it again
                return self.ask()
            answers[pid] = (json.loads(health), status, headers, body)
        return answers

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
