"""Hostile input, case by case: each way a schedule or a request once got through (issue 13),
now refused with a positioned problem or a plain 4xx, or rendered inert.

The property test in test_injection.py covers arbitrary text; this file pins the measured
cases one by one, so a regression names the case it broke.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import time
import unicodedata

import pytest
from click.testing import CliRunner
from conftest import SCHEDULES
from test_injection import FIELDS, write

from feed import ical, jsonfeed, occurrences
from feed.cli import cli
from feed.schedule import check, fields, load, readers, text, yamlread
from oracles import INSPECTORS, ORACLES

CONTROLS = {
    "NUL": "\x00",
    "BEL": "\x07",
    "BACKSPACE": "\x08",
    "VT": "\x0b",
    "FF": "\x0c",
    "CR": "\r",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "NEL": "\x85",
    "CSI": "\x9b",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
}
PLAIN = dict.fromkeys(FIELDS, "Plain text")


# -- text ----------------------------------------------------------------------------------


def test_the_refused_characters_are_exactly_the_documented_categories():
    """Cc but tab and LF, Zl, Zp and Cs: the fast regex and Unicode's own tables agree."""
    everything = "".join(map(chr, range(0x110000)))
    matched = set(text.REFUSED.findall(everything))
    categories = ("Cc", "Zl", "Zp", "Cs")
    documented = {c for c in everything if unicodedata.category(c) in categories} - {"\t", "\n"}
    assert matched == documented


@pytest.mark.parametrize("control", CONTROLS, ids=str)
def test_a_control_character_in_any_text_field_is_an_error_at_its_line(control):
    """Regression: NUL, ESC, BEL, DEL, VT, FF, NEL, U+2028 written as YAML escapes passed
    `feed check` in every text field, and one NUL made libical reject the whole feed."""
    for field in FIELDS:
        source, where = write({**PLAIN, field: f"Plain {CONTROLS[control]} text"})
        report = check(source)
        assert not report.ok, field
        assert [p.line for p in report.errors] == [where[field]], field
        assert f"U+{ord(CONTROLS[control]):04X}" in report.errors[0].message


def test_a_bare_cr_cannot_inject_an_event_through_the_name_or_a_title():
    """Regression: `name: "Team sync\\rBEGIN:VEVENT\\rUID:evil@attacker.example\\r..."` passed
    `feed check`, and libical saw the injected event."""
    injected = "Team sync\rBEGIN:VEVENT\rUID:evil@attacker.example\rEND:VEVENT"
    for field in ("name", "title", "event_title", "topic"):
        source, where = write({**PLAIN, field: injected})
        report = check(source)
        assert [(p.line, p.message) for p in report.errors] == [
            (where[field], "the control character U+000D (CR) is not allowed in text")
        ]


def test_a_model_holding_a_cr_anyway_renders_no_extra_component(tmp_path):
    """Defence in depth: every text of the model set to an injection, rendered, and read by
    the three parsers: the same events as without it, no bare CR, no extra component."""
    honest = load((SCHEDULES / "small.yaml").read_bytes())
    evil = "x\rEND:VEVENT\rBEGIN:VEVENT\rUID:evil@attacker.example\rSUMMARY:pwned\r\nY"
    weekly, events = honest.series
    first = weekly.sessions[0]
    hostile = dataclasses.replace(
        honest,
        name=evil,
        description=evil,
        tags=(("platform-engineering", evil),),
        series=(
            dataclasses.replace(
                weekly,
                title=evil,
                description=evil,
                sessions=(
                    dataclasses.replace(first, topic=evil, notes=(evil,), speaker=evil),
                    *weekly.sessions[1:],
                ),
            ),
            dataclasses.replace(events, title=evil),
        ),
    )
    paths = []
    for number, sched in enumerate((honest, hostile)):
        body = ical.render(sched, ical.SUBSCRIPTION, ical.events(sched), {})
        assert b"\r" not in body.replace(b"\r\n", b"")
        paths.append(tmp_path / f"{number}.ics")
        paths[-1].write_bytes(body)
    window = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    for name, inspect in INSPECTORS.items():
        plain, evil_view = inspect(paths, *window)
        assert evil_view.expansion.errors == (), name
        assert [c[0] for c in evil_view.components] == [c[0] for c in plain.components], name
        assert len(evil_view.expansion.occurrences) == len(plain.expansion.occurrences), name
        uids = {o.uid for o in evil_view.expansion.occurrences}
        assert "evil@attacker.example" not in uids, name
        for (_, props), (_, plain_props) in zip(
            evil_view.components, plain.components, strict=True
        ):
            assert [p for p, _ in props] == [p for p, _ in plain_props], name


