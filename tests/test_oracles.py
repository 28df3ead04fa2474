"""The test oracles themselves: they must agree on a known feed and must see errors.

Feed tests trust these oracles, so here each one is checked against a hand-written
sample whose correct expansion is known (DST change, EXDATE, moved and cancelled
overrides, a folded multibyte SUMMARY, an all-day event), against a second one for
reminders (VALARMs), and against a broken feed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import oracles

ORACLES, Expansion, Occurrence = oracles.ORACLES, oracles.Expansion, oracles.Occurrence

SAMPLE = Path(__file__).parent / "oracles" / "sample.ics"
FROM = dt.datetime(2026, 2, 20, tzinfo=dt.UTC)
TO = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
UID = "community-meeting@feed.example"
EMOJI_SUMMARY = (
    "Community Meeting: 🎉 Release party — ünïcödé, naïve café & 🚀 launch review (日本語 🇺🇸)"
)


def meeting(start: str, end: str, summary: str, status: str, rid: str) -> Occurrence:
    return Occurrence(start, end, UID, summary, status, rid)


# Tue 11:00 America/Los_Angeles is 19:00Z before the 2026-03-08 DST change, 18:00Z after.
EXPECTED = (
    meeting(
        "2026-02-24T19:00:00Z",
        "2026-02-24T20:00:00Z",
        "Community Meeting",
        "CONFIRMED",
        "2026-02-24T19:00:00Z",
    ),
    # 03-03 is EXDATE'd. 03-10 moved to Wed 03-11 14:00 PDT; the override has no STATUS
    # and must not inherit the master's.
    meeting(
        "2026-03-11T21:00:00Z",
        "2026-03-11T22:00:00Z",
        "Community Meeting: moved to Wednesday; room B, 2nd floor",
        "",
        "2026-03-10T18:00:00Z",
    ),
    meeting(
        "2026-03-17T18:00:00Z",
        "2026-03-17T19:00:00Z",
        "Cancelled: Community Meeting",
        "CANCELLED",
        "2026-03-17T18:00:00Z",
    ),
    meeting(
        "2026-03-24T18:00:00Z",
        "2026-03-24T19:00:00Z",
        EMOJI_SUMMARY,
        "CONFIRMED",
        "2026-03-24T18:00:00Z",
    ),
    Occurrence(
        "2026-03-26",
        "2026-03-28",
        "community-retreat-2026@feed.example",
        "Community Retreat (all day)",
        "",
        "",
    ),
)

ALARMS = Path(__file__).parent / "oracles" / "alarms.ics"
STANDUP = "standup@feed.example"


def standup(start: str, end: str, summary: str, rid: str, *alarms: str) -> Occurrence:
    return Occurrence(start, end, STANDUP, summary, "", rid, alarms)


# What ?alarm=15m will write. Tue 09:00 America/Los_Angeles is 17:00Z before the 2026-03-08
# DST change and 16:00Z after, so the -PT15M reminder moves from 16:45Z to 15:45Z.
EXPECTED_ALARMS = (
    standup(
        "2026-02-24T17:00:00Z",
        "2026-02-24T17:30:00Z",
        "Standup",
        "2026-02-24T17:00:00Z",
        "2026-02-24T16:45:00Z",
    ),
    standup(
        "2026-03-03T17:00:00Z",
        "2026-03-03T17:30:00Z",
        "Standup",
        "2026-03-03T17:00:00Z",
        "2026-03-03T16:45:00Z",
    ),
    # 03-10 moved to Wed 03-11 10:00 PDT with its own -PT15M: 15 minutes before the NEW start.
    standup(
        "2026-03-11T17:00:00Z",
        "2026-03-11T17:30:00Z",
        "Standup (moved to Wednesday 10:00)",
        "2026-03-10T16:00:00Z",
        "2026-03-11T16:45:00Z",
    ),
    # All-day 03-12 counts from 00:00 UTC, so -PT15M fires at 23:45Z the day before.
    Occurrence(
        "2026-03-12",
        "2026-03-13",
        "offsite@feed.example",
        "Offsite (all day)",
        "",
        "",
        ("2026-03-11T23:45:00Z",),
    ),
    # 15:00-16:00 PDT: RELATED=END:PT0S fires at the end (23:00Z); the absolute one as written.
    Occurrence(
        "2026-03-13T22:00:00Z",
        "2026-03-13T23:00:00Z",
        "review@feed.example",
        "Review",
        "",
        "",
        ("2026-03-13T12:00:00Z", "2026-03-13T23:00:00Z"),
    ),
    # This override has no VALARM: overrides inherit nothing, so no reminder.
    standup(
        "2026-03-17T16:00:00Z",
        "2026-03-17T16:30:00Z",
        "Standup (no reminder)",
        "2026-03-17T16:00:00Z",
    ),
    standup(
        "2026-03-24T16:00:00Z",
        "2026-03-24T16:30:00Z",
        "Standup",
        "2026-03-24T16:00:00Z",
        "2026-03-24T15:45:00Z",
    ),
)

oracle_names = pytest.mark.parametrize("name", sorted(ORACLES))


def test_sample_is_a_meaningful_fixture() -> None:
    """Guard the fixture: CRLF, 75-octet folds that only a UTF-8-aware folder gets right."""
    raw = SAMPLE.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # no fold splits a multibyte sequence
    logical = raw.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    summary = next(x for x in logical if x.startswith("SUMMARY:Community Meeting: 🎉"))
    with pytest.raises(UnicodeDecodeError):
        summary.encode()[:75].decode("utf-8")  # a naive octet cut would break a character
    assert any(line.startswith(b" ") for line in lines), "the emoji SUMMARY must be folded"


@oracle_names
def test_oracle_expands_sample_exactly(name: str) -> None:
    assert ORACLES[name](SAMPLE, FROM, TO) == Expansion(EXPECTED, ())


def test_oracles_agree_with_each_other() -> None:
    results = {name: oracle(SAMPLE, FROM, TO) for name, oracle in ORACLES.items()}
    (first, reference), *others = results.items()
    for name, result in others:
        assert result == reference, f"{name} disagrees with {first}"


@oracle_names
def test_window_is_half_open_and_follows_moved_overrides(name: str) -> None:
    """[FROM, TO) by actual start: an override moved out of its slot's window still shows."""
    expand = ORACLES[name]
    edge = expand(
        SAMPLE,
        dt.datetime(2026, 2, 24, 19, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 17, 18, tzinfo=dt.UTC),
    )
    assert [o.start for o in edge.occurrences] == ["2026-02-24T19:00:00Z", "2026-03-11T21:00:00Z"]
    moved_in = expand(
        SAMPLE, dt.datetime(2026, 3, 11, tzinfo=dt.UTC), dt.datetime(2026, 3, 12, tzinfo=dt.UTC)
    )
    assert moved_in.occurrences == (EXPECTED[1],)
    moved_out = expand(
        SAMPLE, dt.datetime(2026, 3, 10, tzinfo=dt.UTC), dt.datetime(2026, 3, 11, tzinfo=dt.UTC)
    )
    assert moved_out.occurrences == ()


