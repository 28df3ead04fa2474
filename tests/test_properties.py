"""Whatever an organizer (or a broken editor) saves, `check` answers with a Schedule or Problems.

No other exception escapes and nothing hangs: arbitrary YAML documents, arbitrary text, and
random damage to the real schedule.yaml. When damaged text is still valid, it also renders.

Every run tests the same examples (derandomized, no example database, no deadline): a fresh
checkout passes or fails as the last run did, on a busy machine as on an idle one.
FEED_PROPERTY_EXAMPLES raises the number of examples for a long run by hand; every failure such
a run found is kept in tests/regressions/checker/ and replayed by ``test_regressions``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed import ical
from feed.schedule import Problem, Schedule, check

REAL = (ROOT / "schedule.yaml").read_bytes()
REGRESSIONS = Path(__file__).parent / "regressions" / "checker"
EXAMPLES = int(os.environ.get("FEED_PROPERTY_EXAMPLES", "150"))
# No deadline: a time limit fails on a busy machine and passes on an idle one. What must stay
# fast is bounded by tests of its own (tests/test_check.py: alias bombs, deep nesting).
FAST = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_answered(source: str | bytes) -> Schedule | None:
    """The only two outcomes: a Schedule (warnings at most) or at least one error."""
    report = check(source)
    schedule, problems = report.schedule, report.problems
    assert all(isinstance(p, Problem) for p in problems)
    assert list(problems) == sorted(problems, key=lambda p: (p.line, p.column, p.warning))
    lines = [str(p) for p in problems]
    assert all(len(line.splitlines()) == 1 for line in lines)
    # A reader that raised is reported as "a mistake in feed": a bug to fix, not an answer.
    assert not any("a mistake in feed" in (p.hint or "") for p in problems), lines
    assert len(set(problems)) == len(problems), lines  # each problem said once
    # Every problem is at a place in the file, counted as YAML counts lines and characters.
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    in_file = re.split("\r\n|[\r\n\x85\u2028\u2029]", text.removeprefix("\ufeff"))
    for problem, line in zip(problems, lines, strict=True):
        assert 1 <= problem.line <= len(in_file), line
        assert 1 <= problem.column <= len(in_file[problem.line - 1]) + 1, line
    if schedule is None:
        assert report.errors and not report.ok
    else:
        assert isinstance(schedule, Schedule)
        assert report.ok and report.problems == report.warnings
        body = ical.render(schedule, ical.SUBSCRIPTION, ical.events(schedule), {})
        # Whatever the text, every line of the feed ends in CRLF: nothing can start another.
        assert b"\r" not in body.replace(b"\r\n", b"")
        assert b"\n" not in body.replace(b"\r\n", b"")
    return schedule


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.dates().map(str)
    | st.sampled_from(["11:00", "25:00", "tuesday", "1h", "yes", "https://x.org", "~"])
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=30,
)


@FAST
@given(documents)
def test_any_yaml_document(document):
    assert_answered(yaml.safe_dump(document, allow_unicode=True))


@FAST
@given(st.text(max_size=300))
def test_any_text(text):
    assert_answered(text)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes(data):
    assert_answered(data)


# Documents shaped like a schedule, so the validator's deeper rules run on odd values.
values = (
    scalars
    | st.lists(scalars, max_size=3)
    | st.sampled_from(["America/Los_Angeles", "Europe/Berlin", "2024-01-09", "2024-01-10 09:00"])
)
sessions = st.dictionaries(
    st.dates(min_value=dt.date(2023, 12, 1), max_value=dt.date(2024, 3, 1)).map(str)
    | st.text(max_size=8),
    values
    | st.dictionaries(
        st.sampled_from(
            ["topic", "cancelled", "moved", "at", "ends", "duration", "tags", "agenda", "join"]
        ),
        values,
        max_size=4,
    ),
    max_size=6,
)
series = st.fixed_dictionaries(
    {"title": values},
    optional={
        "every": st.sampled_from(["tuesday", "tue", "Tuesdays", "tusday"]) | values,
        "at": st.sampled_from(["11:00", "9:30", "24:00"]) | values,
        "starts": st.sampled_from(["2024-01-02", "2024-01-03"]) | values,
        "ends": st.sampled_from(["2024-02-27", "2023-01-01"]) | values,
        "duration": values,
        "timezone": values,
        "join": values,
        "tags": values,
        "sessions": sessions,
    },
)
schedules = st.fixed_dictionaries(
    {
        "calendar": st.fixed_dictionaries(
            {"name": st.just("Example") | values, "timezone": st.just("UTC") | values},
            optional={"tags": st.dictionaries(st.sampled_from(["ops", "Ops", "a b"]), values)},
        ),
        "series": st.dictionaries(st.sampled_from(["weekly", "events", "Bad Id"]), series),
    }
)


@FAST
@given(schedules)
def test_any_schedule_shaped_document(document):
    assert_answered(yaml.safe_dump(document, allow_unicode=True))


LINES = REAL.split(b"\n")
mutation = st.tuples(
    st.sampled_from(["delete", "indent", "swap", "duplicate", "garbage"]),
    st.integers(0, len(LINES) - 1),
    st.integers(0, len(LINES) - 1),
    st.binary(min_size=1, max_size=4) | st.sampled_from([b":", b"- ", b"[", b'"', b"&a ", b"*a"]),
)


def mutate(lines: list[bytes], change) -> list[bytes]:
    op, i, j, junk = change
    lines = list(lines)
    i, j = i % len(lines), j % len(lines)
    if op == "delete":
        del lines[i]
    elif op == "indent":
        lines[i] = b" " * (j % 9) + lines[i].lstrip()
    elif op == "swap":  # the values of two lines trade places, keys stay
        a, b = lines[i].partition(b":"), lines[j].partition(b":")
        lines[i], lines[j] = a[0] + a[1] + b[2], b[0] + b[1] + a[2]
    elif op == "duplicate":
        lines.insert(i, lines[j])
    else:
        at = j % (len(lines[i]) + 1)
        lines[i] = lines[i][:at] + junk + lines[i][at:]
    return lines


@FAST
@given(st.lists(mutation, min_size=1, max_size=4))
def test_damaged_real_schedule(changes):
    lines = LINES
    for change in changes:
        lines = mutate(lines, change)
    assert_answered(b"\n".join(lines))


def test_real_schedule_is_valid():
    """The base of the mutations is itself valid, so valid mutants exercise rendering."""
    assert assert_answered(REAL) is not None


def regression_files() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.json"))


@pytest.mark.parametrize("path", regression_files(), ids=lambda p: p.stem)
def test_regressions(path):
    """Every input a long run found the checker failing on, answered as pinned: ``text`` (or
    ``bytes``, in hex) and the ``problems`` `feed check` prints for it; ``found`` says what
    was wrong."""
    case = json.loads(path.read_text(encoding="utf-8"))
    source = bytes.fromhex(case["bytes"]) if "bytes" in case else case["text"]
    assert_answered(source)
    assert [str(p) for p in check(source).problems] == case["problems"]
