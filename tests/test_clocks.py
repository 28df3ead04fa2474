"""Weekly series at any time of day in zones with clock changes: the JSON's instants (RFC 5545's
reading) are what all three parsers read from the feed.

Cases put a weekly series at a random time, often inside the skipped or repeated hour, in a
few zones whose clocks change at different local times (and by half an hour on Lord Howe).
One known deviation is allowed, and only it: libical (Evolution) places the instance one week
after a skipped-hour instance an hour late, whatever the feed says (its recurrence iterator
carries the skipped hour forward; docs/schedule-format.md says so).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feed import ical, jsonfeed, occurrences
from feed.schedule import WEEKDAYS, check, clock
from oracles import INSPECTORS

ZONES = ["America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"]
WINDOW = (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
EXAMPLES = int(os.environ.get("FEED_CLOCK_EXAMPLES", "6"))
REGRESSIONS = Path(__file__).parent / "regressions" / "clocks"  # raise it for a long run by hand


@st.composite
def series(draw) -> dict:
    zone = draw(st.sampled_from(ZONES))
    weekday = draw(st.integers(0, 6))
    # Mostly around the hours clocks change at, so the interesting cases are common.
    hour = draw(st.sampled_from([0, 1, 2, 3]) | st.integers(0, 23))
    minute = draw(st.sampled_from([0, 15, 30, 45]) | st.integers(0, 59))
    first = dt.date(2027, 1, 4) + dt.timedelta(days=weekday)  # 2027-01-04 is a Monday
    starts = first + dt.timedelta(weeks=draw(st.integers(0, 3)))
    minutes = draw(st.sampled_from([30, 60, 90, 180]))
    cancelled = draw(st.lists(st.integers(1, 46), max_size=3, unique=True))
    return {
        "zone": zone,
        "weekday": WEEKDAYS[weekday],
        "at": f"{hour:02d}:{minute:02d}",
        "starts": starts,
        "duration": f"{minutes}m",
        "cancelled": sorted(starts + dt.timedelta(weeks=w) for w in cancelled),
    }


def source(case: dict) -> str:
    lines = [
        f"calendar: {{name: Clocks, timezone: {case['zone']}, domain: example.org}}",
        "series:",
        "  weekly:",
        "    title: Weekly",
        f"    every: {case['weekday']}",
        f'    at: "{case["at"]}"',
        f"    duration: {case['duration']}",
        f"    starts: {case['starts']}",
        "    ends: 2027-12-31",
    ]
    if case["cancelled"]:
        lines.append("    sessions:")
        lines += [f"      {day}: {{cancelled: yes}}" for day in case["cancelled"]]
    return "\n".join(lines) + "\n"


def ours(schedule) -> set[tuple[str, str]]:
    first, last = WINDOW[0].date() - dt.timedelta(days=1), WINDOW[1].date()
    return {
        (jsonfeed.instant(o.start)["utc"], jsonfeed.instant(o.end)["utc"])
        for o in occurrences.between(schedule, first, last)
        if not o.cancelled and WINDOW[0] <= o.start < WINDOW[1]
    }


def after_a_gap(schedule) -> set[str]:
    """Dates one week after an instance at a skipped time (cancelled or not: libical's
    iterator still steps through it)."""
    return {
        str(day + dt.timedelta(weeks=1))
        for day, change in clock.weekly_slots(schedule.series[0])
        if change.kind == clock.GAP
    }


def run(cases: list[dict], folder: Path) -> None:
    """Check every case, render the accepted ones, and have each parser read them all."""
    files = []
    for number, case in enumerate(cases):
        report = check(source(case))
        if not report.ok:  # only a first session in a skipped hour is refused
            assert [p.key for p in report.errors] == ["series.weekly.starts"], report.errors
            continue
        schedule = report.schedule
        path = folder / f"{number}.ics"
        path.write_bytes(ical.render(schedule, ical.SUBSCRIPTION, ical.events(schedule), {}))
        files.append((path, schedule))
    if not files:
        return
    for name, inspect in INSPECTORS.items():
        views = inspect([p for p, _ in files], *WINDOW)
        for (_, schedule), view in zip(files, views, strict=True):
            assert view.expansion.errors == (), name
            seen = {(o.start, o.end) for o in view.expansion.occurrences}
            expected = ours(schedule)
            if name == "libical":
                zone = schedule.series[0].zone
                differ = {
                    str(dt.datetime.fromisoformat(start).astimezone(zone).date())
                    for start, _ in seen ^ expected
                }
                assert differ <= after_a_gap(schedule), (name, sorted(seen ^ expected))
            else:
                assert seen == expected, (name, sorted(seen ^ expected))


@settings(
    max_examples=EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(series(), min_size=1, max_size=10))
def test_every_parser_reads_the_instants_the_json_gives(tmp_path_factory, cases):
    run(cases, tmp_path_factory.mktemp("clocks"))


def test_regressions(tmp_path):
    """Every failure a long run found, replayed in one batch."""
    found = [json.loads(p.read_text()) for p in sorted(REGRESSIONS.glob("*.json"))]
    assert found, f"no regression cases in {REGRESSIONS}"
    for case in found:
        case["starts"] = dt.date.fromisoformat(case["starts"])
        case["cancelled"] = [dt.date.fromisoformat(d) for d in case["cancelled"]]
    run(found, tmp_path)
