"""The test oracles themselves: they must agree on a known feed and must see errors.

Feed tests trust these oracles, so here each one is checked against a hand-written
sample whose correct expansion is known (DST change, EXDATE, moved and cancelled
overrides, a folded multibyte SUMMARY, an all-day event), and against a broken feed.
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
