"""The feed's bytes: golden file, client rules, determinism and versioning of edits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import icalendar
import pytest

from feed import ical, publish, schedule
from feed.schedule import clock
from lint import lint

HERE = Path(__file__).parent
EDITED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 2, 1, 12, 30, tzinfo=dt.UTC)
SCHEDULES = [HERE / "schedules" / "small.yaml", HERE.parent / "schedule.yaml"]
VARIANTS = {
    "subscription": ical.Options(),
    "cancelled-shown": ical.Options(show_cancelled=True),
    "tagged": ical.Options(tag="platform-engineering"),
    "expanded": ical.Options(expand=(dt.date(2021, 1, 1), dt.date(2027, 12, 31))),
    "first-series": ical.Options(series=("weekly",)),
}


def load(path: Path) -> schedule.Schedule:
    return schedule.load(path.read_bytes(), str(path))


def stamped(sched, previous=None, edited=EDITED) -> dict:
    """The stamps production gives sched after an edit at edited."""
    return publish.new_version(sched, previous or {}, edited).stamps


def rendered(sched, options=ical.SUBSCRIPTION, stamps=None) -> bytes:
    version = publish.new_version(sched, stamps or {}, EDITED)
    return version.feed(options).body


def vevents(body: bytes) -> dict[str, bytes]:
    """Each VEVENT's text by UID (plus RECURRENCE-ID)."""
    found = {}
    for block in re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", body, re.S):
        unfolded = block.replace(b"\r\n ", b"")
        uid = re.search(rb"\r\nUID:(.*?)\r\n", unfolded)[1]
        rid = re.search(rb"\r\nRECURRENCE-ID[^:]*:(.*?)\r\n", unfolded)
        found[(uid + b"/" + rid[1] if rid else uid).decode()] = block
    return found


def test_golden_small_schedule(update_golden):
    """The whole feed of a small schedule, byte for byte: any change shows in review."""
    golden = HERE / "golden" / "small.ics"
    body = rendered(load(SCHEDULES[0]))
    if update_golden:
        golden.write_bytes(body)
    assert body == golden.read_bytes()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("path", SCHEDULES, ids=lambda p: p.name)
def test_feeds_follow_the_client_rules(path, variant):
    options = VARIANTS[variant]
    sched = load(path)
    if options.series and not sched.get(options.series[0]):
        options = ical.Options(series=(sched.series[0].id,))
    assert lint(rendered(sched, options)) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda b: b.replace(b"\r\n", b"\n"), "a line ends in a bare LF"),
        (
            lambda b: b.replace(
                b"RRULE:FREQ=WEEKLY;BYDAY=TU\r\n",
                b"RRULE:FREQ=WEEKLY;BYDAY=TU\r\n"
                b"EXDATE;TZID=America/Los_Angeles:20260317T110000\r\n",
            ),
            "is both excluded and overridden",
        ),
        (
            lambda b: b.replace(
                b"RECURRENCE-ID;TZID=America/Los_Angeles:20260317T110000",
                b"RECURRENCE-ID;VALUE=DATE:20260317",
            ),
            "not written like DTSTART",
        ),
        (
            lambda b: b.replace(
                b"RECURRENCE-ID;TZID=America/Los_Angeles:20260317T110000",
                b"RECURRENCE-ID;TZID=America/Los_Angeles:20260318T110000",
            ),
            "is not an instance of its master",
        ),
        (lambda b: b.replace(b"Platform Engineering Topic", b"P" * 80), "octets long"),
        (lambda b: b.replace(b"NAME:Example Community", b"NAME:Example, Community"), "NAME"),
    ],
)
def test_the_lint_catches_broken_feeds(breakage, expected):
    """The lint above is only worth something if it fails on what clients choke on."""
    body = breakage(rendered(load(SCHEDULES[0])))
    assert any(expected in problem for problem in lint(body)), lint(body)


def test_two_renders_are_byte_identical():
    assert rendered(load(SCHEDULES[1])) == rendered(load(SCHEDULES[1]))


def test_weekly_master_starts_on_the_first_real_session_in_los_angeles_time():
    body = rendered(load(SCHEDULES[0]))
    assert b"DTSTART;TZID=America/Los_Angeles:20260106T110000\r\n" in body
    assert b"RRULE:FREQ=WEEKLY;BYDAY=TU\r\n" in body
    assert b"EXDATE;TZID=America/Los_Angeles:20260303T110000\r\n" in body
    assert b"METHOD" not in body and b"ATTENDEE" not in body
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT6H\r\nX-PUBLISHED-TTL:PT6H\r\n" in body


