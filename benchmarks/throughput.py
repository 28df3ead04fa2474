"""Requests/s under wrk: the production server against nginx serving the same bytes, same run.

Run from the repository root (loopback only; needs wrk and nginx, e.g. from Debian:
``apt-get install wrk nginx-light``):

    .venv/bin/python benchmarks/throughput.py --duration 10 --runs 5

It exports the bundled schedule with ``feed build`` and starts nginx on it (2 worker
processes, as many as the app has, the export's own nginx.conf for the headers), then the app
with ``python -m feed.server`` (2 workers; FEED_WRITE_STAMPS=0 and a state folder in a temporary
directory, so nothing is written into the checkout). Cases: a cached GET /calendar.ics (200)
and its revalidation (If-None-Match, 304), on each server; the runs are interleaved so that
background load hits all of them alike. It prints, per case, the best and every run, the ratio
of the app's best to nginx's best, and the memory of each app worker (RSS and PSS).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import free_port, wait_until_up  # noqa: E402

NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        include {root}/nginx.conf;
    }}
}}
"""


def start_nginx(home: Path, root: Path, port: int, workers: int) -> subprocess.Popen:
    conf = home / "nginx.conf"
    conf.write_text(NGINX_CONF.format(home=home, root=root, port=port, workers=workers))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [nginx, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/calendar.ics", process)
    except BaseException:
        process.terminate()
        raise
    return process


def start_app(home: Path, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "FEED_WRITE_STAMPS": "0",
        "FEED_STATE_DIR": str(home / "state"),
        "FEED_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "feed.server", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/calendar.ics", process)
    except BaseException:
        process.terminate()
        raise
    return process


def etag(url: str) -> tuple[str, int]:
    with urllib.request.urlopen(url) as response:
        return response.headers["ETag"], len(response.read())


def wrk(url: str, duration: int, connections: int, headers: list[str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99": re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1),
        "errors": errors.group(0) if errors else "",
    }


def memory(pid: int) -> tuple[float, float]:
    """RSS and PSS of a process, in MB (PSS counts shared pages once across processes)."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss"):
            kilobytes = float(value.split()[0]) / 1024
            rss, pss = (kilobytes, pss) if name == "Rss" else (rss, kilobytes)
    return rss, pss


def workers_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="feed-bench-"))
    home.chmod(0o755)  # nginx's workers run as another user when started by root
    public = home / "public"
    subprocess.run(
        [sys.executable, "-m", "feed", "build", str(public), "--url", "https://cloud2030.org"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "FEED_STATE_DIR": str(home / "build-state")},
    )
    nginx_port, app_port = free_port(), free_port()
    nginx = start_nginx(home, public, nginx_port, args.workers)
    try:
        app = start_app(home, app_port, args.workers)
    except BaseException:
        nginx.terminate()
        raise
    try:
        nginx_url = f"http://127.0.0.1:{nginx_port}/calendar.ics"
        app_url = f"http://127.0.0.1:{app_port}/calendar.ics"
        nginx_tag, size = etag(nginx_url)
        app_tag, app_size = etag(app_url)
        assert size == app_size, (size, app_size)
        cases = {
            "nginx 200": (nginx_url, []),
            "app 200": (app_url, []),
            "nginx 304": (nginx_url, [f"If-None-Match: {nginx_tag}"]),
            "app 304": (app_url, [f"If-None-Match: {app_tag}"]),
        }
        results: dict[str, list[dict]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (url, headers) in cases.items():
                results[name].append(wrk(url, args.duration, args.connections, headers))
                time.sleep(1)
        workers = [memory(pid) for pid in workers_of(app.pid)]
    finally:
        for process in (app, nginx):
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)

    print(
        f"body {size} bytes; wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"{args.runs} interleaved runs; {args.workers} workers each"
    )
    print(f"{'case':<10} {'best req/s':>10} {'spread':>8} {'p99':>8}  runs")
    best = {}
    for name, runs in results.items():
        values = [r["rps"] for r in runs]
        best[name] = max(values)
        spread = (max(values) - min(values)) / max(values)
        each = ", ".join(
            f"{r['rps']:.0f}" + (f" [{r['errors']}]" if r["errors"] else "") for r in runs
        )
        top = max(runs, key=lambda r: r["rps"])
        print(f"{name:<10} {best[name]:>10.0f} {spread:>8.0%} {top['p99']:>8}  {each}")
    for status in ("200", "304"):
        pairs = zip(results[f"app {status}"], results[f"nginx {status}"], strict=True)
        each = [app["rps"] / nginx["rps"] for app, nginx in pairs]
        print(
            f"app/nginx {status}: {best[f'app {status}'] / best[f'nginx {status}']:.2f}x "
            f"(best against best); run by run {min(each):.2f}x to {max(each):.2f}x"
        )
    for number, (rss, pss) in enumerate(workers, 1):
        print(f"app worker {number}: RSS {rss:.1f} MB, PSS {pss:.1f} MB")


if __name__ == "__main__":
    main()
