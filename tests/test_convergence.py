"""One truth across worker processes and restarts, on the real production server.

A property test applies seeded random sequences of writes to schedule.yaml (valid edits,
broken saves, half-written files, reverts to earlier bytes; written in place, renamed over,
re-created with an old mtime, or swapped in as a ConfigMap does), with random gaps, under no
traffic and under load, and after each step checks on every worker (each reached through a
kept-alive connection of its own) and through clients that hop between workers:

- convergence: every worker serves the same version, the newest valid content written (or,
  while the file is broken, a good one, and says "degraded");
- monotonic: no client ever gets an older version after a newer one (an ETag it had left
  behind, or a lower SEQUENCE for any event).

Nothing asserted depends on how fast the machine is: waits end when the condition holds, and
their deadlines only bound a hang (the time convergence takes is measured in benchmarks/).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from subscribers import Client

from servers import Workers, app_server, request

SMALL = Path(__file__).parent / "schedules" / "small.yaml"
TOPIC = "After the fall change"
SETTLE = 0.3
ENV = {
    "FEED_SETTLE_SECONDS": str(SETTLE),
    "FEED_CHECK_INTERVAL": "0.2",
    "FEED_HEALTH_DETAILS": "1",  # /healthz names the worker (pid) and its serial
}
DEADLINE = 30.0  # seconds: bounds a hang; a working server converges in about a second
STEPS = 6


def converge(workers: Workers, clients: dict[int, Client], topics: set[str], broken: bool):
    """Wait until every worker serves the same version, one of ``topics``, and says ok (or
    degraded while broken); check each worker's answers as a client of its own meanwhile."""
    deadline = time.monotonic() + DEADLINE
    while True:
        answers = workers.ask()
        for pid, (_, status, headers, body) in answers.items():
            clients.setdefault(pid, Client(f"worker {pid}", clients[0].problems))
            clients[pid].saw(status, headers, body)
        versions = {(h["serial"], h["version"], hd["etag"]) for h, _, hd, _ in answers.values()}
        states = {h["status"] for h, *_ in answers.values()}
        bodies = [body for *_, body in answers.values()]
        served = [{t for t in topics if t.encode() in body} for body in bodies]
        if (
            len(versions) == 1
            and states == {"degraded" if broken else "ok"}
            and all(len(found) == 1 and found == served[0] for found in served)
        ):
            return
        if time.monotonic() > deadline:
            healths = [h for h, *_ in answers.values()]
            raise AssertionError(f"no convergence on {topics}: {healths}")
        time.sleep(0.05)


# -- the writes ---------------------------------------------------------------------------------


def in_place(path: Path, text: str) -> None:
    with path.open("w") as handle:
        handle.write(text)