@oracle_names
def test_oracle_reports_a_broken_value(name: str, tmp_path: Path) -> None:
    text = SAMPLE.read_bytes().decode()
    good = "DTSTART;TZID=America/Los_Angeles:20260106T110000"
    assert good in text
    broken = tmp_path / "broken.ics"
    broken.write_bytes(text.replace(good, good.replace("20260106", "2026XX06")).encode())
    try:
        result = ORACLES[name](broken, FROM, TO)
    except Exception:  # noqa: BLE001 - raising is an acceptable way to report the error
        return
    assert result.errors, f"{name} silently accepted DTSTART 2026XX06T110000"


@oracle_names
def test_oracle_reports_a_fold_that_splits_a_character(name: str, tmp_path: Path) -> None:
    """A fold inside a UTF-8 sequence garbles the text in every parser; it must not pass."""
    raw = SAMPLE.read_bytes()
    good = "caf\r\n é".encode()
    assert good in raw
    broken = tmp_path / "split.ics"
    broken.write_bytes(raw.replace(good, b"caf\xc3\r\n \xa9"))
    assert ORACLES[name](broken, FROM, TO).errors


@oracle_names
def test_inspector_expands_like_the_oracle_and_lists_every_property(name: str, tmp_path: Path):
    """The batch form gives each file the single form's expansion, and sees every line: an
    extra property written into one event shows up there, and nowhere else."""
    raw = SAMPLE.read_bytes()
    marked = tmp_path / "marked.ics"
    assert raw.count(b"SUMMARY:Community Retreat") == 1
    marked.write_bytes(
        raw.replace(b"SUMMARY:Community Retreat", b"X-MARK:1\r\nSUMMARY:Community Retreat")
    )
    plain, extra = oracles.INSPECTORS[name]([SAMPLE, marked], FROM, TO)
    assert plain.expansion == extra.expansion == ORACLES[name](SAMPLE, FROM, TO)
    assert [c[0] for c in plain.components] == [c[0] for c in extra.components]
    assert [c[0] for c in plain.components].count("VEVENT") == raw.count(b"BEGIN:VEVENT")
    differ = [
        (before, after)
        for before, after in zip(plain.components, extra.components, strict=True)
        if before != after
    ]
    assert len(differ) == 1
    (before, after) = differ[0]
    assert sorted(p for p, _ in after[1]) == sorted([*(p for p, _ in before[1]), "X-MARK"])
    assert ("X-MARK", ("1",)) in after[1]
    summary = dict(after[1])["SUMMARY"]
    assert summary == ("Community Retreat (all day)",)


