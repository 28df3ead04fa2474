"""Under load, while schedule.yaml is rewritten: every answer is a whole calendar or a 304,
and no reader ever goes back to an older version.

The production server (2 workers) serves a copy of tests/schedules/small.yaml on loopback.
Reader threads poll /calendar.ics (plain, gzip, and revalidating with If-None-Match), each on
a kept-alive connection (so each stays with one worker) or on a new connection per request
(so it hops between workers), while a writer rewrites the file a fixed number of times: valid
versions with new topics, invalid ones, and slow two-step writes; then a final version.
Readers go on until each has been served that final version and a 304 for it. What is
asserted holds on any machine, however fast or slow: every reader reads until the writer is
done and then until it has the final version, so nothing depends on how many requests fit
in the time; the time limits only bound a hang.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import random
import shutil
import threading
import time
from pathlib import Path

import icalendar
from subscribers import Client

from servers import app_server

SMALL = Path(__file__).parent / "schedules" / "small.yaml"
READERS = 6
EDITS = 24
FINAL = "Load topic final"
LIMIT = 60.0  # seconds: a bound on a hang, never reached by a working server
TOPIC = "After the fall change"


def etag_of(body: bytes, gzipped: bool) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + ("-gz" if gzipped else "") + '"'


class Checker:
    """Checks each response; parses each distinct body once (parsing is the slow part)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.parsed: dict[str, bool] = {}
        self.statuses: dict[int, int] = {}

    def fail(self, message: str) -> None:
        with self.lock:
            self.problems.append(message)

    def check(self, status: int, headers: dict[str, str], body: bytes, sent: str | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        etag = headers.get("etag", "")
        if status == 304:
            if body:
                self.fail(f"304 with a {len(body)}-byte body")
            if sent is None or etag.strip('"').removesuffix("-gz") != sent.strip('"').removesuffix(
                "-gz"
            ):
                self.fail(f"304 for If-None-Match {sent} carries ETag {etag}")
            return
        if status != 200:
            self.fail(f"status {status}: {body[:200]!r}")
            return
        if int(headers.get("content-length", -1)) != len(body):
            self.fail(f"Content-Length {headers.get('content-length')} but {len(body)} bytes")
            return
        gzipped = headers.get("content-encoding") == "gzip"
        try:
            plain = gzip.decompress(body) if gzipped else body
        except (OSError, EOFError) as exc:
            self.fail(f"gzip body does not decompress: {exc}")
            return
        if etag != etag_of(plain, gzipped):
            self.fail(f"ETag {etag} does not match the body ({etag_of(plain, gzipped)})")
        digest = hashlib.sha256(plain).hexdigest()
        if digest not in self.parsed:
            ok = plain.rstrip().endswith(b"END:VCALENDAR")
            try:
                ok = ok and bool(icalendar.Calendar.from_ical(plain).walk("VEVENT"))
            except ValueError:
                ok = False
            with self.lock:
                self.parsed[digest] = ok
            if not ok:
                self.fail(f"truncated or unparseable calendar ({len(plain)} bytes)")


def reader(host: str, checker: Checker, seed: int, written: threading.Event) -> bool:
    """Poll until the final version was served and then revalidated with a 304 (every other
    request is conditional). Returns whether that happened within the time limit."""
    rng = random.Random(seed)
    hops = seed % 2 == 1  # odd readers use a new connection for every request
    subscriber = Client(f"reader {seed}", checker.problems)
    connection = http.client.HTTPConnection(host, timeout=10)
    last_etag, final_etag, n = None, None, 0
    deadline = time.monotonic() + LIMIT
    try:
        while time.monotonic() < deadline:
            n += 1
            headers = {}
            if rng.random() < 0.3:
                headers["Accept-Encoding"] = "gzip"
            if last_etag and n % 2 == 0:
                headers["If-None-Match"] = last_etag
            if hops:
                connection.close()
                connection = http.client.HTTPConnection(host, timeout=10)
            try:
                connection.request("GET", "/calendar.ics", headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                checker.fail(f"connection failed: {exc!r}")
                connection.close()
                connection = http.client.HTTPConnection(host, timeout=10)
                continue
            found = {k.lower(): v for k, v in response.getheaders()}
            checker.check(response.status, found, body, headers.get("If-None-Match"))
            if response.status == 200:
                last_etag = found.get("etag")
                plain = gzip.decompress(body) if found.get("content-encoding") == "gzip" else body
                with checker.lock:
                    subscriber.saw(200, {"etag": last_etag.replace('-gz"', '"')}, plain)
                final_etag = last_etag if written.is_set() and FINAL.encode() in plain else None
            elif response.status == 304 and final_etag and headers["If-None-Match"] == final_etag:
                return True
        return False
    finally:
        connection.close()


def writer(path: Path, original: str, written: threading.Event) -> None:
    """Rewrite the schedule EDITS times, then write the final version and say so."""
    rng = random.Random(7)
    invalid = [
        "calendar: [unclosed\n",
        original.replace("every: tuesday", "every: someday"),
        original.replace("series:", "seriez:"),
        original[: len(original) // 2],
    ]
    for i in range(1, EDITS + 1):
        if i % 4 == 0:
            path.write_text(invalid[(i // 4) % len(invalid)])
        else:
            text = original.replace(TOPIC, f"Load topic {i}")
            if i % 3 == 0:  # a slow editor: half the file, a pause, then the rest
                with path.open("w") as handle:
                    handle.write(text[: len(text) // 2])
                    handle.flush()
                    time.sleep(0.01)
                    handle.write(text[len(text) // 2 :])
            else:
                path.write_text(text)
        # Mostly quick edits, but now and then a pause longer than the settle time, so
        # versions get published in between.
        time.sleep(0.3 if i % 3 == 1 else rng.uniform(0.02, 0.2))
    path.write_text(original.replace(TOPIC, FINAL))
    written.set()


def test_every_response_is_a_whole_calendar_or_a_304_while_the_file_changes(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    shutil.copy(SMALL, schedule)
    original = schedule.read_text()
    assert TOPIC in original
    env = {"FEED_SETTLE_SECONDS": "0.2", "FEED_CHECK_INTERVAL": "0.05"}
    checker = Checker()
    with app_server(schedule, workers=2, env=env) as base:
        host = base.removeprefix("http://")
        written = threading.Event()
        outcomes: list[bool] = []
        readers = [
            threading.Thread(target=lambda n=n: outcomes.append(reader(host, checker, n, written)))
            for n in range(READERS)
        ]
        for thread in readers:
            thread.start()
        writer(schedule, original, written)
        for thread in readers:
            thread.join(timeout=LIMIT + 15)

    assert not checker.problems, f"{len(checker.problems)} problems: {checker.problems[:10]}"
    assert outcomes == [True] * READERS, (
        "every reader must be served the final version, then a 304 for it",
        checker.statuses,
    )
