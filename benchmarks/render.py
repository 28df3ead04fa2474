"""Render time and peak memory against schedule size, and against yaml2ics on the same content.

Run from the repository root (yaml2ics lives in its own venv so it cannot touch ours):

    python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install yaml2ics
    .venv/bin/python benchmarks/render.py --yaml2ics-python /tmp/bench-venv/bin/python

"reload" is what the app does when schedule.yaml changes (parse, validate, digest every event,
render calendar.ics and each series feed); "render" is ical.render of calendar.ics alone;
yaml2ics is its files_to_calendar() plus serialize(), i.e. parse and render one calendar.
Times are the best of several runs; memory is tracemalloc's peak in a separate run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import schedules  # noqa: E402

from feed import ical  # noqa: E402
from feed.publish import build_version  # noqa: E402

EDITED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

YAML2ICS_TIMER = """
import json, sys, time, tracemalloc
import yaml2ics
path, runs = sys.argv[1], int(sys.argv[2])
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    text = yaml2ics.files_to_calendar([path]).serialize()
    best = min(best, time.perf_counter() - start)
tracemalloc.start()
yaml2ics.files_to_calendar([path]).serialize()
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": best, "peak": peak, "bytes": len(text.encode())}))
"""


def best_of(runs: int, function) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_ours(name: str, source: bytes, runs: int) -> dict:
    def reload():
        version, report = build_version(source, name, {}, EDITED)
        assert version is not None, report.errors
        return version

    version = reload()
    sessions = sum(len(s.sessions) for s in version.schedule.series)
    return {
        "schedule": name,
        "sessions": sessions,
        "feed_bytes": len(version.feed().body),
        "reload_s": best_of(runs, reload),
        "render_s": best_of(
            runs,
            lambda: ical.render(
                version.schedule, ical.SUBSCRIPTION, ical.events(version.schedule), version.stamps
            ),
        ),
        # A reminder feed (?alarm=15m) is written from the events the reload serialized.
        "alarm_s": best_of(
            runs,
            lambda: ical.render(
                version.schedule, ical.Options(alarm="15m"), version.events, version.stamps
            ),
        ),
        "reload_peak_mb": peak_memory(reload) / 2**20,
    }


def measure_yaml2ics(python: str, text: str, runs: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    try:
        out = subprocess.run(
            [python, "-c", YAML2ICS_TIMER, handle.name, str(runs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        Path(handle.name).unlink()
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (best is kept)")
    parser.add_argument("--yaml2ics-python", help="python of a venv with yaml2ics installed")
    parser.add_argument("--years", type=int, nargs="*", default=[10, 50])
    args = parser.parse_args()

    rows = [measure_ours("schedule.yaml", (HERE.parent / "schedule.yaml").read_bytes(), args.runs)]
    for years in args.years:
        rows.append(measure_ours(f"{years} years", schedules.ours(years).encode(), args.runs))

    print(
        f"{'schedule':<14} {'sessions':>8} {'feed kB':>8} {'reload ms':>10} {'µs/session':>10} "
        f"{'render ms':>10} {'µs/session':>10} {'alarm ms':>9} {'peak MB':>8}"
    )
    for r in rows:
        n = r["sessions"]
        print(
            f"{r['schedule']:<14} {n:>8} {r['feed_bytes'] / 1000:>8.1f} "
            f"{r['reload_s'] * 1e3:>10.1f} {r['reload_s'] / n * 1e6:>10.0f} "
            f"{r['render_s'] * 1e3:>10.1f} {r['render_s'] / n * 1e6:>10.0f} "
            f"{r['alarm_s'] * 1e3:>9.1f} {r['reload_peak_mb']:>8.1f}"
        )

    if args.yaml2ics_python:
        print("\nyaml2ics on the same sessions (one event per session; parse + serialize):")
        for years in args.years:
            theirs = measure_yaml2ics(args.yaml2ics_python, schedules.yaml2ics(years), args.runs)
            mine = next(r for r in rows if r["schedule"] == f"{years} years")
            print(
                f"{years} years: yaml2ics {theirs['seconds'] * 1e3:.1f} ms "
                f"(peak {theirs['peak'] / 2**20:.1f} MB, {theirs['bytes'] / 1000:.0f} kB); "
                f"ours reload {mine['reload_s'] * 1e3:.1f} ms -> "
                f"{theirs['seconds'] / mine['reload_s']:.1f}x faster, "
                f"ours render {mine['render_s'] * 1e3:.1f} ms -> "
                f"{theirs['seconds'] / mine['render_s']:.1f}x faster"
            )


if __name__ == "__main__":
    main()