def test_a_literal_backslash_n_stays_a_backslash_and_an_n(tmp_path):
    """Regression: `C:\\Network` became `C:` and a line break (icalendar's escaping)."""
    sched = load((SCHEDULES / "small.yaml").read_text().replace("First topic", r"C:\Network"))
    body = ical.render(sched, ical.SUBSCRIPTION, ical.events(sched), {})
    assert b"SUMMARY:Community Meeting: C:\\\\Network\\, with a comma" in body
    path = tmp_path / "feed.ics"
    path.write_bytes(body)
    window = (dt.datetime(2026, 2, 24, tzinfo=dt.UTC), dt.datetime(2026, 2, 25, tzinfo=dt.UTC))
    for name, oracle in ORACLES.items():
        (occurrence,) = oracle(path, *window).occurrences
        assert occurrence.summary.startswith("Community Meeting: C:\\Network, with"), name


def test_a_lone_surrogate_is_a_problem_with_either_yaml_parser(monkeypatch):
    """Regression: without libyaml, `"\\ud800"` passed `feed check` and crashed rendering."""
    source, where = write({**PLAIN, "note": "half \ud800 a pair"})
    with_libyaml = check(source)
    monkeypatch.setattr(yamlread, "_LOADER", yamlread._PyLoader)
    pure = check(source)
    for report in (with_libyaml, pure):
        assert not report.ok and [p.line for p in report.errors] == [where["note"]]
    assert pure.errors[0].message == "the lone surrogate U+D800 is not a character"


def test_a_weekly_series_without_description_or_join_has_no_empty_description(tmp_path):
    """Regression: an empty `DESCRIPTION:` line, which libical reports as an error."""
    source = (SCHEDULES / "small.yaml").read_text()
    source = source.replace("    description: Our weekly round table.\n", "")
    source = source.replace("    join: https://zoom.example.org/j/123?pwd=a,b;c\n", "")
    sched = load(source)
    body = ical.render(sched, ical.SUBSCRIPTION, ical.events(sched), {})
    assert b"DESCRIPTION:\r\n" not in body
    path = tmp_path / "feed.ics"
    path.write_bytes(body)
    window = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert ORACLES["libical"](path, *window).errors == ()


# -- numbers and shapes ----------------------------------------------------------------------

HUGE_NUMBER = "9" * 5000
HOSTILE_VALUES = {
    "5000-digit number": HUGE_NUMBER,
    "5000-digit duration": HUGE_NUMBER + "h",
    "huge string": "x" * 100_000,
    "list": [1, [2, 3]],
    "mapping": {"a": {"b": 1}},
    "null": None,
}
BASE = {
    "calendar": {
        "name": "Example",
        "timezone": "America/Los_Angeles",
        "domain": "example.org",
        "tags": {"ops": "Ops"},
    },
    "page": {"intro": "Hi", "links": [{"title": "Podcast", "url": "https://example.org/"}]},
    "series": {
        "weekly": {
            "title": "Weekly",
            "every": "tuesday",
            "at": "11:00",
            "starts": "2024-01-02",
            "sessions": {"2024-01-09": {"topic": "First"}},
        },
        "events": {"title": "Events", "sessions": {"2024-06-03": {"topic": "Summit"}}},
    },
}


def places():
    """Every key of every mapping, as (description, function that sets it in a document)."""

    def setter(*path):
        def put(document, value):
            target = document
            for step in path[:-1]:
                target = target[step] if not isinstance(target, list) else target[0]
            target[path[-1]] = value

        return put

    found = [(f"top.{f.name}", setter(f.name)) for f in fields.TOP]
    found += [(f"calendar.{f.name}", setter("calendar", f.name)) for f in fields.CALENDAR]
    found += [(f"page.{f.name}", setter("page", f.name)) for f in fields.PAGE]
    found += [(f"link.{f.name}", setter("page", "links", 0, f.name)) for f in fields.LINK]
    for sid in ("weekly", "events"):
        found += [(f"{sid}.{f.name}", setter("series", sid, f.name)) for f in fields.SERIES]
        day = "2024-01-09" if sid == "weekly" else "2024-06-03"
        found += [
            (f"{sid}.session.{f.name}", setter("series", sid, "sessions", day, f.name))
            for f in fields.SESSION
        ]
    return found


