"""Requests/s and latency under wrk: cached feed, 304 revalidation, and a constant-bytes floor.

Run from the repository root (loopback only; about 2 x 3 x DURATION seconds):

    .venv/bin/python benchmarks/throughput.py --duration 10 --runs 2

Both apps run under the checked-in gunicorn.conf.py (workers, threads, access log to
/dev/null); only the bind address and the app differ. The cases are interleaved so that
background load on the machine hits all of them alike.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, wait_until_up  # noqa: E402


def start(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """gunicorn with ./gunicorn.conf.py; only bind and the app come from the command line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_until_up(
        f"http://127.0.0.1:{port}/robots.txt"
        if app == "wsgi:app"
        else f"http://127.0.0.1:{port}/constant",
        process,
    )
    return process


def wrk(url: str, duration: int, connections: int, headers: list[str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1)),
        "errors": errors.group(0) if errors else "",
    }


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    env = {
        "GUNICORN_ACCESSLOG": "/dev/null",
        "GUNICORN_LOGLEVEL": "warning",
        "FEED_WRITE_STAMPS": "0",  # never write schedule.stamps.json into the checkout
    }
    feed_port, base_port = free_port(), free_port()
    feed = start("wsgi:app", feed_port, env)
    feed_url = f"http://127.0.0.1:{feed_port}/calendar.ics"
    with urllib.request.urlopen(feed_url) as response:
        size, etag = len(response.read()), response.headers["ETag"]
    base = start("benchmarks.baseline:app", base_port, {**env, "BENCH_BODY_BYTES": str(size)})
    cases = {
        "baseline GET /constant": (f"http://127.0.0.1:{base_port}/constant", []),
        "GET /calendar.ics (200)": (feed_url, []),
        "GET /calendar.ics If-None-Match (304)": (feed_url, [f"If-None-Match: {etag}"]),
    }
    results: dict[str, list[dict]] = {name: [] for name in cases}
    try:
        for _ in range(args.runs):
            for name, (url, headers) in cases.items():
                results[name].append(wrk(url, args.duration, args.connections, headers))
                time.sleep(1)
    finally:
        for process in (feed, base):
            process.terminate()
            process.wait(timeout=20)

    print(f"body {size} bytes; wrk -t2 -c{args.connections} -d{args.duration}s, {args.runs} runs")
    print(f"{'case':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  per run")
    floor = max(r["rps"] for r in results["baseline GET /constant"])
    for name, runs in results.items():
        best = max(runs, key=lambda r: r["rps"])
        each = ", ".join(
            f"{r['rps']:.0f}" + (f" [{r['errors']}]" if r["errors"] else "") for r in runs
        )
        print(
            f"{name:<40} {best['rps']:>9.0f} {best['p50']:>8.2f} {best['p99']:>8.2f}  "
            f"{each}  ({best['rps'] / floor:.0%} of baseline)"
        )


if __name__ == "__main__":
    main()
