"""Stamps: each event's SEQUENCE and LAST-MODIFIED, kept by its identity (series and date),
never by parsing a UID back; and a stamps file that any platform can lock and read."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

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
