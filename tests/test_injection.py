"""Arbitrary Unicode in every text field: accepted with exactly the expected events, or
refused at the line that holds it. Never an injected component, property or line.

A case puts one text in each text field of a schedule (written in YAML double quotes, with
escapes for whatever a file cannot hold raw). The model below says, without asking the
validator, whether the file must be accepted (every text is non-empty once trimmed, holds no
control character but tab and line break and no lone surrogate; the calendar name is one line
without , ; or \\). An accepted file is rendered (the subscription feed and the one that shows
cancelled weeks), and each of the three parsers must read exactly the expected occurrences,
components, properties and decoded texts. A refused file must have its errors on the lines of
the offending fields.

Cases are batched: each parser runs once per Hypothesis example, for all of its files.
FEED_INJECTION_EXAMPLES raises the number of examples for a long run by hand; every failure
such a run found is kept in tests/regressions/injection/ and replayed by
``test_regressions``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from feed import ical
from feed.schedule import check
from oracles import INSPECTORS, Inspection

HERE = Path(__file__).parent
REGRESSIONS = HERE / "regressions" / "injection"
WINDOW = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
JOIN = "https://zoom.example.org/j/1"
EXAMPLES = int(os.environ.get("FEED_INJECTION_EXAMPLES", "8"))

# Every text field a schedule has, in the order the file below writes them.
FIELDS = (
    "name",
    "description",
    "tag",
    "intro",
    "invite",
    "link",
    "backlog",
    "title",
    "series_description",
    "topic",
    "agenda",
    "subitem",
    "note",
    "speaker",
    "reason",
    "shorthand",
    "event_title",
    "event_topic",
    "event_note",
)
# Not shown in the feed: only the validator's answer is checked for these.
PAGE_ONLY = {"intro", "invite", "link", "backlog"}

# The characters no text may hold (Unicode Cc but tab and LF, Zl, Zp, Cs), as the issue
# states them, independent of the validator's own table.
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _yaml_char(char: str) -> str:
    """One character inside YAML double quotes: raw when a file can hold it, else escaped."""
    code = ord(char)
    if char in '"\\':
        return "\\" + char
    if 0x20 <= code <= 0x7E or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029)):
        return char
    if 0xE000 <= code <= 0xFFFD and code != 0xFEFF or code >= 0x10000:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(text: str) -> str:
    return '"' + "".join(_yaml_char(c) for c in text) + '"'


def write(case: dict[str, str]) -> tuple[str, dict[str, int]]:
    """The schedule text of a case, and the line each field is on."""
    q = {name: quoted(case[name]) for name in FIELDS}
    lines = [
        ("", "calendar:"),
        ("name", f"  name: {q['name']}"),
        ("description", f"  description: {q['description']}"),
        ("", "  timezone: America/Los_Angeles"),
        ("", "  domain: example.org"),
        ("", "  tags:"),
        ("tag", f"    ops: {q['tag']}"),
        ("", "page:"),
        ("intro", f"  intro: {q['intro']}"),
        ("invite", f"  invite: {q['invite']}"),
        ("", "  links:"),
        ("link", f"    - title: {q['link']}"),
        ("", "      url: https://example.org/"),
        ("", "  backlog:"),
        ("backlog", f"    - {q['backlog']}"),
        ("", "series:"),
        ("", "  weekly:"),
        ("title", f"    title: {q['title']}"),
        ("series_description", f"    description: {q['series_description']}"),
        ("", "    every: tuesday"),
        ("", '    at: "11:00"'),
        ("", "    starts: 2026-01-06"),
        ("", "    ends: 2026-02-24"),
        ("", f"    join: {JOIN}"),
        ("", "    sessions:"),
        ("", "      2026-01-13:"),
        ("topic", f"        topic: {q['topic']}"),
        ("", "        agenda:"),
        ("agenda", f"          - {q['agenda']}"),
        ("subitem", f"          - - {q['subitem']}"),
        ("", "        notes:"),
        ("note", f"          - {q['note']}"),
        ("speaker", f"        speaker: {q['speaker']}"),
        ("", "        tags: [ops]"),
        ("reason", f"      2026-01-20: {{cancelled: {q['reason']}}}"),
        ("shorthand", f"      2026-01-27: {q['shorthand']}"),
        ("", "  events:"),
        ("event_title", f"    title: {q['event_title']}"),
        ("", "    sessions:"),
        ("", "      2026-02-03:"),
        ("event_topic", f"        topic: {q['event_topic']}"),
        ("event_note", f"        notes: {q['event_note']}"),
    ]
    where = {name: number for number, (name, _) in enumerate(lines, 1) if name}
    return "\n".join(text for _, text in lines) + "\n", where


def bad_fields(case: dict[str, str]) -> set[str]:
    """The fields the validator must refuse, by the rules the docs state."""
    bad = set()
    for name in FIELDS:
        value = case[name]
        if _REFUSED.search(value):
            bad.add(name)
        elif not value.strip() and name != "reason":  # `cancelled: ""` means yes
            bad.add(name)
    name = case["name"].strip()
    if re.search(r"[,;\\\t\n]", name):
        bad.add("name")
    return bad


# -- what the parsers must read ------------------------------------------------------------


def escaped(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping, as the raw value of a property no parser decodes."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


@dataclass(frozen=True)
class Expected:
    occurrences: list[tuple[str, str, str]]  # (start, summary, status)
    calendar: dict[str, str]  # calendar property -> decoded value
    events: list[dict[str, tuple[str, ...] | None]]  # per VEVENT: property -> values (None: any)


def expected(case: dict[str, str], show_cancelled: bool) -> Expected:
    t = {name: case[name].strip() for name in FIELDS}
    title = t["title"]
    weekly = ["2026-01-06", "2026-01-13", "2026-01-20", "2026-01-27"]
    weekly += ["2026-02-03", "2026-02-10", "2026-02-17", "2026-02-24"]
    reason = t["reason"] or None
    cancelled_summary = f"Cancelled: {title}" + (f" ({reason})" if reason else "")
    occurrences = []
    for day in weekly:
        summary = {
            "2026-01-13": f"{title}: {t['topic']}",
            "2026-01-27": f"{title}: {t['shorthand']}",
        }
        if day == "2026-01-20":
            if show_cancelled:
                occurrences.append((f"{day}T19:00:00Z", cancelled_summary, ""))
            continue
        occurrences.append((f"{day}T19:00:00Z", summary.get(day, title), "CONFIRMED"))
    occurrences.append(("2026-02-03", t["event_topic"], "CONFIRMED"))

    timed = ("UID", "DTSTART", "DTEND", "TRANSP", "SUMMARY", "STATUS", "DESCRIPTION")
    stamps = ("DTSTAMP", "LAST-MODIFIED", "SEQUENCE")
    joined = ("LOCATION", "CONFERENCE", "URL")

    def event(summary, description, extra=(), categories=None, join=True, status=True):
        names = [p for p in (*timed, *stamps, *extra) if status or p != "STATUS"]
        props: dict[str, tuple[str, ...] | None] = dict.fromkeys(names)
        if join:
            props.update({p: None for p in joined})
            props["LOCATION"] = (JOIN,)
        props["SUMMARY"] = (summary,)
        props["DESCRIPTION"] = (description,)
        if categories:
            props["CATEGORIES"] = (categories,)
        return props

    join_line = ["", f"Join: {JOIN}"]
    master_extra = ("RRULE",) if show_cancelled else ("RRULE", "EXDATE")
    events = [event(title, "\n".join([t["series_description"], *join_line]), master_extra)]
    agenda = ["", "Agenda:", f"- {t['agenda']}", f"  - {t['subitem']}"]
    details = [t["topic"], *agenda, "", f"Note: {t['note']}", f"Speaker: {t['speaker']}"]
    events.append(
        event(
            f"{title}: {t['topic']}",
            "\n".join([*details, *join_line]),
            ("RECURRENCE-ID",),
            categories=t["tag"],
        )
    )
    if show_cancelled:
        text = "Cancelled" + (f": {reason}" if reason else ".")
        # No STATUS (Google would drop the week) and no join link: nobody meets there.
        events.append(event(cancelled_summary, text, ("RECURRENCE-ID",), join=False, status=False))
    shorthand = "\n".join([t["shorthand"], *join_line])
    events.append(event(f"{title}: {t['shorthand']}", shorthand, ("RECURRENCE-ID",)))
    one_off = "\n".join([t["event_topic"], "", f"Note: {t['event_note']}"])
    events.append(event(t["event_topic"], one_off, join=False))
    calendar = {"NAME": t["name"], "X-WR-CALNAME": t["name"], "DESCRIPTION": t["description"]}
    return Expected(sorted(occurrences), calendar, events)


def _half_escaped(value: str) -> str:
    """libical's reading of an X- property: commas and semicolons unescaped, not the rest."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


