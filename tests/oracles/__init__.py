"""Independent iCalendar parsers used as test oracles for the generated feed.

A feed is only correct if every client sees the same meetings, so tests expand one .ics
file with three unrelated implementations and compare the results:

- ``recurring-ical-events`` (+ ``icalendar``): in-process; behaves like Google.
- ``ical.js``: Thunderbird's and FullCalendar's parser, via ``node tests/js/expand.mjs``.
- ``libical``: Evolution's parser, via Debian's ``/usr/bin/python3`` and ICalGLib.

Every oracle has the signature ``(ics_path, start, end) -> Expansion`` and returns the
occurrences that START in ``[start, end)``, normalised so results compare with ``==``:
timed values are UTC instants ``YYYY-MM-DDTHH:MM:SSZ``, all-day values ``YYYY-MM-DD`` (an
all-day date counts as 00:00 UTC for the window), floating times are read as UTC.
Each occurrence also lists when its reminders fire (``Occurrence.alarms``), read from the
VALARMs of the component that supplies it: an override inherits no alarm from its master.
The oracles differ on malformed series, and that is the point: an override matching no
generated instance is dropped by ical.js and libical but shown by recurring-ical-events, and
ical.js (like FullCalendar) matches overrides to slots by RECURRENCE-ID alone, ignoring UID.
Any such disagreement is a feed bug the comparison is meant to catch.

``INSPECTORS`` are the same three parsers for many files at once (one subprocess per batch,
for property tests), each file's expansion with every component and property the parser found,
its TEXT decoded as that parser decodes it: an injected line shows as a property nobody wrote.

A missing tool raises ``RuntimeError`` naming the install command: an oracle that
silently skips would let a broken feed pass.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "INSPECTORS",
    "ORACLES",
    "Expansion",
    "Inspection",
    "Occurrence",
    "expand_icaljs",
    "expand_libical",
    "expand_recurring_ical_events",
]

HERE = Path(__file__).resolve().parent
JS_DIR = HERE.parent / "js"
EXPAND_MJS = JS_DIR / "expand.mjs"
LIBICAL_SCRIPT = HERE / "libical_expand.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")
TIMEOUT_SECONDS = 60
# recurring-ical-events selects by overlap; widen its query and filter by start ourselves.
_MARGIN = dt.timedelta(days=2)


@dataclass(frozen=True, order=True)
class Occurrence:
    """One instance of an event as a client would show it.

    ``alarms``: for each VALARM of the component supplying this instance (the override's own,
    else the master's; nothing is inherited), the UTC instant it fires, sorted. A relative
    TRIGGER counts from this instance's start (or end, for RELATED=END) as the parser reads
    it, an all-day date as 00:00 UTC like everywhere else here, so -PT15M on an all-day event
    fires at 23:45Z the day before. The duration is an exact length (a day is 86400 s, as in
    libical), not nominal, so the parsers cannot disagree on day-long triggers across DST;
    an absolute TRIGGER (VALUE=DATE-TIME) is its own instant. Each parser parses TRIGGER
    itself; a VALARM whose TRIGGER it cannot read is left out, so a test expecting it fails.
    """

    start: str
    end: str
    uid: str
    summary: str
    status: str
    recurrence_id: str
    alarms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expansion:
    """An oracle's view of a feed: its occurrences and the parse errors it reported."""

    occurrences: tuple[Occurrence, ...]
    errors: tuple[str, ...]


Oracle = Callable[[Path, dt.datetime, dt.datetime], Expansion]

# One component as a parser read it: (name, ((property, (value, ...)), ...)), TEXT values
# decoded as that parser decodes them, in file order.
Component = tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]


@dataclass(frozen=True)
class Inspection:
    """An oracle's whole view of a feed: its expansion, and every component and property it
    found. An injected line shows here as a property (or component) nobody wrote."""

    expansion: Expansion
    components: tuple[Component, ...]


Inspector = Callable[[list[Path], dt.datetime, dt.datetime], list[Inspection]]


def _utc(moment: dt.datetime, name: str) -> dt.datetime:
    """Reject naive bounds: guessing their zone would shift the window by hours."""
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(dt.UTC)


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(value: dt.date | dt.datetime) -> str:
    """Output form of a DTSTART/DTEND/RECURRENCE-ID value; floating counts as UTC."""
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return _instant(value)


def _window_point(value: str) -> dt.datetime:
    """Where an output value falls on the UTC line; an all-day date at 00:00 UTC."""
    if len(value) == 10:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def _sorted(occurrences: Iterable[Occurrence]) -> tuple[Occurrence, ...]:
    return tuple(sorted(occurrences, key=lambda o: (o.start, o.uid, o)))


