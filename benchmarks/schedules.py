"""Generated schedules for the benchmarks: N years of weekly sessions, each with topic and agenda.

The same content is written twice: as our schedule.yaml and as yaml2ics input. yaml2ics has a
weekly ``repeat`` but no per-date overrides, so each session becomes a one-off event there,
carrying the same title, time, join link and description (topic plus agenda).
"""

from __future__ import annotations

import datetime as dt

FIRST = dt.date(2000, 1, 4)  # a Tuesday
JOIN = "https://zoom.example.org/j/123456789"


def sessions(years: int) -> list[tuple[dt.date, str, list[str]]]:
    """(date, topic, agenda) for every Tuesday in ``years`` years."""
    count = years * 52
    return [
        (
            FIRST + dt.timedelta(weeks=i),
            f"Session {i}: infrastructure topic number {i}, with a longer title",
            [f"Agenda item {i}.{j} about tooling, practice and questions" for j in range(1, 4)],
        )
        for i in range(count)
    ]


def ours(years: int) -> str:
    """schedule.yaml text in our format."""
    lines = [
        "calendar:",
        "  name: Benchmark Community Meeting",
        "  timezone: America/Los_Angeles",
        "  domain: example.org",
        "series:",
        "  weekly:",
        "    title: Community Meeting",
        "    every: tuesday",
        '    at: "11:00"',
        "    duration: 1h",
        f"    starts: {FIRST}",
        f"    join: {JOIN}",
        "    sessions:",
    ]
    for day, topic, agenda in sessions(years):
        lines.append(f"      {day}:")
        lines.append(f"        topic: {topic!r}")
        lines.append("        agenda: [" + ", ".join(repr(a) for a in agenda) + "]")
    return "\n".join(lines) + "\n"


def yaml2ics(years: int) -> str:
    """The same sessions for yaml2ics (scientific-python/yaml2ics): one event per session."""
    lines = ["name: Benchmark Community Meeting", "timezone: America/Los_Angeles", "events:"]
    for day, topic, agenda in sessions(years):
        description = topic + "\\n\\nAgenda:\\n" + "\\n".join("- " + a for a in agenda)
        description += f"\\n\\nJoin: {JOIN}"
        lines += [
            f"  - summary: {topic!r}",
            f"    begin: {day} 11:00:00",
            f"    end: {day} 12:00:00",
            f"    location: {JOIN}",
            f'    description: "{description}"',
        ]
    return "\n".join(lines) + "\n"


def oneoffs(count: int) -> str:
    """A schedule near the 1 MiB limit: ``count`` one-off events, one line each (49 000 fit)."""
    lines = [
        "calendar:",
        " name: Benchmark Events",
        " timezone: America/Los_Angeles",
        " domain: example.org",
        "series:",
        " events:",
        "  title: Events",
        "  sessions:",
    ]
    first = dt.date(1971, 1, 1)
    lines += [f"   {first + dt.timedelta(days=i)}: {i:x}" for i in range(count)]
    return "\n".join(lines) + "\n"
