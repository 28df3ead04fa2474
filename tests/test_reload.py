"""The app follows edits to schedule.yaml however the file is replaced, and a bad, half-saved or
unreadable file never reaches subscribers, never fails a request and never blocks reloading.

The `app` fixture reads a writable copy of tests/schedules/small.yaml with SETTLE_SECONDS=0
and CHECK_INTERVAL=0, so every request looks at the files (in the requesting thread).
Modification times are set with os.utime instead of sleeping.
"""

from __future__ import annotations

import itertools
import os
import threading
import time

import pytest
from conftest import SCHEDULES
from icalendar import Calendar

_ticks = itertools.count(1)

# small.yaml with its first session (line 20) keyed by a Monday: a typical broken edit.
BROKEN = (
    "{path}:20:7: series.weekly.sessions.2026-02-23: 2026-02-23 is a Monday, but the series "
    "meets on Tuesdays (did you mean 2026-02-24? If the session was moved to 2026-02-23, key "
    "it by its regular date and add `moved: 2026-02-23`)"
)
# The same problem as /healthz shows it by default: no path, key, value or hint.
BROKEN_PUBLIC = "schedule.yaml:20:7: 2026-02-23 is a Monday, but the series meets on Tuesdays"


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
    assert health.get_json()["problems"] == [BROKEN_PUBLIC]

    save(schedule_file, good.replace("First topic", "Fixed topic"))
    assert b"Fixed topic" in client.get("/calendar.ics").data
    health = client.get("/healthz").get_json()
    assert (health["status"], health["problems"]) == ("ok", [])


def test_broken_file_at_start_is_503_with_a_clear_message(make_app, schedule_file):
    save(schedule_file, broken(schedule_file.read_text()))
    app = make_app(schedule_file, HEALTH_DETAILS="1")
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
    assert b"First topic" in before  # the first version is published at once, settled or not
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


# -- every common way of replacing a file --------------------------------------------------------


def replace_by_rename(path, text):
    temporary = path.with_name(".schedule.yaml.tmp")
    save(temporary, text)
    os.replace(temporary, path)


def delete_and_recreate_with_the_same_mtime(path, text):
    when = os.stat(path).st_mtime
    path.unlink()
    path.write_text(text)
    os.utime(path, (when, when))


def configmap_swap(path, text):
    """What a Kubernetes ConfigMap mount does: schedule.yaml -> ..data/schedule.yaml, and an
    update swaps the ..data symlink to a new timestamped folder in one rename."""
    folder = path.parent
    if not path.is_symlink():
        first = folder / "..2026_01"
        first.mkdir()
        os.replace(path, first / "schedule.yaml")
        os.symlink("..2026_01", folder / "..data")
        os.symlink("..data/schedule.yaml", path)
    new = folder / f"..2026_{next(_ticks):02d}"
    new.mkdir()
    save(new / "schedule.yaml", text)
    os.symlink(new.name, folder / "..data_tmp")
    os.replace(folder / "..data_tmp", folder / "..data")


@pytest.mark.parametrize("write", [save, replace_by_rename, configmap_swap])
def test_every_way_of_replacing_the_file_is_picked_up(client, schedule_file, write):
    good = schedule_file.read_text()
    for topic in ("Topic one", "Topic two"):
        write(schedule_file, good.replace("First topic", topic))
        assert topic.encode() in client.get("/calendar.ics").data


def test_a_file_restored_with_its_old_mtime_clears_the_problem(client, schedule_file):
    """Deleted, then restored byte for byte with the same mtime (or moved away and back):
    /healthz must not stay degraded until someone touches the file."""
    before = client.get("/calendar.ics").data
    info = os.stat(schedule_file)
    aside = schedule_file.with_name("moved-away.yaml")
    os.rename(schedule_file, aside)
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert health["problems"] == ["schedule.yaml:1:1: the file does not exist"]
    assert client.get("/calendar.ics").data == before
    os.rename(aside, schedule_file)
    assert os.stat(schedule_file).st_mtime_ns == info.st_mtime_ns
    assert client.get("/healthz").get_json()["status"] == "ok"

    text = schedule_file.read_text()
    delete_and_recreate_with_the_same_mtime(schedule_file, broken(text))
    assert client.get("/healthz").get_json()["status"] == "degraded"
    delete_and_recreate_with_the_same_mtime(schedule_file, text)
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/calendar.ics").data == before


def fifo(path):
    os.mkfifo(path)


def directory(path):
    path.mkdir()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (fifo, "it is a FIFO, not a regular file"),
        (directory, "it is a directory, not a regular file"),
    ],
)
def test_a_path_that_is_not_a_regular_file_is_a_problem_not_a_failed_request(
    client, schedule_file, make, message
):
    before = client.get("/calendar.ics").data
    schedule_file.unlink()
    make(schedule_file)
    answers = []
    # A FIFO blocks whoever opens it for reading: a request must be answered all the same.
    thread = threading.Thread(
        target=lambda: answers.extend(
            [client.get("/calendar.ics"), client.get("/"), client.get("/healthz")]
        )
    )
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "a request hung on the schedule path"
    feed, page, health = answers
    assert (feed.status_code, feed.data) == (200, before)
    assert page.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["problems"] == [f"schedule.yaml:1:1: {message}"]

    if schedule_file.is_dir():
        schedule_file.rmdir()
    else:
        schedule_file.unlink()
    save(schedule_file, (SCHEDULES / "small.yaml").read_text())
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/calendar.ics").data == before


# -- /healthz shows no file contents and no absolute paths -----------------------------------------


SECRET = "db_password: hunter2\napi_token: 'tok-123'\nseries: [x, 'y: 1']\n"


def test_healthz_does_not_leak_the_lines_of_a_symlinked_file(make_app, tmp_path):
    secret = tmp_path / "private" / "credentials.yaml"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    site = tmp_path / "site"
    site.mkdir()
    os.symlink(secret, site / "schedule.yaml")
    for details, leaks in ((False, False), (True, True)):
        app = make_app(site / "schedule.yaml", HEALTH_DETAILS="1" if details else "0")
        text = app.test_client().get("/healthz").get_data(as_text=True)
        assert ("db_password" in text) is leaks, text
        assert (str(tmp_path) in text) is leaks, text
        assert "schedule.yaml:1:1:" in text
        assert "hunter2" not in text and "tok-123" not in text  # values: in no message


def test_healthz_does_not_leak_etc_passwd(make_app, tmp_path):
    os.symlink("/etc/passwd", tmp_path / "schedule.yaml")
    text = make_app(tmp_path / "schedule.yaml").test_client().get("/healthz").get_data(True)
    assert "root:" not in text and "/bin/" not in text and "/etc" not in text
    assert '"status":"failing"' in text.replace(" ", "")