def _from_json(payload: str, source: str) -> Expansion:
    """Build an Expansion from the JSON both subprocess oracles print."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise RuntimeError(
            f"{source} printed unexpected output ({exc}): {payload[:500]!r}"
        ) from exc
    return _expansion(data, source)


def _expansion(data, source: str) -> Expansion:
    try:
        # Required, not defaulted: a script that forgot alarms would pass as "no alarm".
        occurrences = [
            Occurrence(**{**item, "alarms": tuple(str(a) for a in item["alarms"])})
            for item in data["occurrences"]
        ]
        errors = tuple(str(e) for e in data["errors"])
    except (KeyError, TypeError) as exc:
        raise RuntimeError(f"{source} printed unexpected output ({exc}): {data!r:.500}") from exc
    return Expansion(_sorted(occurrences), errors)


def _inspections(payload: str, source: str, count: int) -> list[Inspection]:
    """The Inspections of a batch, from the JSON list both subprocess oracles print."""
    try:
        data = json.loads(payload)
        found = [
            Inspection(
                _expansion(item, source),
                tuple(
                    (str(name), tuple((str(p), tuple(map(str, v))) for p, v in props))
                    for name, props in item["components"]
                ),
            )
            for item in data
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(
            f"{source} printed unexpected output ({exc}): {payload[:500]!r}"
        ) from exc
    if len(found) != count:
        raise RuntimeError(f"{source} answered for {len(found)} files of {count}")
    return found


def _run(argv: list[str], source: str, env: Mapping[str, str] | None = None) -> str:
    """Run an oracle subprocess with a time limit; any failure is a RuntimeError."""
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{source} did not finish within {TIMEOUT_SECONDS}s: {argv}") from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"{source} failed (exit {done.returncode}): {argv}\n{done.stderr.strip()}"
        )
    return done.stdout


def _icalendar_alarms(event, start: str, end: str) -> tuple[str, ...]:
    """``Occurrence.alarms`` of one occurrence, TRIGGER parsed by icalendar (vDDDTypes)."""
    found = []
    for alarm in event.subcomponents:
        if alarm.name != "VALARM" or "TRIGGER" not in alarm:
            continue
        trigger = alarm["TRIGGER"]
        if isinstance(trigger.dt, dt.timedelta):
            related = str(trigger.params.get("RELATED", "START")).upper()
            anchor = _window_point(end if related == "END" else start)
            found.append(_instant(anchor + trigger.dt))
        else:
            found.append(_value(trigger.dt))
    return tuple(sorted(found))


def expand_recurring_ical_events(ics_path: Path, start: dt.datetime, end: dt.datetime) -> Expansion:
    """Expand with recurring-ical-events, the oracle closest to Google's reading.

    Errors are icalendar's per-component ``.errors`` (it parses leniently and records
    problems instead of raising), plus invalid UTF-8, which it would silently replace.
    If a broken series still makes expansion raise, the exception is added to the errors
    and the other series are expanded without it, so the result is comparable with the
    other oracles, which also drop only the bad series. Note that icalendar resolves a
    known TZID with its own zone database, not the file's VTIMEZONE, so this oracle
    cannot see a wrong VTIMEZONE; ical.js and libical can.
    """
    import icalendar
    import recurring_ical_events

    lo, hi = _utc(start, "start"), _utc(end, "end")
    raw = Path(ics_path).read_bytes()
    errors = []
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # icalendar would decode with replacement, silently
        errors.append(f"not valid UTF-8: {exc}")
    calendar = icalendar.Calendar.from_ical(raw)
    errors += [
        f"{component.name}: {prop}: {message}"
        for component in calendar.walk()
        for prop, message in component.errors
    ]
    try:
        found = recurring_ical_events.of(calendar).between(lo - _MARGIN, hi + _MARGIN)
    except (icalendar.InvalidCalendar, ValueError) as exc:
        errors.append(f"recurring-ical-events: {type(exc).__name__}: {exc}")
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        found = query.between(lo - _MARGIN, hi + _MARGIN)

    # rie sets RECURRENCE-ID on every occurrence, even of a one-off event; the other
    # oracles (and our contract) only give one to members of a recurring series.
    masters = [c for c in calendar.walk("VEVENT") if "RECURRENCE-ID" not in c]
    series = {str(c.get("UID", "")) for c in masters if "RRULE" in c or "RDATE" in c}
    one_offs = {str(c.get("UID", "")) for c in masters} - series

    occurrences = []
    for event in found:
        if event.name != "VEVENT":
            continue
        uid = str(event.get("UID", ""))
        start_text, end_text = _value(event.start), _value(event.end)
        occurrence = Occurrence(
            start=start_text,
            end=end_text,
            uid=uid,
            summary=str(event.get("SUMMARY", "")),
            status=str(event.get("STATUS", "")).upper(),
            recurrence_id=(
                ""
                if uid in one_offs or "RECURRENCE-ID" not in event
                else _value(event["RECURRENCE-ID"].dt)
            ),
            # rie copies each override with its own subcomponents, the master's to the rest.
            alarms=_icalendar_alarms(event, start_text, end_text),
        )
        if lo <= _window_point(occurrence.start) < hi:
            occurrences.append(occurrence)
    return Expansion(_sorted(occurrences), tuple(errors))


def _icalendar_values(value) -> tuple[str, ...]:
    """A property value as icalendar decodes it (TEXT unescaped, CATEGORIES split)."""
    if hasattr(value, "cats"):
        return tuple(str(c) for c in value.cats)
    if isinstance(value, str):
        return (str(value),)
    written = value.to_ical()
    return (written.decode() if isinstance(written, bytes) else str(written),)


def inspect_recurring_ical_events(
    paths: list[Path], start: dt.datetime, end: dt.datetime
) -> list[Inspection]:
    """recurring-ical-events' expansion and icalendar's components, file by file."""
    import icalendar

    found = []
    for path in paths:
        calendar = icalendar.Calendar.from_ical(Path(path).read_bytes())
        components = tuple(
            (
                component.name,
                tuple(
                    (name, _icalendar_values(value))
                    for name, value in component.property_items(recursive=False, sorted=False)
                    if name not in ("BEGIN", "END")
                ),
            )
            for component in calendar.walk()
        )
        found.append(Inspection(expand_recurring_ical_events(path, start, end), components))
    return found


def _require_icaljs() -> str:
    """Path of node, after checking that the pinned ical.js is installed next to expand.mjs."""
    node = shutil.which("node")
    install = f"npm ci --prefix {JS_DIR}"
    if node is None:
        raise RuntimeError(
            "the ical.js oracle needs Node.js, and `node` is not on PATH: install it with "
            f"`apt-get install -y nodejs npm`, then run `{install}`"
        )
    installed = JS_DIR / "node_modules" / "ical.js" / "package.json"
    if not installed.is_file():
        raise RuntimeError(f"ical.js is not installed in {JS_DIR}/node_modules: run `{install}`")
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]["ical.js"]
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        raise RuntimeError(
            f"ical.js {version} is installed but {JS_DIR}/package.json pins {pinned}: "
            f"run `{install}`"
        )
    return node


def expand_icaljs(ics_path: Path, start: dt.datetime, end: dt.datetime) -> Expansion:
    """Expand with ical.js (Thunderbird, FullCalendar) through ``node tests/js/expand.mjs``."""
    node = _require_icaljs()
    argv = [
        node,
        str(EXPAND_MJS),
        str(ics_path),
        _instant(_utc(start, "start")),
        _instant(_utc(end, "end")),
    ]
    return _from_json(_run(argv, "ical.js oracle"), "ical.js oracle")


def inspect_icaljs(paths: list[Path], start: dt.datetime, end: dt.datetime) -> list[Inspection]:
    """ical.js' expansion and components of many files, in one Node run."""
    node = _require_icaljs()
    window = [_instant(_utc(start, "start")), _instant(_utc(end, "end"))]
    argv = [node, str(EXPAND_MJS), "--inspect", *window, *map(str, paths)]
    return _inspections(_run(argv, "ical.js oracle"), "ical.js oracle", len(paths))