def test_every_key_given_a_huge_number_string_list_mapping_or_null_is_answered():
    """Regression: a `duration:` or `refresh:` of more than 4,300 digits raised ValueError out
    of the checker. Now any value of any key ends in a schedule or in positioned problems."""
    for where, put in places():
        for kind, value in HOSTILE_VALUES.items():
            document = json.loads(json.dumps(BASE))
            put(document, value)
            # JSON is YAML too, and writes a 100 KB value fast (PyYAML's emitter does not).
            source = json.dumps(document, indent=1)
            lines = source.count("\n") + 1
            report = check(source)
            assert report.ok == (report.schedule is not None), (where, kind)
            for problem in report.problems:
                assert 1 <= problem.line <= lines, (where, kind, problem)
                assert len(str(problem)) < 1000, (where, kind)
            if report.ok:
                ical.render(report.schedule, ical.SUBSCRIPTION, ical.events(report.schedule), {})


def test_numbers_are_bounded_before_conversion():
    assert readers.number("0" * 6000 + "42", 100) == 42
    assert readers.number(HUGE_NUMBER, 100_000) == 100_000
    assert readers.number("100001", 100_000) == 100_000


def test_commands_answer_a_huge_number_without_a_traceback(tmp_path, monkeypatch):
    """Regression: every command printed a traceback, and `feed diff` exited 1 ("changed")
    instead of 2 ("invalid")."""
    good = (SCHEDULES / "small.yaml").read_text()
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "schedule.yaml").write_text(
        good.replace("duration: 1h", f"duration: {HUGE_NUMBER}h")
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "schedule.yaml"])
    assert (
        result.exit_code == 1
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert "Traceback" not in result.output
    assert "series.weekly.duration" in result.stderr
    result = CliRunner().invoke(cli, ["diff", "good.yaml", "schedule.yaml"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_live_edit_with_a_huge_number_keeps_the_last_good_version(make_app, schedule_file):
    """Regression: a live reload of such a file answered 500, and a restart refused to start."""
    app = make_app(schedule_file)
    client = app.test_client()
    before = client.get("/calendar.ics")
    assert before.status_code == 200
    bad = schedule_file.read_text().replace("duration: 1h", f"duration: {HUGE_NUMBER}h")
    schedule_file.write_text(bad)
    stamp = time.time() + 5
    os.utime(schedule_file, (stamp, stamp))
    after = client.get("/calendar.ics")
    assert after.status_code == 200 and after.data == before.data
    restarted = make_app(schedule_file).test_client().get("/calendar.ics")
    assert restarted.status_code == 200 and restarted.data == before.data


# -- times -----------------------------------------------------------------------------------

CLOCKS = """\
calendar: {name: Clocks, timezone: America/Los_Angeles, domain: example.org}
series:
  skipped:
    title: Skipped
    every: sunday
    at: "02:30"
    starts: 2027-03-07
    ends: 2027-04-25
  repeated:
    title: Repeated
    every: sunday
    at: "01:15"
    starts: 2027-10-31
    ends: 2027-11-28
  across:
    title: Across
    every: sunday
    at: "01:30"
    duration: 2h
    starts: 2027-03-07
    ends: 2027-03-21
"""


def test_weekly_slots_in_a_gap_or_overlap_are_warned_about_by_date():
    report = check(CLOCKS)
    assert report.ok
    assert [str(p) for p in report.warnings] == [
        "schedule.yaml:6:9: warning: series.skipped.at: 02:30 does not exist on 2027-03-14 in "
        "America/Los_Angeles (clocks skip from 02:00 to 03:00); those sessions are read as "
        "03:30 PDT, as RFC 5545 says (to meet at the same time every week, pick a time "
        "outside 02:00-03:00)",
        "schedule.yaml:12:9: warning: series.repeated.at: 01:15 happens twice on 2027-11-07 in "
        "America/Los_Angeles (clocks go back from 02:00 to 01:00); those sessions are read as "
        "the first 01:15, PDT, as RFC 5545 says (to meet at the same time every week, pick a "
        "time outside 01:00-02:00)",
    ]


def expected_instants(sched, first, last) -> list[tuple[str, str, str]]:
    return sorted(
        (jsonfeed.instant(o.start)["utc"], jsonfeed.instant(o.end)["utc"], o.title)
        for o in occurrences.between(sched, first, last)
    )


# libical (Evolution) places the session one week after a skipped 02:30 an hour late, whatever
# the feed says: its recurrence iterator carries the skipped hour into the next instance, and
# an override cannot fix it (libical matches the override to the instance by UTC instant).
LIBICAL_AFTER_A_GAP = {("2027-03-21T09:30:00Z", "2027-03-21T10:30:00Z", "Skipped")}


def test_json_and_all_three_parsers_agree_with_rfc_5545_across_clock_changes(tmp_path):
    """Regression: at 02:30 on the spring-forward day and 01:30 on the fall-back day, the JSON
    said 10:30Z and 08:30Z and ical.js 09:30Z for both."""
    sched = load(CLOCKS)
    ours = expected_instants(sched, dt.date(2027, 3, 1), dt.date(2027, 12, 1))
    gap = [o for o in ours if o[0].startswith("2027-03-14") and o[2] == "Skipped"]
    overlap = [o for o in ours if o[0].startswith("2027-11-07")]
    assert gap == [("2027-03-14T10:30:00Z", "2027-03-14T11:30:00Z", "Skipped")]
    assert overlap == [("2027-11-07T08:15:00Z", "2027-11-07T09:15:00Z", "Repeated")]
    # A session during which the clocks change lasts its two hours, not one or three.
    assert ("2027-03-14T09:30:00Z", "2027-03-14T11:30:00Z", "Across") in ours
    skipped = occurrences.on(sched.get("skipped"), dt.date(2027, 3, 14))
    assert jsonfeed.instant(skipped.start)["local"] == "2027-03-14T03:30:00-07:00"
    path = tmp_path / "feed.ics"
    path.write_bytes(ical.render(sched, ical.SUBSCRIPTION, ical.events(sched), {}))
    window = (dt.datetime(2027, 3, 1, tzinfo=dt.UTC), dt.datetime(2027, 12, 1, tzinfo=dt.UTC))
    for name, oracle in ORACLES.items():
        expansion = oracle(path, *window)
        assert expansion.errors == ()
        seen = sorted((o.start, o.end, o.summary) for o in expansion.occurrences)
        if name == "libical":
            wrong = set(seen) - set(ours)
            assert {(a, b, t) for a, b, t in wrong} == {
                ("2027-03-21T10:30:00Z", "2027-03-21T11:30:00Z", "Skipped")
            }
            assert set(ours) - set(seen) == LIBICAL_AFTER_A_GAP
        else:
            assert seen == ours, name


def test_a_move_into_a_gap_is_an_error_with_the_next_time():
    session = '2027-03-21: {topic: Early, moved: "2027-03-14 02:15"}'
    source = CLOCKS.replace(
        "    ends: 2027-04-25\n", f"    ends: 2027-04-25\n    sessions:\n      {session}\n"
    )
    (error,) = check(source).errors
    assert error.message == (
        "2027-03-14 02:15 does not exist in America/Los_Angeles (clocks skip from 02:00 to "
        "03:00 that day)"
    )
    assert error.hint == 'the next time that exists is "2027-03-14 03:00"'


# -- links -----------------------------------------------------------------------------------

HOSTILE_URLS = [
    "https://evil.example\\@good.example/",
    "https://good.example@evil.example/",
    "https:evil.example",
    "https:///evil.example/",
    "https://EVIL.example:443/a/../b/./c?x=1#f",
    "https://exämple.org/café?q=é#ü",
    "https://example.org/a\\b\\..\\c",
    "https://0x7f.1/",
    "https://[::1]/x",
    "https://%65vil.example/",
    "https://evil.example%2F@good.example/",
    "https://xn--exmple-cua.org/",
    "https://example.org/{}|`",
    "https://example.org/?q=\"'<>",
    "https://example.org:0443/",
]


def test_links_are_normalised_as_browsers_do(tmp_path):
    """Every accepted link is stored as the WHATWG URL standard reads it; Node's URL class
    (the standard's reading, as browsers use it) must agree, and a link whose host RFC 3986
    readers see differently is refused."""
    script = (
        "const urls = JSON.parse(process.argv[1]);"
        "const href = (u) => { try { return new URL(u).href } catch { return null } };"
        "console.log(JSON.stringify(urls.map(href)))"
    )
    node = shutil.which("node")
    assert node, "the link test needs Node.js"
    done = subprocess.run(
        [node, "-e", script, json.dumps(HOSTILE_URLS)], capture_output=True, text=True, check=True
    )
    browsers = dict(zip(HOSTILE_URLS, json.loads(done.stdout), strict=True))
    base = (SCHEDULES / "small.yaml").read_text()
    for url in HOSTILE_URLS:
        source = base.replace("https://zoom.example.org/j/123?pwd=a,b;c", json.dumps(url))
        report = check(source)
        if report.ok:
            assert report.schedule.get("weekly").join == browsers[url], url
        else:
            assert [p.key for p in report.errors] == ["series.weekly.join"], url
    refused = {
        u
        for u in HOSTILE_URLS
        if not check(base.replace("https://zoom.example.org/j/123?pwd=a,b;c", json.dumps(u))).ok
    }
    assert {
        "https://evil.example\\@good.example/",
        "https://good.example@evil.example/",
        "https:evil.example",
        "https:///evil.example/",
        "https://evil.example%2F@good.example/",
    } <= refused


def test_page_json_feed_and_join_use_the_one_normalised_link(make_app, small_schedule):
    written = "HTTPS://Zoom.Example.ORG:443/j/../j/123?pwd=a,b;c"
    normal = "https://zoom.example.org/j/123?pwd=a,b;c"
    path = small_schedule(None, ("https://zoom.example.org/j/123?pwd=a,b;c", written))
    client = make_app(path).test_client()
    assert client.get("/join").headers["Location"] == normal
    assert client.get("/next.json").get_json()["join"] == normal
    page = client.get("/").get_data(as_text=True)
    assert f'href="{normal}"' in page and "Zoom.Example" not in page
    assert normal.replace(",", "\\,").replace(";", "\\;").encode() in client.get(
        "/calendar.ics"
    ).data.replace(b"\r\n ", b"")


# -- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/sessions.json?limit=²",
        "/sessions.json?limit=٣",
        "/embed?limit=¹",
        "/sessions.json?from=٢٠٢٦-٠٣-١٠",
        "/sessions.json?limit=1%0A",
        "/sessions/weekly/2026-03-10%0A.ics",
    ],
)
def test_parameters_take_ascii_digits_only(client, url):
    """Regression: `limit=²` gave 500 (str.isdigit is true, int() fails)."""
    response = client.get(url)
    assert response.status_code == 400
    assert response.content_type.startswith("text/plain")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_405_names_the_allowed_methods(client, method):
    """Regression: 405 answers dropped the Allow header RFC 9110 requires."""
    response = client.open("/calendar.ics", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.content_type.startswith("text/plain")


def test_an_exception_inside_validation_is_a_positioned_problem(monkeypatch):
    """Whatever goes wrong while checking, `feed check` answers with file:line:col."""
    from feed.schedule import loader, rules

    def boom(*args):
        raise ValueError("boom")

    source = (SCHEDULES / "small.yaml").read_bytes()
    monkeypatch.setattr(rules, "clock_changes", boom)
    (problem,) = check(source).problems
    assert (problem.line, problem.column, problem.key) == (11, 3, "series.weekly")
    assert problem.message == "this value could not be checked (ValueError: boom)"
    monkeypatch.setattr(loader, "read", boom)
    (problem,) = check(source).problems
    assert (problem.line, problem.column) == (1, 1)


def test_a_control_character_in_a_link_is_an_error_at_its_line():
    """Regression: DEL in a join URL passed the link check."""
    source = (SCHEDULES / "small.yaml").read_text()
    link = "https://zoom.example.org/j/123?pwd=a,b;c"
    for char in ("\\x7f", "\\0", "\\r", "\\x85", "\\u2028"):
        report = check(source.replace(link, f'"https://zoom.example.org/j/1{char}23"'))
        (error,) = report.errors
        assert (error.line, error.key) == (18, "series.weekly.join"), char


def test_the_page_shows_a_skipped_slot_at_the_time_it_means(make_app, small_schedule):
    """Regression: on the spring-forward day the page showed 02:30–04:30 (UTC−8) while the
    JSON and every calendar said 03:30 PDT."""
    from feed import links, occurrences, views

    path = small_schedule(CLOCKS)
    app = make_app(path)
    with app.app_context():
        current = app.extensions["feed.publisher"].current()
        series = current.schedule.get("skipped")
        occurrence = occurrences.on(series, dt.date(2027, 3, 14))
        shown = views.session_view(occurrence, links.Site("https://example.org"), {}, None)
    assert shown["time"].startswith("03:30–04:30 ")
    assert shown["time"].endswith("(UTC−7)")