def test_a_cancelled_first_week_moves_dtstart_to_the_next_real_session(tmp_path):
    text = (
        SCHEDULES[0]
        .read_text()
        .replace("2026-02-24: First", "2026-01-06: {cancelled: yes}\n      2026-02-24: First")
    )
    body = rendered(schedule.load(text))
    assert b"DTSTART;TZID=America/Los_Angeles:20260113T110000\r\n" in body
    assert b"20260106" not in body


def test_an_ended_series_has_until_in_utc():
    text = (
        SCHEDULES[0]
        .read_text()
        .replace("starts: 2026-01-06", "starts: 2026-01-06\n    ends: 2026-12-31")
    )
    body = rendered(schedule.load(text))
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20261229T190000Z;BYDAY=TU\r\n" in body


def test_all_day_events_have_an_exclusive_end_date():
    body = rendered(load(SCHEDULES[0]))
    assert b"DTSTART;VALUE=DATE:20260601\r\nDTEND;VALUE=DATE:20260604\r\n" in body


def test_the_join_link_is_in_location_url_conference_and_description():
    event = vevents(rendered(load(SCHEDULES[0])))["weekly@example.org/20260317T110000"]
    event = event.replace(b"\r\n ", b"")
    assert b"LOCATION:https://zoom.example.org/j/123?pwd=a\\,b\\;c\r\n" in event
    assert b"URL:https://zoom.example.org/j/123?pwd=a,b;c\r\n" in event
    assert b"CONFERENCE;FEATURE=VIDEO;LABEL=Join online;VALUE=URI:https://zoom" in event
    assert b"\\n\\nJoin: https://zoom.example.org/j/123?pwd=a\\,b\\;c\r\n" in event


def test_text_round_trips_through_a_parser():
    cal = icalendar.Calendar.from_ical(rendered(load(SCHEDULES[0])))
    summaries = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert "Community Meeting: First topic, with a comma; and a semicolon \\ backslash" in summaries
    assert any("Grüße aus Köln – 東京 🎉" in s for s in summaries)


class TestEditingOneSession:
    """Subscribers apply an edit only if SEQUENCE rises; nothing else may change."""

    def edit(self, old: str, new: str):
        before = load(SCHEDULES[0])
        after = schedule.load(SCHEDULES[0].read_text().replace(old, new))
        first = stamped(before)
        second = stamped(after, first, LATER)
        return rendered(before, stamps=first), rendered(after, stamps=second), first, second

    def test_only_that_session_changes_and_its_sequence_rises(self):
        old, new, _, _ = self.edit("Moved to Wednesday afternoon", "A better title")
        old_events, new_events = vevents(old), vevents(new)
        changed = [k for k in old_events if old_events[k] != new_events[k]]
        assert changed == ["weekly@example.org/20260310T110000"]
        event = new_events[changed[0]]
        assert b"SEQUENCE:1\r\n" in event
        assert b"LAST-MODIFIED:20260201T123000Z\r\n" in event
        assert b"DTSTAMP:20260201T123000Z\r\n" in event

    def test_cancelling_a_week_changes_only_the_master(self):
        old, new, _, _ = self.edit(
            "2026-11-03: After the fall change", "2026-11-03: {cancelled: Holiday}"
        )
        old_events, new_events = vevents(old), vevents(new)
        assert set(old_events) - set(new_events) == {"weekly@example.org/20261103T110000"}
        changed = [k for k in new_events if old_events[k] != new_events[k]]
        assert changed == ["weekly@example.org"]
        assert b"SEQUENCE:1\r\n" in new_events["weekly@example.org"]

    def test_sequence_never_goes_backwards_when_an_edit_is_undone(self):
        _, _, first, second = self.edit("Moved to Wednesday afternoon", "A better title")
        original = load(SCHEDULES[0])
        third = stamped(original, second, LATER + dt.timedelta(days=1))
        key = "weekly@example.org/20260310T110000"
        assert [first[key].sequence, second[key].sequence, third[key].sequence] == [0, 1, 2]


def test_an_event_that_comes_back_goes_on_from_its_old_sequence():
    sched = load(SCHEDULES[0])
    first = stamped(sched)
    without = schedule.load(
        SCHEDULES[0].read_text().replace("      2026-11-03: After the fall change\n", "")
    )
    second = stamped(without, first, LATER)
    key = "weekly@example.org/20261103T110000"
    assert (second[key].sequence, second[key].modified, second[key].digest) == (0, LATER, "")
    third = stamped(sched, second, LATER + dt.timedelta(days=1))
    assert third[key].sequence == 1


