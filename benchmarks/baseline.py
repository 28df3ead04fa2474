"""The floor for HTTP benchmarks: a Flask route that returns constant bytes and nothing else.

Same size as the feed (BENCH_BODY_BYTES) and served by the same gunicorn settings, so the
difference to GET /calendar.ics is what feed's routing, lookup and headers cost.
"""

import os

from flask import Flask, Response

BODY = b"x" * int(os.environ.get("BENCH_BODY_BYTES", "82000"))

app = Flask(__name__)


@app.get("/constant")
def constant():
    return Response(BODY, mimetype="text/calendar")
