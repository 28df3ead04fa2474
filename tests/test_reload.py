"""The app follows edits to schedule.yaml, and a bad or half-saved edit never reaches subscribers.

The `app` fixture reads a writable copy of tests/schedules/small.yaml with SETTLE_SECONDS=0
and CHECK_INTERVAL=0, so every request looks at the file. Modification times are set with
os.utime instead of sleeping.
"""

from __future__ import annotations

import itertools
import os
import time

import pytest
from icalendar import Calendar

_ticks = itertools.count(1)

# small.yaml with its first session (line 20) keyed by a Monday: a typical broken edit.
BROKEN = (
    "{path}:20:7: series.weekly.sessions.2026-02-23: 2026-02-23 is a Monday, but the series "
    "meets on Tuesdays (did you mean 2026-02-24? If the session was moved to 2026-02-23, key "
    "it by its regular date and add `moved: 2026-02-23`)"
)


def save(path, text: str, age: float = 60) -> None:
    """Write the file as an editor would, dated `age` seconds ago (distinct for every save)."""
    path.write_text(text, encoding="utf-8")
    when = time.time() - age + next(_ticks) * 0.001
    os.utime(path, (when, when))


def broken(text: str) -> str:
    return text.replace("      2026-02-24:", "      2026-02-23:")


def sequences(body: bytes) -> dict[str, int]:
    """SEQUENCE of every VEVENT, keyed by UID and RECURRENCE-ID."""
    result = {}
    for event in Calendar.from_ical(body).walk("VEVENT"):
        rid = event.get("RECURRENCE-ID")
        key = str(event["UID"]) + (f"/{rid.dt:%Y-%m-%d}" if rid else "")
        result[key] = int(event["SEQUENCE"])
    return result


def test_valid_edit_is_served(client, schedule_file):
    assert b"First topic" in client.get("/calendar.ics").data
    save(schedule_file, schedule_file.read_text().replace("First topic", "Renamed topic"))
    body = client.get("/calendar.ics").data
    assert b"Renamed topic" in body
    assert b"First topic" not in body


def test_broken_edit_keeps_the_old_bytes_and_recovers(client, schedule_file):
    good = schedule_file.read_text()
    before = client.get("/calendar.ics")
    save(schedule_file, broken(good))

    during = client.get("/calendar.ics")
    assert during.status_code == 200
    assert during.data == before.data
    assert during.headers["ETag"] == before.headers["ETag"]
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["problems"] == [BROKEN.format(path=schedule_file)]

    save(schedule_file, good.replace("First topic", "Fixed topic"))
    assert b"Fixed topic" in client.get("/calendar.ics").data
    health = client.get("/healthz").get_json()
    assert (health["status"], health["problems"]) == ("ok", [])


def test_broken_file_at_start_is_503_with_a_clear_message(make_app, schedule_file):
    save(schedule_file, broken(schedule_file.read_text()))
    app = make_app(schedule_file)
    client = app.test_client()
    feed = client.get("/calendar.ics")
    assert feed.status_code == 503
    assert feed.data == (
        b"503 Service Unavailable: No valid schedule has been loaded yet; "
        b"see /healthz for the problems.\n"
    )
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["status"] == "failing"
    assert health.get_json()["problems"] == [BROKEN.format(path=schedule_file)]


@pytest.fixture
def settling_client(make_app, schedule_file):
    """An app that waits until the file has been still for 5 seconds before reading it."""
    app = make_app(schedule_file, SETTLE_SECONDS=5)
    return app.test_client()


def test_half_written_file_is_not_published_until_it_settles(settling_client, schedule_file):
    good = schedule_file.read_text()
    before = settling_client.get("/calendar.ics").data
    edited = good.replace("First topic", "Half written")

    save(schedule_file, edited[: len(edited) // 2], age=0)  # the editor is still writing
    assert settling_client.get("/calendar.ics").data == before
    assert settling_client.get("/healthz").get_json()["problems"] == []

    save(schedule_file, edited, age=1)  # finished, but changed only a second ago
    assert settling_client.get("/calendar.ics").data == before

    when = time.time() - 10  # still for 10 seconds now
    os.utime(schedule_file, (when, when))
    assert b"Half written" in settling_client.get("/calendar.ics").data


def test_edit_of_one_session_raises_only_its_sequence(client, schedule_file):
    before = sequences(client.get("/calendar.ics").data)
    assert set(before.values()) == {0}
    save(schedule_file, schedule_file.read_text().replace("After the fall change", "New topic"))
    after = sequences(client.get("/calendar.ics").data)
    changed = {key: seq for key, seq in after.items() if seq != before[key]}
    assert changed == {"weekly@example.org/2026-11-03": 1}
    assert set(after) == set(before)