@oracle_names
def test_oracle_reads_every_instance_alarm(name: str) -> None:
    """Each parser sees each reminder on each instance, and none on an override without."""
    assert ORACLES[name](ALARMS, FROM, TO) == Expansion(EXPECTED_ALARMS, ())
    (batch,) = oracles.INSPECTORS[name]([ALARMS], FROM, TO)
    assert batch.expansion.occurrences == EXPECTED_ALARMS


@oracle_names
def test_override_alarm_comes_from_the_override(name: str, tmp_path: Path) -> None:
    """The moved override's own VALARM, not the master's, gives its reminder."""
    raw = ALARMS.read_bytes()
    override = raw.index(b"DTSTART;TZID=America/Los_Angeles:20260311T100000")
    head, tail = raw[:override], raw[override:]
    assert tail.count(b"TRIGGER:-PT15M") == 2  # the override's, then the all-day event's
    changed = tmp_path / "override-alarm.ics"
    changed.write_bytes(head + tail.replace(b"TRIGGER:-PT15M", b"TRIGGER:-PT1H30M", 1))
    found = ORACLES[name](changed, FROM, TO).occurrences
    assert [o.alarms for o in found if o.start.startswith("2026-03-11T")] == [
        ("2026-03-11T15:30:00Z",)
    ]
    assert [o.alarms for o in found if o.uid == STANDUP and o.summary == "Standup"] == [
        ("2026-02-24T16:45:00Z",),
        ("2026-03-03T16:45:00Z",),
        ("2026-03-24T15:45:00Z",),
    ]


def test_subprocess_output_without_alarms_is_rejected() -> None:
    """A script that forgot "alarms" must not read as "no reminder"."""
    item = {"start": "", "end": "", "uid": "", "summary": "", "status": "", "recurrence_id": ""}
    payload = json.dumps({"occurrences": [item], "errors": []})
    with pytest.raises(RuntimeError, match="alarms"):
        oracles._from_json(payload, "test")


def test_naive_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        oracles.expand_recurring_ical_events(SAMPLE, FROM.replace(tzinfo=None), TO)


def test_missing_node_modules_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"ical.js": "2.2.1"}}))
    monkeypatch.setattr(oracles, "JS_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="npm ci --prefix"):
        oracles.expand_icaljs(SAMPLE, FROM, TO)


def test_missing_node_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install -y nodejs npm"):
        oracles.expand_icaljs(SAMPLE, FROM, TO)


def test_missing_system_python_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(oracles, "SYSTEM_PYTHON", tmp_path / "no-python3")
    with pytest.raises(RuntimeError, match="gir1.2-ical-3.0"):
        oracles.expand_libical(SAMPLE, FROM, TO)


def test_missing_icalglib_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    """Run the real script with site-packages disabled (-S), so `gi` cannot be imported."""
    wrapper = tmp_path / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {oracles.SYSTEM_PYTHON} -S "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(oracles, "SYSTEM_PYTHON", wrapper)
    with pytest.raises(RuntimeError, match="apt-get install -y python3-gi gir1.2-ical-3.0"):
        oracles.expand_libical(SAMPLE, FROM, TO)