def renamed_over(path: Path, text: str) -> None:
    temporary = path.with_name(".schedule.yaml.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


def recreated_with_an_old_mtime(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text)
    os.utime(path, (1_700_000_000, 1_700_000_000))


def configmap(path: Path, text: str) -> None:
    """A ConfigMap update: a new folder, and the ..data symlink swapped to it in one rename
    (schedule.yaml is a symlink to ..data/schedule.yaml; made again if a write replaced it)."""
    folder = path.parent
    if not path.is_symlink():
        path.unlink()
        os.symlink("..data/schedule.yaml", path)
    new = folder / f"..data-{time.monotonic_ns()}"
    new.mkdir()
    (new / "schedule.yaml").write_text(text)
    os.symlink(new.name, folder / "..tmp")
    os.replace(folder / "..tmp", folder / "..data")


WRITES = [in_place, renamed_over, recreated_with_an_old_mtime]


def steps(rng: random.Random, original: str):
    """Seeded steps: each a list of (text, how, gap) writes and what the last one means."""
    valid = [original]
    number = 0
    for _ in range(STEPS):
        kind = rng.choice(["valid", "broken", "half", "revert", "quick"])
        how = rng.choice(WRITES)
        if kind == "revert" and len(valid) > 1:
            writes = [rng.choice(valid[:-1])]
        elif kind == "broken":
            writes = [valid[-1].replace("every: tuesday", "every: someday")]
        elif kind == "half":  # an editor that saves half, then the rest
            number += 1
            text = original.replace(TOPIC, f"Topic {number}")
            writes = [text[: len(text) // 2], text]
        elif kind == "quick":  # saved twice within the settle time: only the last counts
            number += 2
            writes = [original.replace(TOPIC, f"Topic {number - 1}")]
            writes.append(original.replace(TOPIC, f"Topic {number}"))
        else:
            number += 1
            writes = [original.replace(TOPIC, f"Topic {number}")]
        if "someday" not in writes[-1] and writes[-1] != valid[-1]:
            valid.append(writes[-1])
        yield [(text, how, rng.uniform(0, SETTLE / 3)) for text in writes]


def topic_of(text: str) -> str:
    return re.search(r"2026-11-03: (.*)", text).group(1)


def hopping_client(port: int, client: Client, stop: threading.Event) -> None:
    """Load: a subscriber on new connections (so any worker answers), half of them
    revalidating, until stopped."""
    etag = None
    while not stop.is_set():
        headers = {"If-None-Match": etag} if etag and random.random() < 0.5 else {}
        try:
            status, found, body = request(port, "/calendar.ics", headers)
        except OSError as exc:
            client.problems.append(f"{client.name}: {exc!r}")
            continue
        if status == 304:
            if found.get("etag") != etag:
                client.problems.append(f"{client.name}: 304 for {etag} with {found.get('etag')}")
            continue
        client.saw(status, found, body)
        etag = found.get("etag")


@pytest.mark.parametrize(
    ("seed", "load", "workers", "read_only"),
    [(1, False, 3, False), (2, True, 2, True)],
    ids=["quiet-3-workers", "load-2-workers-read-only-in-child"],
)
def test_every_worker_converges_and_no_client_goes_back(tmp_path, seed, load, workers, read_only):
    site = tmp_path / "site"
    (site / "..data-0").mkdir(parents=True)
    original = SMALL.read_text()
    (site / "..data-0" / "schedule.yaml").write_text(original)
    os.symlink("..data-0", site / "..data")
    schedule = site / "schedule.yaml"
    os.symlink("..data/schedule.yaml", schedule)
    env = {**ENV, "FEED_STATE_DIR": str(tmp_path / "state")}
    if read_only:
        # Read-only, and every version released in a child process (as a large one is).
        env["FEED_WRITE_STAMPS"] = "0"
        env["FEED_RELEASE_IN_CHILD_ABOVE"] = "0"
    problems: list[str] = []
    clients = {0: Client("first", problems)}
    rng = random.Random(seed)
    with app_server(schedule, workers=workers, env=env) as server:
        probe = Workers(server)
        stop = threading.Event()
        hoppers = [Client(f"hopper {n}", problems) for n in range(3 if load else 1)]
        threads = [
            threading.Thread(target=hopping_client, args=(server.port, c, stop), daemon=True)
            for c in hoppers
        ]
        for thread in threads:
            thread.start()
        try:
            converge(probe, clients, {topic_of(original)}, broken=False)
            good = original
            for writes in steps(rng, original):
                candidates = {topic_of(good)}
                for text, how, gap in writes:
                    (configmap if rng.random() < 0.2 else how)(schedule, text)
                    time.sleep(gap)
                    if "someday" not in text and "2026-11-03:" in text:
                        candidates.add(topic_of(text))
                final = writes[-1][0]
                broken = "someday" in final
                if not broken:
                    good, candidates = final, {topic_of(final)}
                converge(probe, clients, candidates, broken)
                assert not problems, problems[:5]
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=DEADLINE)
            probe.close()
        # The hopping clients saw the final version too.
        for hopper in hoppers:
            assert hopper.etags, f"{hopper.name} got no answer"
    assert not problems, problems[:5]
    if read_only:
        assert not (site / "schedule.stamps.json").exists()


def test_killed_workers_and_a_reload_serve_the_newest_good_version(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    original = SMALL.read_text()
    schedule.write_text(original)
    problems: list[str] = []
    clients = {0: Client("first", problems)}
    with app_server(schedule, workers=2, env=ENV) as server:
        probe = Workers(server)
        converge(probe, clients, {topic_of(original)}, broken=False)
        edited = original.replace(TOPIC, "Edited before the restart")
        renamed_over(schedule, edited)
        converge(probe, clients, {"Edited before the restart"}, broken=False)
        with schedule.open("a") as handle:
            handle.write("  broken: [\n")  # a broken append
        converge(probe, clients, {"Edited before the restart"}, broken=True)

        before = set(server.workers())
        os.kill(next(iter(before)), signal.SIGKILL)
        deadline = time.monotonic() + DEADLINE
        while len(set(server.workers()) - before) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        converge(probe, clients, {"Edited before the restart"}, broken=True)

        before = set(server.workers())
        server.reload()  # kill -HUP: every worker is replaced
        while set(server.workers()) & before and time.monotonic() < deadline + DEADLINE:
            time.sleep(0.05)
        assert not set(server.workers()) & before, "the reload did not replace the workers"
        converge(probe, clients, {"Edited before the restart"}, broken=True)
        probe.close()
    assert not problems, problems


# -- slow and idle clients -------------------------------------------------------------------------


def test_half_sent_requests_do_not_stop_the_server(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    shutil.copy(SMALL, schedule)
    with app_server(schedule, workers=2) as server:
        stalled = []
        try:
            for _ in range(64):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                sock.sendall(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\nUser-Ag")
                stalled.append(sock)
            for path in ["/healthz", "/calendar.ics", "/"] * 5:
                status, _, body = request(server.port, path, timeout=10)
                assert status == 200 and body
            # The server hangs up on them (header read timeout) instead of waiting forever.
            for sock in stalled:
                sock.settimeout(DEADLINE)
                try:
                    leftover = sock.recv(1024)
                except ConnectionResetError:
                    leftover = b""
                assert leftover == b"" or leftover.startswith(b"HTTP/1.1 408")
        finally:
            for sock in stalled:
                sock.close()
