"""The bundled schedule.yaml holds the organizers' real page; check facts of it in the feed."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import icalendar
import recurring_ical_events
from click.testing import CliRunner

from feed import publish, schedule, stamps
from feed.cli import cli

REAL = Path(__file__).parent.parent / "schedule.yaml"


@functools.cache
def feed() -> icalendar.Calendar:
    sched = schedule.load(REAL.read_bytes(), str(REAL))
    body = publish.new_version(sched, {}, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).feed().body
    return icalendar.Calendar.from_ical(body)


def sessions_on(day: dt.date) -> list[icalendar.Event]:
    return list(recurring_ical_events.of(feed()).at(day))


def test_the_real_schedule_passes_feed_check():
    result = CliRunner().invoke(cli, ["check", str(REAL)])
    assert result.exit_code == 0, result.output
    assert "OK (2 series" in result.output


def test_election_day_2022_has_the_thin_os_topic_and_its_four_agenda_items():
    (event,) = sessions_on(dt.date(2022, 11, 8))
    assert event["SUMMARY"] == "DevOps Lunch and Learn: Thin O/Ses & Thin O/S Provisioning"
    assert event["DTSTART"].dt == dt.datetime(2022, 11, 8, 19, 0, tzinfo=dt.UTC)
    assert "Agenda:\n- K3os\n- Photon\n- Flatcar\n- Talos" in event["DESCRIPTION"]
    assert "US election day" in event["DESCRIPTION"]
    assert "https://us02web.zoom.us/j/86216295721" in event["LOCATION"]


def test_no_meeting_weeks_are_gone():
    for day in (dt.date(2021, 7, 6), dt.date(2022, 11, 22), dt.date(2023, 12, 26)):
        assert sessions_on(day) == [], day


def test_the_secure_development_outline_is_the_agenda_of_sept_7_2021():
    (event,) = sessions_on(dt.date(2021, 9, 7))
    assert event["SUMMARY"].endswith("Secure Development Practices")
    assert "Reducing the blast radius (assume compromised)" in event["DESCRIPTION"]


def test_events_of_interest_are_all_day_events_of_their_own_series():
    (lisa,) = [e for e in sessions_on(dt.date(2021, 6, 2)) if "LISA" in e["SUMMARY"]]
    assert lisa["DTSTART"].dt == dt.date(2021, 6, 1)
    assert lisa["DTEND"].dt == dt.date(2021, 6, 4)
    assert lisa["UID"].startswith("events-of-interest-")


def test_platform_engineering_sessions_carry_their_tag():
    (event,) = sessions_on(dt.date(2023, 2, 28))
    assert "Platform Engineering Topic" in event["CATEGORIES"].to_ical().decode()


def test_the_committed_stamps_match_the_schedule():
    """schedule.stamps.json is what a read-only deployment publishes: after an edit of
    schedule.yaml (or of the output format), run `feed stamp` and commit it."""
    stamps_file = REAL.with_name("schedule.stamps.json")
    recorded = stamps.loads(stamps_file.read_text())
    sched = schedule.load(REAL.read_bytes(), str(REAL))
    # Stamping again, at any time, must change nothing.
    restamped = publish.new_version(sched, recorded, dt.datetime(2100, 1, 1, tzinfo=dt.UTC)).stamps
    stale = sorted(k for k in restamped if restamped[k] != recorded.get(k))
    assert stale == [], "run `feed stamp` and commit schedule.stamps.json"
