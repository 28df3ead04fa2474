"""The app's feed routes, through Flask's test client."""

from __future__ import annotations

import datetime as dt
import os
from email.utils import format_datetime

import pytest

from feed import create_app, ical
from feed.feeds import FeedFastPath


def test_factory_reads_the_schedule_path_from_the_environment(monkeypatch, schedule_file):
    monkeypatch.setenv("FEED_SCHEDULE", str(schedule_file))
    app = create_app()
    assert app.config["SCHEDULE"] == str(schedule_file)
    assert app.test_client().get("/calendar.ics").status_code == 200


def test_factory_defaults_to_the_bundled_schedule(monkeypatch):
    monkeypatch.delenv("FEED_SCHEDULE", raising=False)
    response = create_app({"WRITE_STAMPS": False}).test_client().get("/calendar.ics")
    assert response.status_code == 200
    assert b"X-WR-CALNAME:Cloud2030 DevOps Lunch and Learn\r\n" in response.data


def test_calendar_holds_every_series(client):
    data = client.get("/calendar.ics").data
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"UID:weekly@example.org\r\n" in data
    assert b"UID:conferences-20260601@example.org\r\n" in data


def test_a_series_feed_holds_only_that_series(client):
    response = client.get("/series/conferences.ics")
    assert response.status_code == 200
    assert b"UID:weekly@example.org" not in response.data
    assert b"X-WR-CALNAME:Example Community Meeting - Events of Interest\r\n" in response.data


def test_variants_are_valid_feeds(client):
    for query in ("cancelled=show", "tag=platform-engineering", "expand=utc"):
        response = client.get(f"/calendar.ics?{query}")
        assert response.status_code == 200, query
        assert response.data.endswith(b"END:VCALENDAR\r\n")


def test_healthz_reports_ok_with_the_version(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["problems"] == []
    assert len(body["version"]) == 12


def test_a_restart_on_a_broken_file_serves_the_last_good_copy(make_app, schedule_file):
    """A deploy or reboot after a broken edit must not take the feed down."""
    first = make_app(schedule_file).test_client().get("/calendar.ics")
    schedule_file.write_text("calendar: [this is not valid\n")
    restarted = make_app(schedule_file).test_client()
    assert restarted.get("/calendar.ics").data == first.data
    health = restarted.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    # Only the file name: /healthz is public, and absolute paths are not its business.
    assert health.get_json()["problems"][0].startswith("schedule.yaml:2:1: YAML syntax error")


def test_a_read_only_deployment_keeps_raising_sequence_in_memory(make_app, schedule_file):
    """With FEED_WRITE_STAMPS off, two edits in a row still raise SEQUENCE each time."""
    client = make_app(schedule_file, WRITE_STAMPS="false").test_client()
    for sequence, title in enumerate(["Edit one", "Edit two"], start=1):
        text = schedule_file.read_text()
        schedule_file.write_text(
            text.replace("Moved to Wednesday afternoon", title).replace("Edit one", title)
        )
        os.utime(schedule_file, (1_700_000_000 + sequence, 1_700_000_000 + sequence))
        body = client.get("/calendar.ics").data.replace(b"\r\n ", b"")
        event = body[body.index(title.encode()) - 20 :]
        event = event[: event.index(b"END:VEVENT")]
        assert f"SEQUENCE:{sequence}\r\n".encode() in event
    assert not schedule_file.with_name("schedule.stamps.json").exists()


def test_cached_documents_are_bounded_but_the_feeds_stay(app, monkeypatch):
    """Day-dependent pages would otherwise pile up for as long as a version lives."""
    monkeypatch.setattr("feed.publish.MAX_DOCUMENTS", 3)
    current = app.extensions["feed.publisher"].current()
    pinned = dict(current._documents)
    for day in range(10):
        current.document(("page", day), lambda day=day: pinned[next(iter(pinned))])
    assert len(current._documents) == len(pinned) + 3
    assert [k for k in current._documents][-3:] == [("page", 7), ("page", 8), ("page", 9)]
    assert all(key in current._documents for key in pinned)


def test_a_bad_setting_stops_the_app_at_start_with_its_name(make_app, schedule_file):
    with pytest.raises(ValueError, match=r"FEED_MAX_AGE='abc' is not a number of seconds"):
        make_app(schedule_file, MAX_AGE="abc")


SETTINGS = {
    "defaults": {},
    "gzip-off": {"GZIP": "0"},
    "other-max-age": {"MAX_AGE": 600, "STALE_WHILE_REVALIDATE": "60"},
}
CONDITIONS = ["none", "current-etag", "current-gzip-etag", "old-etag", "since-now", "since-before"]


def conditional_headers(condition: str, current) -> dict[str, str]:
    """Request headers for a conditional request against the current feed document."""
    before = (current.last_modified - dt.timedelta(seconds=1)).replace(microsecond=0)
    return {
        "none": {},
        "current-etag": {"If-None-Match": current.etag},
        "current-gzip-etag": {"If-None-Match": current.etag_gzip},
        "old-etag": {
            "If-None-Match": '"0123456789abcdef"',
            "If-Modified-Since": current.last_modified_http,  # If-None-Match wins
        },
        "since-now": {"If-Modified-Since": current.last_modified_http},
        "since-before": {"If-Modified-Since": format_datetime(before, usegmt=True)},
    }[condition]


@pytest.mark.parametrize("settings", sorted(SETTINGS))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/calendar.ics", "/series/conferences.ics"])
@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("accept_encoding", [None, "gzip, br"])
def test_the_fast_path_answers_exactly_like_the_flask_route(
    make_app, schedule_file, settings, method, path, condition, accept_encoding
):
    """Plain feed requests skip Flask (feed.feeds.FeedFastPath); nothing may tell them apart."""
    app = make_app(schedule_file, **SETTINGS[settings])
    series = path.removeprefix("/series/").removesuffix(".ics")
    options = ical.Options(series=None if path == "/calendar.ics" else (series,))
    current = app.extensions["feed.publisher"].current().feed(options)
    headers = conditional_headers(condition, current)
    if accept_encoding:
        headers["Accept-Encoding"] = accept_encoding
    fast_path = app.wsgi_app
    assert isinstance(fast_path, FeedFastPath)
    flask_app, fast_path.wsgi_app = fast_path.wsgi_app, None  # the fast path alone
    fast = app.test_client().open(path, method=method, headers=headers)
    app.wsgi_app = flask_app  # the Flask route alone
    slow = app.test_client().open(path, method=method, headers=headers)
    assert (fast.status, fast.data) == (slow.status, slow.data)
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())
    expected = 304 if condition in ("current-etag", "current-gzip-etag", "since-now") else 200
    assert fast.status_code == expected
    cache_control = fast.headers["Cache-Control"]
    if settings == "other-max-age":
        assert cache_control == "public, max-age=600, stale-while-revalidate=60"
    else:
        assert cache_control == "public, max-age=3600, stale-while-revalidate=86400"
    gzipped = settings != "gzip-off" and accept_encoding is not None and expected == 200
    assert (fast.headers.get("Content-Encoding") == "gzip") == gzipped
    assert ("Vary" in fast.headers) == (settings != "gzip-off")