def test_a_carriage_return_in_the_calendar_name_adds_no_line():
    """Regression: NAME and X-WR-CALNAME went out raw, so a bare CR in the name started an
    injected component for parsers that end lines at CR (libical)."""
    honest = load(SCHEDULES[0])
    hostile = dataclasses.replace(honest, name="Team sync\rBEGIN:VEVENT\rUID:evil@attacker.example")
    body = rendered(hostile)
    assert b"\r" not in body.replace(b"\r\n", b"")
    starts = b"\r\nBEGIN:VEVENT\r\n"
    assert body.count(starts) == rendered(honest).count(starts)
    assert b"\r\nNAME:Team sync BEGIN:VEVENT UID:evil@attacker.example\r\n" in body
    assert lint(body) == []


def test_a_sessions_slides_are_a_line_of_its_description():
    """Session details are shown as declared: a new one (slides) needed no change here."""
    source = (
        SCHEDULES[0]
        .read_text()
        .replace(
            "2026-03-24:",
            "2026-03-24:\n        slides: https://example.org/slides.pdf\n        topic:",
            1,
        )
    )
    sched = schedule.load(source)
    assert sched.get("weekly").session(dt.date(2026, 3, 24)).slides
    event = vevents(rendered(sched))["weekly@example.org/20260324T110000"].replace(b"\r\n ", b"")
    assert b"\\nSlides: https://example.org/slides.pdf" in event


@pytest.mark.parametrize(
    ("written", "escaped"),
    [
        ("C:\\Network", "C:\\\\Network"),  # not a line break (icalendar's own escaping made one)
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("one\ntwo", "one\\ntwo"),
        ("one\r\ntwo\rthree\x85four\u2028five", "one\\ntwo\\nthree\\nfour\\nfive"),
        ("\ufeffkept", "\ufeffkept"),  # icalendar's UTF-8-SIG decoding dropped it
        ("nul\x00 esc\x1b del\x7f", "nul esc del"),
        ("tab\tstays", "tab\tstays"),
    ],
)
def test_text_is_escaped_by_rfc_5545_alone(written, escaped):
    assert ical.text(written) == escaped


CLOCKS = """\
calendar: {name: Clocks, timezone: America/Los_Angeles, domain: example.org}
series:
  skipped:
    title: Skipped
    every: sunday
    at: "02:30"
    starts: 2027-03-07
    ends: 2028-12-31
    sessions:
      2028-03-12: {cancelled: Clocks change}
  repeated:
    title: Repeated
    every: saturday
    at: "23:30"
    duration: 3h
    starts: 2027-01-02
    ends: 2029-12-31
  twice:
    title: Twice
    every: sunday
    at: "01:15"
    starts: 2027-11-07
    ends: 2027-12-26
"""


def test_slots_at_a_clock_change_are_overrides_that_spell_out_the_instant():
    """Each instance the RRULE generates at a skipped or repeated time, or during which the
    clocks change, gets an override whose DTSTART exists and means one instant."""
    sched = schedule.load(CLOCKS)
    body = rendered(sched)
    assert lint(body) == []
    events = vevents(body)
    skipped = events["skipped@example.org"].decode()
    # A cancelled week at a skipped time: excluded as written, and as the time that exists
    # (libical only matches that one).
    assert "EXDATE;TZID=America/Los_Angeles:20280312T023000\r\n" in skipped
    assert "EXDATE;TZID=America/Los_Angeles:20280312T033000\r\n" in skipped
    # A master starting in a repeated hour: its length is a DURATION, not a DTEND minus a
    # DTSTART that parsers read differently.
    twice = events["twice@example.org"].decode()
    assert "DTSTART;TZID=America/Los_Angeles:20271107T011500\r\n" in twice
    assert "DURATION:PT1H\r\n" in twice and "DTEND" not in twice
    assert "DTSTART:20271107T081500Z\r\n" in events["twice@example.org/20271107T011500"].decode()
    first = events["skipped@example.org/20270314T023000"].decode()
    assert "DTSTART;TZID=America/Los_Angeles:20270314T033000\r\n" in first
    assert "skipped@example.org/20280312T023000" not in events  # cancelled: EXDATE only
    # A Saturday 23:30 session of three hours spans the Sunday 02:00 change, twice a year;
    # without `ends`, until the last year a schedule may name.
    repeated = [k for k in events if k.startswith("repeated@example.org/")]
    assert len(repeated) == 2 * 3
    open_ended = dataclasses.replace(sched.get("repeated"), ends=None)
    assert len(clock.crossing_slots(open_ended)) == 2 * (2200 - 2027 + 1)
    fall = events["repeated@example.org/20271106T233000"].decode()
    assert "DTSTART;TZID=America/Los_Angeles:20271106T233000\r\n" in fall
    assert "DTEND:20271107T093000Z\r\n" in fall  # 01:30 happens twice: only UTC says which