# How each parser reads the properties it does not decode as TEXT: X-WR-CALDESC, which has no
# declared type, is left escaped (or half escaped) by them. (NAME and X-WR-CALNAME are too,
# but a calendar name has nothing to escape.)
UNDECODED = {
    "recurring-ical-events": {"X-WR-CALDESC": escaped},
    "ical.js": {"X-WR-CALDESC": escaped},
    "libical": {"X-WR-CALDESC": _half_escaped},
}


def assert_reads(name: str, seen: Inspection, want: Expected) -> None:
    """One parser's view of one feed is exactly the expected one."""
    assert seen.expansion.errors == (), (name, seen.expansion.errors)
    got = sorted((o.start, o.summary, o.status) for o in seen.expansion.occurrences)
    assert got == want.occurrences, name
    kinds = [c[0] for c in seen.components]
    assert kinds.count("VCALENDAR") == 1 and kinds[0] == "VCALENDAR", (name, kinds)
    assert set(kinds) <= {"VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT", "VEVENT"}, kinds
    undecoded = UNDECODED[name]

    def decoded(prop: str, value: str) -> str:
        return undecoded[prop](value) if prop in undecoded else value

    calendar = dict(seen.components[0][1])
    allowed = {"PRODID", "VERSION", "CALSCALE", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"}
    allowed |= {"NAME", "X-WR-CALNAME", "DESCRIPTION", "X-WR-CALDESC"}
    names = [p for p, _ in seen.components[0][1]]
    assert sorted(names) == sorted(set(names)) and set(names) == allowed, (name, names)
    for prop, value in want.calendar.items():
        assert calendar[prop] == (decoded(prop, value),), (name, prop)
    caldesc = decoded("X-WR-CALDESC", want.calendar["DESCRIPTION"])
    assert calendar["X-WR-CALDESC"] == (caldesc,), (name, "X-WR-CALDESC")
    vevents = [props for kind, props in seen.components if kind == "VEVENT"]
    assert len(vevents) == len(want.events), (name, len(vevents))
    for props, wanted in zip(vevents, want.events, strict=True):
        names = [p for p, _ in props]
        multiple = {"EXDATE", "CATEGORIES"}
        assert all(names.count(p) == 1 for p in names if p not in multiple), (name, names)
        assert set(names) == set(wanted), (name, sorted(set(names) ^ set(wanted)))
        values = {}
        for prop, value in props:
            values.setdefault(prop, ())
            values[prop] += value
        for prop, value in wanted.items():
            if value is not None:
                assert values[prop] == tuple(decoded(prop, v) for v in value), (name, prop)


def run(cases: list[dict[str, str]], folder: Path) -> None:
    """Check every case; render the accepted ones and have each parser read them all at once."""
    files: list[tuple[Path, Expected]] = []
    for number, case in enumerate(cases):
        source, where = write(case)
        report = check(source)
        bad = bad_fields(case)
        if not bad:
            assert report.ok, (case, [str(p) for p in report.errors])
        else:
            assert not report.ok, (case, bad)
            bad_lines = {where[name] for name in bad}
            if "agenda" in bad:  # its sub-items then have no item to follow
                bad_lines.add(where["subitem"])
            lines = {p.line for p in report.errors}
            assert lines <= bad_lines, (case, [str(p) for p in report.errors], bad_lines)
            continue
        schedule = report.schedule
        for show in (False, True):
            options = ical.Options(show_cancelled=show)
            body = ical.render(schedule, options, ical.events(schedule, options), {})
            assert b"\r" not in body.replace(b"\r\n", b""), case
            path = folder / f"case{number}-{int(show)}.ics"
            path.write_bytes(body)
            files.append((path, expected(case, show)))
    if not files:
        return
    for name, inspect in INSPECTORS.items():
        views = inspect([path for path, _ in files], *WINDOW)
        for (_, want), seen in zip(files, views, strict=True):
            assert_reads(name, seen, want)


# -- generated cases -----------------------------------------------------------------------

HOSTILE = [
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\\",
    "\\N",
    "\\n",
    "C:\\Network",
    ",",
    ";",
    ":",
    '"',
    "BEGIN:VEVENT",
    "END:VEVENT",
    "END:VCALENDAR",
    "\r\nBEGIN:VEVENT\r\nUID:evil@attacker.example\r\nEND:VEVENT\r\n",
    "\rBEGIN:VEVENT\rUID:evil@attacker.example\r",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u200d",
    "\u202e",
    "\ud800",
    "\udfff",
    " ",
    "\xa0",
    "\u3000",
    "é",
    "🎉",
    "👩‍💻",
    "東京",
    "&<>'",
    "\x0b",
    "\x0c",
    "-",
    "#",
    "yes",
]
CLEAN_HOSTILE = [f for f in HOSTILE if not _REFUSED.search(f)]
clean_chars = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")) | st.sampled_from("\t\n")
clean = st.lists(
    st.sampled_from(CLEAN_HOSTILE) | st.text(clean_chars, min_size=1, max_size=8),
    min_size=1,
    max_size=5,
).map("".join)
hostile = st.lists(
    st.sampled_from(HOSTILE) | st.text(st.characters(exclude_categories=()), max_size=6),
    min_size=1,
    max_size=5,
).map("".join)


@st.composite
def cases(draw) -> dict[str, str]:
    """Mostly cases every text of which is valid (so rendering is tested), some with one or
    two hostile fields (so refusals are)."""
    case = {name: draw(clean) for name in FIELDS}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2, unique=True)):
        if draw(st.booleans()):
            case[name] = draw(hostile)
    return case


@settings(
    max_examples=EXAMPLES,
    # Shrinking would rerun the parsers hundreds of times; a failing batch is printed whole
    # and its failing case goes to tests/regressions/injection/.
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(cases(), min_size=1, max_size=12))
def test_arbitrary_text_in_every_field(tmp_path_factory, batch):
    run(batch, tmp_path_factory.mktemp("injection"))


def regression_files() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.json"))


def test_regressions(tmp_path):
    """Every failure a long run found, and the cases of the issue, replayed in one batch."""
    cases_found = [json.loads(p.read_text()) for p in regression_files()]
    assert cases_found, f"no regression cases in {REGRESSIONS}"
    for case in cases_found:
        assert set(case) == set(FIELDS), case
    run(cases_found, tmp_path)


@pytest.mark.parametrize("fragment", HOSTILE)
def test_the_model_knows_every_hostile_fragment(fragment):
    """The model refuses exactly the fragments with a refused character (a guard on the
    guard: a model that refused everything would make the property test vacuous)."""
    case = dict.fromkeys(FIELDS, "Plain")
    case["topic"] = f"A {fragment} B"
    assert (bad_fields(case) == {"topic"}) == bool(_REFUSED.search(fragment))
