"""Per-request cost without sockets: the WSGI app called directly, N times per case.

    .venv/bin/python benchmarks/inprocess.py --calls 5000

Cases: a cached GET /calendar.ics and the same request revalidated (304), through the
production entry point (feed.hotpath.HotPath, as ``python -m feed.server`` runs it) and
through the app alone (feed.feeds.FeedFastPath), and the baseline Flask route of
benchmarks/baseline.py returning constant bytes. Best of three rounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import baseline  # noqa: E402

from feed import create_app  # noqa: E402
from feed.hotpath import HotPath  # noqa: E402


def per_call(app, environ: dict, calls: int) -> float:
    """Microseconds per request, the body read to the end as a server would."""

    def start_response(status, headers, exc_info=None):
        return None

    started = time.perf_counter()
    for _ in range(calls):
        body = app(dict(environ), start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        app = create_app({"WRITE_STAMPS": False, "STATE_DIR": state})
        run(app, args.calls)


def run(app, calls: int) -> None:
    etag = app.test_client().get("/calendar.ics").headers["ETag"]
    hot = HotPath(app)
    plain = EnvironBuilder(path="/calendar.ics").get_environ()
    revalidation = EnvironBuilder(
        path="/calendar.ics", headers={"If-None-Match": etag}
    ).get_environ()
    cases = {
        "hot path GET /calendar.ics": (hot, plain),
        "hot path 304": (hot, revalidation),
        "GET /calendar.ics": (app, EnvironBuilder(path="/calendar.ics").get_environ()),
        "GET /calendar.ics (304)": (
            app,
            EnvironBuilder(path="/calendar.ics", headers={"If-None-Match": etag}).get_environ(),
        ),
        "baseline GET /constant": (
            baseline.app,
            EnvironBuilder(path="/constant").get_environ(),
        ),
    }
    for name, (wsgi, environ) in cases.items():
        best = min(per_call(wsgi, environ, calls) for _ in range(3))
        print(f"{name:28} {best:8.1f} µs")


if __name__ == "__main__":
    main()
