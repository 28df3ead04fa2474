"""The app's feed routes, through Flask's test client."""

from __future__ import annotations

import os

import pytest

from feed import create_app


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


def test_calendar_is_served_as_text_calendar(client):
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"UID:weekly@example.org\r\n" in response.data
    assert b"UID:conferences-20260601@example.org\r\n" in response.data


def test_a_series_feed_holds_only_that_series(client):
    response = client.get("/series/conferences.ics")
    assert response.status_code == 200
    assert b"UID:weekly@example.org" not in response.data
    assert b"X-WR-CALNAME:Example Community Meeting - Events of Interest\r\n" in response.data
    assert response.headers["Content-Disposition"] == 'inline; filename="conferences.ics"'


def test_an_unknown_series_is_a_plain_404(client):
    response = client.get("/series/nope.ics")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        "404 Not Found: No series 'nope'. Known series: weekly, conferences.\n"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "cancelled=maybe",
            "cancelled='maybe' is not valid; use cancelled=show or cancelled=hide.",
        ),
        ("tag=nope", "tag='nope' is not a known tag; known tags: platform-engineering."),
        ("expand=local", "expand='local' is not valid; use expand=utc."),
    ],
)
def test_bad_query_values_are_a_400_with_a_message(client, query, message):
    for path in ("/calendar.ics", "/series/weekly.ics"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.get_data(as_text=True) == f"400 Bad Request: {message}\n"


def test_variants_are_valid_feeds(client):
    for query in ("cancelled=show", "tag=platform-engineering", "expand=utc"):
        response = client.get(f"/calendar.ics?{query}")
        assert response.status_code == 200, query
        assert response.data.endswith(b"END:VCALENDAR\r\n")


def test_healthz_reports_ok_with_the_version(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["problems"] == []
    assert len(body["version"]) == 12


def test_a_restart_on_a_broken_file_serves_the_last_good_copy(schedule_file):
    """A deploy or reboot after a broken edit must not take the feed down."""
    first = create_app({"SCHEDULE": str(schedule_file)}).test_client().get("/calendar.ics")
    schedule_file.write_text("calendar: [this is not valid\n")
    restarted = create_app({"SCHEDULE": str(schedule_file)}).test_client()
    assert restarted.get("/calendar.ics").data == first.data
    health = restarted.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["problems"][0].startswith(f"{schedule_file}:2:1: YAML syntax error")


def test_a_read_only_deployment_keeps_raising_sequence_in_memory(schedule_file):
    """With FEED_WRITE_STAMPS off, two edits in a row still raise SEQUENCE each time."""
    app = create_app(
        {
            "SCHEDULE": str(schedule_file),
            "WRITE_STAMPS": "false",
            "SETTLE_SECONDS": 0,
            "CHECK_INTERVAL": 0,
        }
    )
    client = app.test_client()
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


def test_a_bad_setting_stops_the_app_at_start_with_its_name(schedule_file):
    with pytest.raises(ValueError, match=r"FEED_MAX_AGE='abc' is not a number of seconds"):
        create_app({"SCHEDULE": str(schedule_file), "MAX_AGE": "abc"})


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/calendar.ics", {}),
        ("GET", "/series/conferences.ics", {"Accept-Encoding": "gzip"}),
        ("HEAD", "/calendar.ics", {}),
        ("GET", "/calendar.ics", {"If-None-Match": "*"}),
        ("GET", "/calendar.ics", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
    ],
)
def test_the_fast_path_answers_exactly_like_the_flask_route(app, method, path, headers):
    """Plain feed requests skip Flask (feed.web.FeedFastPath); nothing may tell them apart."""
    fast = app.test_client().open(path, method=method, headers=headers)
    app.wsgi_app = app.wsgi_app.wsgi_app  # the Flask route alone
    slow = app.test_client().open(path, method=method, headers=headers)
    assert (fast.status, fast.data) == (slow.status, slow.data)
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())
