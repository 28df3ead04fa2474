"""Whatever an organizer (or a broken editor) saves, `check` answers with a Schedule or Problems.

No other exception escapes and nothing hangs: arbitrary YAML documents, arbitrary text, and
random damage to the real schedule.yaml. When damaged text is still valid, it also renders.
"""

from __future__ import annotations

import datetime as dt

import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed import ical
from feed.schedule import Problem, Schedule, check

REAL = (ROOT / "schedule.yaml").read_bytes()
FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def assert_answered(source: str | bytes) -> Schedule | None:
    """The only two outcomes: a Schedule (warnings at most) or at least one error."""
    report = check(source)
    schedule, problems = report.schedule, report.problems
    assert all(isinstance(p, Problem) for p in problems)
    assert list(problems) == sorted(problems, key=lambda p: (p.line, p.column, p.warning))
    lines = [str(p) for p in problems]
    assert all(len(line.splitlines()) == 1 for line in lines)
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


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=4))
def test_damaged_real_schedule(changes):
    lines = LINES
    for change in changes:
        lines = mutate(lines, change)
    assert_answered(b"\n".join(lines))


def test_real_schedule_is_valid():
    """The base of the mutations is itself valid, so valid mutants exercise rendering."""
    assert assert_answered(REAL) is not None
