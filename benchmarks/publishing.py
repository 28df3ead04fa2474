"""Publishing a schedule at the size limit, and how soon every worker serves an edit.

    .venv/bin/python benchmarks/publishing.py                 # both parts
    .venv/bin/python benchmarks/publishing.py --edits 10      # convergence only: --skip-large

Part 1, the largest schedule: 49 000 one-off events, just under the 1 MiB limit of
schedule.yaml (benchmarks/schedules.py). It is released the way a server releases it, in a
child process (``feed.release.main``), timed, with that process's peak RSS; then a process
adopts the stored version as a worker does (``Store.load``: the feeds), then reads its schedule
(what pages need), each timed, with the RSS after.

Part 2, convergence: the production server with its default settings (settle 1 s, a look
every second), 2 workers, no other traffic. Each edit rewrites schedule.yaml in place; the time
is from the write until every worker (each asked on a connection of its own) serves the new
version. Printed: every time, and min / median / max.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

import schedules  # noqa: E402

from servers import Workers, app_server  # noqa: E402

ADOPT = """
import json, resource, sys, time
from pathlib import Path
from feed.store import Store
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
store = Store(Path(sys.argv[1]))
base = rss()
start = time.perf_counter()
version = store.load(store.head().version)
loaded = time.perf_counter() - start
after_feeds = rss()
start = time.perf_counter()
version.schedule
parsed = time.perf_counter() - start
print(json.dumps({"base": base, "load_s": loaded, "after_feeds": after_feeds,
                  "schedule_s": parsed, "after_schedule": rss(),
                  "feed_bytes": len(version.feeds["/calendar.ics"].body)}))
"""


def large(count: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="feed-large-"))
    try:
        schedule = home / "schedule.yaml"
        schedule.write_text(schedules.oneoffs(count))
        size = schedule.stat().st_size
        command = [
            sys.executable,
            "-c",
            "import sys; from feed.release import main; sys.exit(main(sys.argv[1:]))",
            "--schedule", str(schedule),
            "--stamps", str(home / "schedule.stamps.json"),
            "--state", str(home / "state"),
            "--settle", "0",
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        adopt = json.loads(
            subprocess.run(
                [sys.executable, "-c", ADOPT, str(home / "state")],
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout
        )
        print(f"schedule: {count} one-off events, {size} bytes")
        peak_mb = max(peak, before) / 1024
        print(f"release in a child process: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
        print(
            f"adopt (read the stored feeds, {adopt['feed_bytes'] / 1e6:.1f} MB for calendar.ics): "
            f"{adopt['load_s'] * 1e3:.0f} ms, "
            f"RSS {adopt['base']:.0f} -> {adopt['after_feeds']:.0f} MB"
        )
        print(
            f"then read its schedule (for pages): {adopt['schedule_s']:.1f} s, "
            f"RSS {adopt['after_schedule']:.0f} MB"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def convergence(edits: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="feed-converge-"))
    try:
        schedule = home / "schedule.yaml"
        original = (ROOT / "tests" / "schedules" / "small.yaml").read_text()
        schedule.write_text(original)
        env = {"FEED_HEALTH_DETAILS": "1", "FEED_STATE_DIR": str(home / "state")}
        times = []
        with app_server(schedule, workers=2, env=env) as server:
            probe = Workers(server)
            for n in range(edits):
                time.sleep(1.5)
                marker = f"Convergence edit {n}"
                with schedule.open("w") as handle:
                    handle.write(original.replace("After the fall change", marker))
                written = time.monotonic()
                while True:
                    answers = probe.ask()
                    if all(marker.encode() in body for *_, body in answers.values()):
                        times.append(time.monotonic() - written)
                        break
                    time.sleep(0.02)
            probe.close()
        print(f"convergence after an edit, {edits} edits, 2 workers, settle 1 s, look every 1 s:")
        print("  " + ", ".join(f"{t:.2f}" for t in times) + " s")
        print(
            f"  min {min(times):.2f} s, median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=49_000)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    if not args.skip_large:
        large(args.events)
    if args.edits:
        convergence(args.edits)


if __name__ == "__main__":
    main()