def _require_libical() -> None:
    install = "apt-get install -y python3 python3-gi gir1.2-ical-3.0"
    if not SYSTEM_PYTHON.is_file():
        raise RuntimeError(f"the libical oracle needs Debian's {SYSTEM_PYTHON}: run `{install}`")


def expand_libical(ics_path: Path, start: dt.datetime, end: dt.datetime) -> Expansion:
    """Expand with libical 3 (Evolution) through ``/usr/bin/python3 libical_expand.py``.

    Debian's interpreter is used on purpose: ICalGLib is a system GObject binding that a
    venv cannot see. The script exits 3 with the install command when it is missing.
    """
    _require_libical()
    argv = [
        str(SYSTEM_PYTHON),
        str(LIBICAL_SCRIPT),
        str(ics_path),
        _instant(_utc(start, "start")),
        _instant(_utc(end, "end")),
    ]
    # Drop the venv's variables so the system interpreter resolves its own packages.
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    return _from_json(_run(argv, "libical oracle", env=env), "libical oracle")


def inspect_libical(paths: list[Path], start: dt.datetime, end: dt.datetime) -> list[Inspection]:
    """libical's expansion and components of many files, in one run of the system Python."""
    _require_libical()
    window = [_instant(_utc(start, "start")), _instant(_utc(end, "end"))]
    argv = [str(SYSTEM_PYTHON), str(LIBICAL_SCRIPT), "--inspect", *window, *map(str, paths)]
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    return _inspections(_run(argv, "libical oracle", env=env), "libical oracle", len(paths))


ORACLES: dict[str, Oracle] = {
    "recurring-ical-events": expand_recurring_ical_events,
    "ical.js": expand_icaljs,
    "libical": expand_libical,
}

# The same three parsers, for many files per run (property tests batch their cases).
INSPECTORS: dict[str, Inspector] = {
    "recurring-ical-events": inspect_recurring_ical_events,
    "ical.js": inspect_icaljs,
    "libical": inspect_libical,
}
