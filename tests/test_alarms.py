"""Reminders on request: `?alarm=15m` (or 30m, 1h, 1d) puts a reminder on every session that
takes place, in every feed variant, and every parser fires it that long before the start,
across both clock changes, on moved sessions and on the instances the clocks make awkward.
A cancelled week shown with `?cancelled=show` gets none, and the reminder changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from test_clocks import REGRESSIONS
from test_clocks import source as clock_source
from test_parsers import DST, REAL, SMALL, WINDOW, feed_file

from feed import ical, publish, schedule
from feed.plan import ALARMS
from oracles import INSPECTORS, ORACLES

VALARM = re.compile(rb"BEGIN:VALARM\r\n.*?END:VALARM\r\n", re.S)


def fires(start: str, before: dt.timedelta) -> str:
    """When a reminder fires, as the oracles write it (an all-day start counts as 00:00Z)."""
    moment = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    if len(start) == 10:
        moment = moment.replace(tzinfo=dt.UTC)
    return (moment - before).strftime("%Y-%m-%dT%H:%M:%SZ")


def assert_reminded(expansion, before: dt.timedelta, cancelled=lambda o: False) -> None:
    """Every instance a parser shows has exactly one reminder, ``before`` its own start."""
    assert expansion.errors == ()
    assert expansion.occurrences
    for o in expansion.occurrences:
        want = () if cancelled(o) else (fires(o.start, before),)
        assert o.alarms == want, o


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("alarm", ALARMS)
def test_every_parser_fires_the_reminder_before_every_session(tmp_path, oracle, alarm):
    path = feed_file(tmp_path, SMALL, ical.Options(alarm=alarm))
    expansion = ORACLES[oracle](path, *WINDOW)
    assert_reminded(expansion, ALARMS[alarm])
    # The sessions themselves are those of the feed without reminders.
    plain = ORACLES[oracle](feed_file(tmp_path, SMALL), *WINDOW)
    assert [o.start for o in expansion.occurrences] == [o.start for o in plain.occurrences]


@pytest.mark.parametrize("oracle", ORACLES)
def test_15_minutes_before_11_pacific_on_both_sides_of_both_clock_changes(tmp_path, oracle):
    path = feed_file(tmp_path, SMALL, ical.Options(alarm="15m"))
    found = {o.start: o.alarms for o in ORACLES[oracle](path, *WINDOW).occurrences}
    assert DST == (dt.date(2026, 3, 8), dt.date(2026, 11, 1))
    assert found["2026-02-24T19:00:00Z"] == ("2026-02-24T18:45:00Z",)  # 10:45 PST
    assert found["2026-03-17T18:00:00Z"] == ("2026-03-17T17:45:00Z",)  # 10:45 PDT
    assert found["2026-10-27T18:00:00Z"] == ("2026-10-27T17:45:00Z",)
    assert found["2026-11-03T19:00:00Z"] == ("2026-11-03T18:45:00Z",)
    # The moved session: 15 minutes before Wednesday 14:00 PDT, not before the Tuesday slot.
    assert found["2026-03-11T21:00:00Z"] == ("2026-03-11T20:45:00Z",)
    # An all-day event: before its (floating) midnight.
    assert found["2026-06-01"] == ("2026-05-31T23:45:00Z",)


@pytest.mark.parametrize("oracle", ORACLES)
def test_a_cancelled_week_shown_has_no_reminder(tmp_path, oracle):
    path = feed_file(tmp_path, SMALL, ical.Options(show_cancelled=True, alarm="1h"))
    expansion = ORACLES[oracle](path, *WINDOW)
    cancelled = [o for o in expansion.occurrences if o.summary.startswith("Cancelled: ")]
    assert [o.start for o in cancelled] == ["2026-03-03T19:00:00Z"]
    assert_reminded(expansion, ALARMS["1h"], cancelled=lambda o: o in cancelled)


@pytest.mark.parametrize("oracle", ORACLES)
def test_the_expanded_and_tag_variants_carry_it_too(tmp_path, oracle):
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    for options in (
        ical.Options(expand=year, alarm="30m"),
        ical.Options(tag="platform-engineering", alarm="30m"),
        ical.Options(series=("conferences",), alarm="30m"),
    ):
        path = feed_file(tmp_path, SMALL, options)
        assert_reminded(ORACLES[oracle](path, *WINDOW), ALARMS["30m"])


def test_every_parser_fires_it_on_the_instances_the_clocks_make_awkward(tmp_path):
    """Weekly slots in the skipped and the repeated hour get overrides of their own (see
    feed.ical.events): each carries the reminder, 15 minutes before the instant it means."""
    paths = []
    for number, case_file in enumerate(sorted(REGRESSIONS.glob("*.json"))):
        case = json.loads(case_file.read_text())
        report = schedule.check(clock_source(case))
        if not report.ok:
            continue
        path = tmp_path / f"{number}.ics"
        options = ical.Options(alarm="15m")
        events = ical.events(report.schedule, options)
        path.write_bytes(ical.render(report.schedule, options, events, {}))
        paths.append(path)
    assert len(paths) >= 5
    window = (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    for inspect in INSPECTORS.values():
        for view in inspect(paths, *window):
            assert_reminded(view.expansion, ALARMS["15m"])


def test_the_real_schedule_in_every_parser(tmp_path):
    path = feed_file(tmp_path, REAL, ical.Options(alarm="15m"))
    window = (dt.datetime(2021, 5, 1, tzinfo=dt.UTC), dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    counts = set()
    for oracle in ORACLES.values():
        expansion = oracle(path, *window)
        assert_reminded(expansion, ALARMS["15m"])
        counts.add(len(expansion.occurrences))
    assert len(counts) == 1


@pytest.mark.parametrize("alarm", ALARMS)
@pytest.mark.parametrize(
    "options",
    [
        ical.Options(),
        ical.Options(series=("weekly",)),
        ical.Options(show_cancelled=True),
        ical.Options(tag="platform-engineering"),
        ical.Options(expand=(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), show_cancelled=True),
    ],
    ids=["everything", "series", "cancelled", "tag", "expanded"],
)
def test_the_reminder_is_the_only_difference(options, alarm):
    """Same UIDs, SEQUENCEs, stamps and everything else: subscribers who switch to the feed
    with a reminder see no change but the reminder."""
    sched = schedule.load(SMALL.read_bytes())
    version = publish.new_version(sched, {}, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    plain = version.feed(options)
    reminded = version.feed(ical.Options(**{**options.__dict__, "alarm": alarm}))
    assert VALARM.sub(b"", reminded.body) == plain.body
    events = plain.body.count(b"BEGIN:VEVENT")
    cancelled = plain.body.count(b"SUMMARY:Cancelled: ")
    assert reminded.body.count(b"BEGIN:VALARM") == events - cancelled > 0
    assert reminded.last_modified == plain.last_modified
    assert reminded.etag != plain.etag


# -- over HTTP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["15", "15M", "2m", "", "1w", "-15m", "15m,1h"])
def test_an_unknown_reminder_is_a_400_naming_the_valid_ones(client, value):
    response = client.get(f"/calendar.ics?alarm={value}")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == (
        f"400 Bad Request: alarm={value!r} is not valid; use one of alarm=15m, alarm=30m, "
        "alarm=1h, alarm=1d.\n"
    )


def test_an_unknown_reminder_path_is_a_404_naming_the_valid_ones(client):
    response = client.get("/alarm-2m/calendar.ics")
    assert response.status_code == 404
    assert "use one of alarm-15m, alarm-30m, alarm-1h, alarm-1d" in response.get_data(as_text=True)


def test_the_page_offers_feeds_with_a_reminder(make_app, schedule_file):
    client = make_app(schedule_file, PUBLIC_URL="https://meet.example.org").test_client()
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'<a href="(webcal://[^"]*alarm[^"]*)">([^<]*)</a>', page)
    assert links == [
        ("webcal://meet.example.org/alarm-15m/calendar.ics", "15 minutes"),
        ("webcal://meet.example.org/alarm-30m/calendar.ics", "30 minutes"),
        ("webcal://meet.example.org/alarm-1h/calendar.ics", "1 hour"),
        ("webcal://meet.example.org/alarm-1d/calendar.ics", "1 day"),
    ]
    for url, _ in links:
        assert b"TRIGGER:-PT" in client.get(url.removeprefix("webcal://meet.example.org")).data
