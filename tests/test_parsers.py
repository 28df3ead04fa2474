"""Independent parsers must see what the organizer wrote, occurrence by occurrence.

The feed is expanded by recurring-ical-events (Python, behaves like Google), ical.js
(Thunderbird, FullCalendar) and libical (Evolution) over windows that cross both daylight-saving
changes; each must match the expected list, and all must agree with each other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feed import ical, occurrences, publish, schedule
from oracles import ORACLES

HERE = Path(__file__).parent
SMALL = HERE / "schedules" / "small.yaml"
REAL = HERE.parent / "schedule.yaml"
EDITED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# 2026: daylight saving starts Sunday March 8 and ends Sunday November 1 in Los Angeles.
DST = (dt.date(2026, 3, 8), dt.date(2026, 11, 1))
TOPICS = {
    dt.date(2026, 2, 24): "First topic, with a comma; and a semicolon \\ backslash",
    dt.date(2026, 3, 17): "Thin O/Ses & Thin O/S Provisioning",
    dt.date(2026, 3, 24): "Unicode: Grüße aus Köln – 東京 🎉 a long title that needs "
    "folding across several lines of the feed",
    dt.date(2026, 11, 3): "After the fall change",
}


def feed_file(tmp_path, source: Path, options=ical.SUBSCRIPTION) -> Path:
    sched = schedule.load(source.read_bytes(), str(source))
    path = tmp_path / "feed.ics"
    path.write_bytes(publish.new_version(sched, {}, EDITED).feed(options).body)
    return path


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_small(show_cancelled=False) -> list[tuple[str, str, str]]:
    """(start, summary, status) worked out by hand: 11:00 Pacific is 19:00Z in standard
    time and 18:00Z in daylight time; 03-03 is cancelled; 03-10 moved to Wed 14:00 PDT."""
    rows = []
    day = dt.date(2026, 2, 24)
    while day <= dt.date(2026, 11, 24):
        hour = 18 if DST[0] <= day < DST[1] else 19
        start = f"{day}T{hour}:00:00Z"
        title = "Community Meeting"
        if day in TOPICS:
            title += ": " + TOPICS[day]
        if day == dt.date(2026, 3, 3):
            if show_cancelled:
                # No STATUS: Google Calendar drops STATUS:CANCELLED events, so the title says it.
                rows.append((start, "Cancelled: Community Meeting (Conference week)", ""))
        elif day == dt.date(2026, 3, 10):
            rows.append(
                (
                    "2026-03-11T21:00:00Z",
                    "Community Meeting: Moved to Wednesday afternoon",
                    "CONFIRMED",
                )
            )
        else:
            rows.append((start, title, "CONFIRMED"))
        day += dt.timedelta(days=7)
    rows += [
        ("2026-06-01", "LISA by Usenix", "CONFIRMED"),
        ("2026-06-09", "One-day summit", "CONFIRMED"),
    ]
    return sorted(rows)


WINDOW = (dt.datetime(2026, 2, 20, tzinfo=dt.UTC), dt.datetime(2026, 11, 30, tzinfo=dt.UTC))


def seen(oracle, path, window=WINDOW):
    expansion = ORACLES[oracle](path, *window)
    assert expansion.errors == ()
    return sorted((o.start, o.summary, o.status) for o in expansion.occurrences)


@pytest.mark.parametrize("oracle", ORACLES)
def test_every_parser_sees_the_sessions_at_11_pacific_across_both_dst_changes(tmp_path, oracle):
    assert seen(oracle, feed_file(tmp_path, SMALL)) == expected_small()


@pytest.mark.parametrize("oracle", ORACLES)
def test_cancelled_weeks_are_shown_in_every_parser(tmp_path, oracle):
    path = feed_file(tmp_path, SMALL, ical.Options(show_cancelled=True))
    assert seen(oracle, path) == expected_small(show_cancelled=True)


@pytest.mark.parametrize("oracle", ORACLES)
def test_the_expanded_form_has_the_same_instants(tmp_path, oracle):
    path = feed_file(
        tmp_path, SMALL, ical.Options(expand=(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
    )
    assert seen(oracle, path) == expected_small()


@pytest.mark.parametrize("oracle", ORACLES)
def test_a_tag_filter_keeps_only_tagged_sessions(tmp_path, oracle):
    path = feed_file(tmp_path, SMALL, ical.Options(tag="platform-engineering"))
    assert seen(oracle, path) == [
        (
            "2026-03-17T18:00:00Z",
            "Community Meeting: Thin O/Ses & Thin O/S Provisioning",
            "CONFIRMED",
        )
    ]


def test_parsers_agree_on_the_real_schedule_and_with_our_expansion(tmp_path):
    """Three years of real sessions, every DST change in them, each occurrence compared."""
    path = feed_file(tmp_path, REAL)
    window = (dt.datetime(2021, 5, 1, tzinfo=dt.UTC), dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    views = {name: seen(name, path, window) for name in ORACLES}
    sched = schedule.load(REAL.read_bytes())
    ours = sorted(
        (utc(o.start) if not o.all_day else o.start.isoformat(), o.title, "CONFIRMED")
        for o in occurrences.between(sched, dt.date(2021, 5, 1), dt.date(2024, 2, 29))
        if not o.cancelled
    )
    for name, view in views.items():
        assert view == ours, name
    by_start = {start: title for start, title, _ in ours}
    # Seed facts: Nov 8, 2022 (PST, 19:00Z) had the Thin O/S topic; July 6, 2021 had none.
    assert by_start["2022-11-08T19:00:00Z"].endswith("Thin O/Ses & Thin O/S Provisioning")
    assert by_start["2021-07-13T18:00:00Z"].endswith("Right to Repair")
    assert "2021-07-06T18:00:00Z" not in by_start
