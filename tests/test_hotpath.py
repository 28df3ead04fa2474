"""The production entry point (feed.hotpath.HotPath) answers exactly like the Flask routes, and
moves to a new version as soon as one is published."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest
from werkzeug.test import Client

from feed.hotpath import HotPath

SETTINGS = {
    "defaults": {},
    "gzip-off": {"GZIP": "0"},
    "other-max-age": {"MAX_AGE": 600, "STALE_WHILE_REVALIDATE": "60"},
}


def conditions(document) -> dict[str, dict[str, str]]:
    before = (document.last_modified - dt.timedelta(seconds=1)).replace(microsecond=0)
    return {
        "none": {},
        "current-etag": {"If-None-Match": document.etag},
        "current-gzip-etag": {"If-None-Match": document.etag_gzip},
        "weak-etag": {"If-None-Match": f"W/{document.etag}"},
        "etag-list": {"If-None-Match": f'"x", {document.etag}'},
        "old-etag": {"If-None-Match": '"0123"', "If-Modified-Since": document.last_modified_http},
        "since-now": {"If-Modified-Since": document.last_modified_http},
        "since-before": {"If-Modified-Since": format_datetime(before, usegmt=True)},
    }


def answer(response) -> tuple:
    return response.status, sorted(response.headers.items()), response.get_data()


@pytest.mark.parametrize("settings", sorted(SETTINGS))
@pytest.mark.parametrize("path", ["/calendar.ics", "/series/conferences.ics", "/series/no.ics"])
@pytest.mark.parametrize("accept", [None, "gzip", "gzip;q=0", "br, gzip", "*"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_hot_path_answers_exactly_like_the_app(
    make_app, schedule_file, settings, path, accept, method
):
    app = make_app(schedule_file, **SETTINGS[settings])
    hot, plain = Client(HotPath(app)), app.test_client()
    document = app.extensions["feed.publisher"].current().feeds.get(path)
    cases = conditions(document) if document else {"none": {}}
    for name, headers in cases.items():
        if accept:
            headers = {**headers, "Accept-Encoding": accept}
        fast = hot.open(path, method=method, headers=headers)
        slow = plain.open(path, method=method, headers=headers)
        assert answer(fast) == answer(slow), name


def test_the_hot_path_serves_a_new_version_at_once(make_app, schedule_file):
    app = make_app(schedule_file)
    hot = Client(HotPath(app))
    first = hot.get("/calendar.ics")
    assert (
        hot.get("/calendar.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    schedule_file.write_text(schedule_file.read_text().replace("First topic", "Hot topic"))
    second = hot.get("/calendar.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and b"Hot topic" in second.get_data()
    assert second.headers["ETag"] != first.headers["ETag"]
