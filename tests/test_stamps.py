"""Stamps: each event's SEQUENCE and LAST-MODIFIED, kept by its identity (series and date),
never by parsing a UID back; and a stamps file that any platform can lock and read."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, SCHEDULES

from feed import publish, schedule, stamps
from feed.plan import EventKey

EDITED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 2, 1, 12, 30, tzinfo=dt.UTC)

# A weekly series whose id ends like a one-off event's date suffix: "-YYYYMMDD".
DATED_ID = """\
calendar:
  name: Meetups
  timezone: Europe/Berlin
  domain: example.org
series:
  meetup-20240101:
    title: Meetup
    every: monday
    at: "18:00"
    starts: 2024-01-01
    sessions:
      2024-01-08: First topic
  other:
    title: Other
    sessions:
      2024-02-01: Unrelated
"""


def version(text: str, previous=None, edited=EDITED) -> publish.Version:
    return publish.new_version(schedule.load(text), previous or {}, edited)


def test_a_series_id_ending_in_a_date_moves_its_feeds_last_modified_on_an_edit():
    """Regression: its series was once guessed back from the stamp key as "meetup", so edits
    never moved Last-Modified and If-Modified-Since clients kept stale events."""
    first = version(DATED_ID)
    second = version(DATED_ID.replace("First topic", "Better topic"), first.stamps, LATER)
    only = publish.ical.Options(series=("meetup-20240101",))
    assert first.feed(only).last_modified == EDITED
    assert second.feed(only).last_modified == LATER
    assert second.feed().last_modified == LATER
    unrelated = publish.ical.Options(series=("other",))
    assert second.feed(unrelated).last_modified == EDITED


def test_every_stamp_records_its_series_as_data():
    current = version(DATED_ID)
    by_key = {key: stamp.series for key, stamp in current.stamps.items()}
    assert by_key == {
        "@calendar": None,
        "@page": None,
        "meetup-20240101@example.org": "meetup-20240101",
        "meetup-20240101@example.org/20240108T180000": "meetup-20240101",
        "other-20240201@example.org": "other",
    }


def test_event_keys_name_uids_and_recurrence_ids():
    slot = dt.datetime(2024, 1, 8, 18, 0)
    assert EventKey("weekly").text("example.org") == "weekly@example.org"
    assert EventKey("weekly", slot=slot).text("example.org") == "weekly@example.org/20240108T180000"
    assert EventKey("events", day=slot.date()).uid("example.org") == "events-20240108@example.org"
    assert EventKey("weekly", slot=slot).master == EventKey("weekly")


def test_a_stamps_file_of_the_first_format_is_read_and_upgraded():
    """Files written before stamps recorded their series still load: the series is filled in
    for every event that still exists, and a removed one counts for every feed."""
    current = version(DATED_ID)
    old = json.loads(stamps.dumps(current.stamps))
    old["format"] = 1
    for entry in old["events"].values():
        del entry["series"]
    old["events"]["gone-20230101@example.org"] = {
        "sequence": 3,
        "modified": "2026-01-15T00:00:00Z",
        "digest": stamps.REMOVED,
    }
    loaded = stamps.loads(json.dumps(old))
    assert {s.series for s in loaded.values()} == {None}
    upgraded = version(DATED_ID, loaded, LATER)
    assert upgraded.stamps["other-20240201@example.org"].series == "other"
    assert upgraded.stamps["other-20240201@example.org"].modified == EDITED  # unchanged event
    assert upgraded.stamps["gone-20230101@example.org"].series is None
    only = publish.ical.Options(series=("other",))
    assert upgraded.feed(only).last_modified == dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
    assert json.loads(stamps.dumps(upgraded.stamps))["format"] == stamps.FORMAT


def test_stamps_file_round_trips():
    current = version((SCHEDULES / "small.yaml").read_text())
    assert stamps.loads(stamps.dumps(current.stamps)) == current.stamps


def test_feed_check_runs_where_fcntl_does_not_exist():
    """Windows has no fcntl: organizers there must still be able to run `feed check`."""
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from feed.cli import cli\n"
        f"cli(['check', {str(SCHEDULES / 'small.yaml')!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_the_app_publishes_with_fcntl_missing(tmp_path):
    """The lock that serializes reloads across workers works without fcntl too."""
    path = tmp_path / "schedule.yaml"
    path.write_text((SCHEDULES / "small.yaml").read_text())
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from feed import create_app\n"
        f"app = create_app({{'SCHEDULE': {str(path)!r}}})\n"
        "print(app.test_client().get('/calendar.ics').status_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.strip() == "200", result.stderr
    assert (tmp_path / "schedule.stamps.json").exists()


# -- damage to the stamps file never lowers a published SEQUENCE, and /healthz says so -----------

TOPIC = "After the fall change"
EVENT = "UID:weekly@example.org"


def sequence_of(body: bytes, topic: str) -> int:
    """SEQUENCE of the event whose SUMMARY holds topic."""
    unfolded = body.replace(b"\r\n ", b"").decode()
    start = unfolded.rfind("BEGIN:VEVENT", 0, unfolded.index(topic))
    event = unfolded[start : unfolded.index("END:VEVENT", start)]
    return int(event.split("SEQUENCE:")[1].split("\r\n")[0])


def edit_three_times(make_app, schedule_file, **config) -> tuple[bytes, str]:
    """Publish three edits of one session: its SEQUENCE is 3. Returns the feed and topic."""
    client = make_app(schedule_file, **config).test_client()
    text = schedule_file.read_text()
    for n in range(1, 4):
        topic = f"Edited topic {n}"
        schedule_file.write_text(text.replace(TOPIC, topic))
        os.utime(schedule_file, (1_700_000_000 + n, 1_700_000_000 + n))
        body = client.get("/calendar.ics").data
        assert sequence_of(body, topic) == n
    return body, topic


def truncate(path):
    text = path.read_text()
    path.write_text(text[: len(text) // 3])


def empty(path):
    path.write_text("")


def delete(path):
    path.unlink()


def make_directory(path):
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")


def garbage(path):
    path.write_bytes(b"\x00\xffnot json at all")


def negative(path):
    path.write_text(path.read_text().replace('"sequence": 3', '"sequence": -5'))


def future(path):
    data = json.loads(path.read_text())
    for entry in data["events"].values():
        entry["modified"] = "2099-01-01T00:00:00Z"
    path.write_text(json.dumps(data))


DAMAGE = [truncate, empty, delete, make_directory, garbage, negative, future]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_damaged_stamps_never_lower_a_published_sequence(make_app, schedule_file, damage):
    before, topic = edit_three_times(make_app, schedule_file)
    stamps_file = schedule_file.with_name("schedule.stamps.json")
    damage(stamps_file)

    restarted = make_app(schedule_file).test_client()
    after = restarted.get("/calendar.ics").data
    assert after == before, "a restart on damaged stamps changed the feed"
    assert sequence_of(after, topic) == 3
    health = restarted.get("/healthz").get_json()
    assert health["status"] == "degraded"
    (reported,) = health["stamps"]
    assert reported.startswith("schedule.stamps.json: ")
    assert "rebuilt" in reported and "delete schedule.stamps.json.damaged" in reported
    # Repaired in place: the file holds the published stamps again; the damage is kept aside.
    assert stamps.loads(stamps_file.read_text())[EVENT[4:] + "/20261103T110000"].sequence == 3
    evidence = schedule_file.with_name("schedule.stamps.json.damaged")
    assert evidence.exists()

    # Still reported after another restart, until the operator deletes the evidence.
    again = make_app(schedule_file).test_client()
    assert again.get("/healthz").get_json()["status"] == "degraded"
    if evidence.is_dir():
        shutil.rmtree(evidence)
    else:
        evidence.unlink()
    cleared = again.get("/healthz").get_json()
    assert (cleared["status"], cleared["stamps"]) == ("ok", [])
    # And an edit after all this goes on from 3.
    schedule_file.write_text(schedule_file.read_text().replace(topic, "One more"))
    os.utime(schedule_file, (1_700_000_100, 1_700_000_100))
    assert sequence_of(again.get("/calendar.ics").data, "One more") == 4


def test_a_read_only_deployment_reports_damage_while_it_lasts(make_app, schedule_file, tmp_path):
    state = tmp_path / "state"
    before, topic = edit_three_times(make_app, schedule_file, STATE_DIR=str(state))
    stamps_file = schedule_file.with_name("schedule.stamps.json")
    good = stamps_file.read_text()
    truncate(stamps_file)
    read_only = make_app(schedule_file, STATE_DIR=str(state), WRITE_STAMPS="0").test_client()
    assert sequence_of(read_only.get("/calendar.ics").data, topic) == 3
    health = read_only.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert "not valid JSON" in health["stamps"][0] and "restore it" in health["stamps"][0]
    assert stamps_file.read_text() != good  # nothing written
    stamps_file.write_text(good)  # restored from version control
    assert read_only.get("/healthz").get_json()["status"] == "ok"
    assert read_only.get("/calendar.ics").data == before


def test_reading_a_stamps_file_recovers_what_it_can_and_checks_ranges():
    current = version((SCHEDULES / "small.yaml").read_text())
    text = stamps.dumps(current.stamps)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    found, damage = stamps.read(text, now)
    assert (found, damage) == (current.stamps, [])
    cut = text[: len(text) // 2]
    found, damage = stamps.read(cut, now)
    assert 0 < len(found) < len(current.stamps)
    assert all(current.stamps[key] == stamp for key, stamp in found.items())
    assert "not valid JSON" in damage[0].reason
    key = next(iter(current.stamps))
    published = {key: stamps.Stamp(7, EDITED, "d", None)}
    odd = json.loads(text)
    odd["events"][key]["sequence"] = -1
    other = sorted(odd["events"])[1]
    odd["events"][other]["modified"] = "2030-01-01T00:00:00Z"
    found, damage = stamps.read(json.dumps(odd), now, published)
    assert found[key] == published[key]  # repaired from what was published, not lowered
    assert found[other].modified == now  # nothing published for it: dated now
    assert [d.reason.split(" entries")[0] for d in damage] == ["1", "1"]
    assert "SEQUENCE" in damage[0].reason and "future" in damage[1].reason


# -- many hosts: the same committed files give the same bytes --------------------------------------


def test_two_hosts_with_the_same_committed_files_serve_identical_feeds(make_app, tmp_path):
    text = (SCHEDULES / "small.yaml").read_text().replace(TOPIC, "Committed topic")
    committed = stamps.dumps(version(text).stamps)  # what `feed stamp` wrote and was committed
    served = []
    for host, mtime in (("host-a", 1_700_000_000), ("host-b", 1_800_000_000)):
        folder = tmp_path / host
        folder.mkdir()
        (folder / "schedule.yaml").write_text(text)
        (folder / "schedule.stamps.json").write_text(committed)
        os.utime(folder / "schedule.yaml", (mtime, mtime))  # checked out at different times
        client = make_app(folder / "schedule.yaml").test_client()
        served.append(
            [
                (r.data, r.headers["ETag"], r.headers["Last-Modified"])
                for r in (client.get(u) for u in ("/calendar.ics", "/series/weekly.ics"))
            ]
        )
    assert served[0] == served[1]
