"""The page, the widget and the feeds in a real browser: Debian's Chromium driven by Playwright,
the app under the production server, and a second origin that embeds and fetches it.

Schedules are generated relative to today, so "next" is known without pinning the server's
clock. Screenshots go to tests/artifacts/ (gitignored) for people to look at.
Nothing here is skipped: a missing browser or node_modules fails with the command to fix it.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import importlib.util
import json
import re
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from servers import app_server, free_port

HERE = Path(__file__).parent
PAGES = HERE / "browser"
NODE_MODULES = HERE / "js" / "node_modules"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCRIPTS = (
    "ical.js/dist/ical.es5.cjs",
    "@fullcalendar/core/index.global.min.js",
    "@fullcalendar/daygrid/index.global.min.js",
    "@fullcalendar/list/index.global.min.js",
    "@fullcalendar/icalendar/index.global.min.js",
)
PACIFIC = ZoneInfo("America/Los_Angeles")
NAME = "Browser Test Meeting"
NEXT_TOPIC = "Platform engineering in practice"
LATER_TOPIC = "Release channels with GitOps"
PAST_TOPIC = "What we learned last month"


# Chromium's English names of the zones the tests visit from, (standard, daylight).
ZONE_NAMES = {
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/Berlin": ("Central European Standard Time", "Central European Summer Time"),
    "Asia/Kolkata": ("India Standard Time", "India Standard Time"),
    "Asia/Tokyo": ("Japan Standard Time", "Japan Standard Time"),
}
AXE = Path("axe-core/axe.min.js")


def zone_name(moment: dt.datetime) -> str:
    standard, daylight = ZONE_NAMES[str(moment.tzinfo)]
    return daylight if moment.dst() else standard


def long_day(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def local_long(day: dt.date, zone: str) -> str:
    """How the page shows a session of the generated schedule (11:00-12:00 Pacific) to a
    visitor in zone: "Tuesday 8 December 2026, 20:00–21:00 Central European Standard Time"."""
    start = pacific_start(day).astimezone(ZoneInfo(zone))
    end = start + dt.timedelta(hours=1)
    return f"{long_day(start.date())}, {start:%H:%M}–{end:%H:%M} {zone_name(start)}"


def missing_tools() -> list[str]:
    """What the browser tests need and do not find, each with the command that installs it."""
    problems = []
    if not CHROMIUM.exists():
        problems.append(
            f"Chromium is missing ({CHROMIUM}). Install Debian's build: "
            "sudo apt-get install -y chromium"
        )
    if importlib.util.find_spec("playwright") is None:
        problems.append(
            "The Python package playwright is missing. Install it: pip install -e '.[test]' "
            "(do not run `playwright install`: the tests use /usr/bin/chromium)"
        )
    absent = [s for s in (*SCRIPTS, str(AXE)) if not (NODE_MODULES / s).exists()]
    if absent:
        problems.append(
            f"FullCalendar/ical.js files are missing from {NODE_MODULES} ({', '.join(absent)}). "
            "Install them: npm ci --prefix tests/js"
        )
    return problems


def test_missing_tools_are_named_with_their_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(sys.modules[__name__], "NODE_MODULES", tmp_path / "node_modules")
    problems = missing_tools()
    assert problems[0] == (
        f"Chromium is missing ({tmp_path}/chromium). Install Debian's build: "
        "sudo apt-get install -y chromium"
    )
    assert problems[-1].startswith(f"FullCalendar/ical.js files are missing from {tmp_path}")
    assert problems[-1].endswith("Install them: npm ci --prefix tests/js")


def tuesdays() -> list[dt.date]:
    """The Tuesdays of the generated schedule: the first is at least tomorrow (Pacific)."""
    tomorrow = dt.datetime.now(PACIFIC).date() + dt.timedelta(days=1)
    first = tomorrow + dt.timedelta(days=(1 - tomorrow.weekday()) % 7)
    return [first + dt.timedelta(weeks=n) for n in range(-2, 6)]


def pacific_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(11), tzinfo=PACIFIC)


def schedule_text(past, plain, cancelled, following, later, *rest) -> str:
    return f"""\
calendar:
  name: {NAME}
  description: A weekly round table for the browser tests.
  timezone: America/Los_Angeles
page:
  intro: All times are US Pacific.
series:
  weekly:
    title: Test Round Table
    every: tuesday
    at: "11:00"
    starts: {past}
    join: https://zoom.example.org/j/42
    sessions:
      {past}: {PAST_TOPIC}
      {cancelled}: {{cancelled: Holiday break}}
      {following}:
        topic: {NEXT_TOPIC}
        agenda: [Golden paths, [Templates, Scorecards], Team topologies]
      {later}: {LATER_TOPIC}
"""


HOSTILE_TOPICS = (
    "<script>alert('topic')</script>",
    "\"'><img src=x onerror=alert(1)>",
    "Überlange Sitzung: " + "Kubernetes-Cluster-Lebenszyklusverwaltungswerkzeug" * 6,
    "جلسة أسبوعية حول البنية التحتية 🚀 مع ضيف",
    "🎉🔥 Emoji only day 🧪 & \"quotes\" 'single' `back`",
)


def hostile_text(days: list[dt.date]) -> str:
    first = days[2]
    sessions = "".join(
        f"      {first + dt.timedelta(weeks=n)}: {{topic: {_yaml(topic)}}}\n"
        for n, topic in enumerate(HOSTILE_TOPICS)
    )
    return f"""\
calendar:
  name: Hostile Meeting
  timezone: America/Los_Angeles
page:
  intro: {_yaml("<script>alert('intro')</script>")}
  backlog: [{_yaml("<b onmouseover=alert(2)>bold</b>")}]
series:
  weekly:
    title: {_yaml('<i>Round</i> "table"')}
    every: tuesday
    at: "11:00"
    starts: {first}
    join: https://zoom.example.org/j/1
    sessions:
{sessions}"""


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """tests/browser/ at /, and tests/js/node_modules/ at /node_modules/."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".cjs": "text/javascript",
        ".html": "text/html; charset=utf-8",
    }

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if path.startswith("/node_modules/"):
            root, rest = NODE_MODULES, path[len("/node_modules/") :]
        else:
            root, rest = PAGES, path.lstrip("/")
        target = (root / rest).resolve()
        return str(target) if target.is_relative_to(root.resolve()) else str(root / "missing")

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def tools():
    problems = missing_tools()
    if problems:
        pytest.fail("Browser tests cannot run:\n- " + "\n- ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def browser(tools):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def days():
    return tuesdays()


@pytest.fixture(scope="module")
def server(tmp_path_factory, days, tools):
    path = tmp_path_factory.mktemp("site") / "schedule.yaml"
    path.write_text(schedule_text(*days), encoding="utf-8")
    with app_server(path) as base:
        yield base


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, days, tools):
    path = tmp_path_factory.mktemp("hostile") / "schedule.yaml"
    path.write_text(hostile_text(days), encoding="utf-8")
    with app_server(path) as base:
        yield base


@pytest.fixture(scope="module")
def other_origin(tools):
    port = free_port()
    handler = functools.partial(StaticHandler, directory=str(PAGES))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(**options):
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def open_page(context, url: str):
    """A page that records every dialog (none may open) and every script error."""
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    return page


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# -- the page --------------------------------------------------------------------------------------


def test_page_shows_the_next_session_and_subscribe_links(server, days, context_factory):
    page = open_page(context_factory(timezone_id="America/Los_Angeles"), server + "/")
    assert page.title() == NAME
    # days[2] is cancelled, so the next session is days[3].
    assert page.locator(".next-topic").inner_text() == NEXT_TOPIC
    assert page.locator(".next-when").inner_text() == local_long(days[3], "America/Los_Angeles")
    cancelled = page.locator(f"#s-weekly-{days[2]}")
    # The heading holds the date, on a line of its own, struck through and muted.
    assert cancelled.locator("h3").inner_text() == (
        f"{long_day(days[2])}\nCancelled: Holiday break"
    )
    date = cancelled.locator("h3 time")
    assert "line-through" in date.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert date.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    host = server.removeprefix("http://")
    links = {
        link: page.locator(f"#subscribe-{link}").get_attribute("href")
        for link in ("webcal", "google", "outlook", "office")
    }
    assert links == {
        "webcal": f"webcal://{host}/calendar.ics",
        "google": "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F"
        + host.replace(":", "%3A")
        + "%2Fcalendar.ics",
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2F"
        + host.replace(":", "%3A")
        + "%2Fcalendar.ics&name=Browser%20Test%20Meeting",
        "office": "https://outlook.office.com/calendar/0/addfromweb?url=http%3A%2F%2F"
        + host.replace(":", "%3A")
        + "%2Fcalendar.ics&name=Browser%20Test%20Meeting",
    }
    assert page.get_by_label("Calendar address").input_value() == f"{server}/calendar.ics"
    assert page.locator("img[src='/qr.svg']").evaluate("img => img.naturalWidth") > 0
    assert page.get_by_role("button", name="Copy address").is_visible()
    assert page.dialogs == [] and page.errors == []


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata"])
def test_every_time_in_the_visitor_zone(server, days, context_factory, zone):
    page = open_page(context_factory(timezone_id=zone), server + "/")
    assert page.locator(".next-when").inner_text() == local_long(days[3], zone)
    start = pacific_start(days[3]).astimezone(ZoneInfo(zone))
    line = page.locator(".zone-line")
    pacific = zone_name(pacific_start(days[3]))
    assert line.inner_text() == (
        f"Times are in your time zone, {zone_name(start)}. Show the meeting’s time ({pacific})"
    )
    # The upcoming list too: the heading's date and the time, where the visitor is.
    item = page.locator(f"#s-weekly-{days[4]}")
    later = pacific_start(days[4]).astimezone(ZoneInfo(zone))
    assert item.locator("h3 time").inner_text() == long_day(later.date())
    assert item.locator(".when time").inner_text() == (
        f"{later:%H:%M}–{later + dt.timedelta(hours=1):%H:%M} {zone_name(later)}"
    )
    # The switch shows the meeting's zone, and is remembered.
    page.get_by_role("button", name="Show the meeting’s time").click()
    assert page.locator(".next-when").inner_text() == local_long(days[3], "America/Los_Angeles")
    again = open_page(page.context, server + "/")
    assert again.locator(".next-when").inner_text() == local_long(days[3], "America/Los_Angeles")
    again.get_by_role("button", name="Show my time").click()
    assert again.locator(".next-when").inner_text() == local_long(days[3], zone)
    assert page.errors == [] and again.errors == []


def test_local_time_for_a_pacific_visitor(server, days, context_factory):
    page = open_page(context_factory(timezone_id="America/Los_Angeles"), server + "/")
    name = zone_name(pacific_start(days[3]))
    assert page.locator(".zone-line").inner_text() == (
        f"Times are in {name}, the meeting’s time zone and yours."
    )


def test_readable_without_javascript(server, days, context_factory):
    page = open_page(context_factory(java_script_enabled=False), server + "/")
    assert page.locator(".next-topic").inner_text() == NEXT_TOPIC
    offset = pacific_start(days[3]).strftime("%z")  # -0800 or -0700
    assert page.locator(".next-when").inner_text() == (
        f"{long_day(days[3])}, 11:00–12:00 Pacific (UTC−{int(offset[2:3])})"
    )
    assert page.locator(".zone-line").is_hidden()
    assert page.locator("button[data-copy]").first.is_hidden()  # no button that cannot work
    assert page.get_by_role("link", name="Google Calendar", exact=True).is_visible()


def test_copy_button_copies_the_address(server, context_factory):
    context = context_factory(permissions=["clipboard-read", "clipboard-write"])
    page = open_page(context, server + "/")
    page.get_by_role("button", name="Copy address").click()
    # The clipboard answers asynchronously: wait for the label, bounded (no fixed sleep).
    page.get_by_role("button", name="Copied").wait_for(state="visible", timeout=10_000)
    assert page.evaluate("navigator.clipboard.readText()") == f"{server}/calendar.ics"


def test_archive_is_collapsed_by_year(server, days, context_factory):
    page = open_page(context_factory(), server + "/")
    details = page.locator("#archive ~ details").first
    assert details.locator("summary").inner_text().startswith(str(days[0].year))
    past = details.get_by_text(PAST_TOPIC)
    assert past.is_hidden()
    details.locator("summary").click()
    assert past.is_visible()


@pytest.mark.parametrize(("name", "width"), [("phone", 390), ("desktop", 1280)])
def test_layout_fits_and_screenshots(server, context_factory, name, width):
    context = context_factory(viewport={"width": width, "height": 900}, timezone_id="Europe/Berlin")
    page = open_page(context, server + "/")
    page.locator("details summary").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"page-{name}")


# -- hostile schedule text ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "width"), [("phone", 390), ("desktop", 1280)])
def test_hostile_text_is_inert_and_intact(hostile_server, context_factory, name, width):
    context = context_factory(viewport={"width": width, "height": 900})
    page = open_page(context, hostile_server + "/")
    topics = page.locator("#upcoming ~ ol h3.topic span[dir]").all_inner_texts()
    assert topics[: len(HOSTILE_TOPICS)] == list(HOSTILE_TOPICS)
    assert page.locator(".next-topic").inner_text() == HOSTILE_TOPICS[0]
    assert page.get_by_text("<script>alert('intro')</script>").is_visible()
    assert page.get_by_text("<b onmouseover=alert(2)>bold</b>").is_visible()
    page.get_by_text("<b onmouseover=alert(2)>bold</b>").hover()
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"hostile-{name}")
    embed = open_page(context, hostile_server + "/embed?limit=5")
    assert embed.locator(".topic").all_inner_texts() == list(HOSTILE_TOPICS)
    assert page.dialogs == [] and embed.dialogs == []
    assert page.errors == [] and embed.errors == []


# -- other origins ---------------------------------------------------------------------------------


@pytest.fixture
def cross_origin(server, other_origin, days, context_factory):
    """The other site's page, in a visitor's browser in Tokyo, its clock held at one instant
    (what the widget shows depends on this year)."""
    context = context_factory(viewport={"width": 1000, "height": 2200}, timezone_id="Asia/Tokyo")
    url = f"{other_origin}/cross-origin.html?feed={server}&date={days[0]}"
    shown_at = dt.datetime.now(dt.UTC)
    context.clock.set_fixed_time(shown_at)
    page = open_page(context, url)
    page.shown_at = shown_at
    page.wait_for_function("() => window.results && results.json && results.ics")
    return page


def test_embed_works_in_an_iframe_elsewhere(cross_origin, days, server):
    embed = cross_origin.frame_locator("iframe[title='Upcoming sessions']")
    items = embed.locator("li")
    items.first.wait_for()
    assert items.count() == 3
    assert items.nth(0).locator(".topic").inner_text() == "Cancelled: Holiday break"
    assert items.nth(1).locator(".topic").inner_text() == NEXT_TOPIC
    # In the visitor's time (Tokyo: Wednesday), with the year when it is not this year.
    tokyo = ZoneInfo("Asia/Tokyo")
    start = pacific_start(days[3]).astimezone(tokyo)
    year = "" if start.year == cross_origin.shown_at.astimezone(tokyo).year else f" {start.year}"
    assert items.nth(1).locator(".when").inner_text() == (
        f"{start:%a} {start.day} {start:%b}{year} {start:%H:%M}–"
        f"{start + dt.timedelta(hours=1):%H:%M} Japan Standard Time"
    )
    # ?theme= follows the host site, whatever the visitor prefers.
    for title, background in (("dark", "rgb(18, 21, 27)"), ("light", "rgb(255, 255, 255)")):
        themed = cross_origin.frame_locator(f"iframe[title='Upcoming sessions, {title}']")
        themed.locator("li").first.wait_for()
        color = themed.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
        assert color == background, title
    # Every other page refuses to be framed: Chromium shows its error page instead.
    whole = cross_origin.locator("iframe[title^='The whole page']").element_handle()
    assert whole.content_frame().url.startswith("chrome-error://")
    assert cross_origin.errors == []


def test_fetch_json_and_ics_from_elsewhere(cross_origin, days):
    data = cross_origin.evaluate("results.json")
    assert "error" not in data
    found = {s["date"]: s for s in data["sessions"]}
    assert found[str(days[3])]["topic"] == NEXT_TOPIC
    assert found[str(days[3])]["start"]["utc"] == (
        pacific_start(days[3]).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert found[str(days[2])]["status"] == "cancelled"
    ics = cross_origin.evaluate("results.ics")
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert NEXT_TOPIC in ics


def event_cells(page, calendar: str) -> dict[str, list[tuple[str, str]]]:
    """FullCalendar's day-grid: {date: [(time, title), ...]} as shown."""
    page.locator(f"#{calendar} .fc-event").first.wait_for()
    shown = page.evaluate(
        """(id) => {
            const found = {};
            for (const cell of document.querySelectorAll(`#${id} td[data-date]`)) {
                const events = [...cell.querySelectorAll(".fc-event")].map((e) => [
                    e.querySelector(".fc-event-time")?.textContent ?? "",
                    e.querySelector(".fc-event-title")?.textContent ?? "",
                ]);
                if (events.length) found[cell.dataset.date] = events;
            }
            return found;
        }""",
        calendar,
    )
    return {day: [tuple(event) for event in events] for day, events in shown.items()}


def test_fullcalendar_shows_the_feed_in_pacific_time(cross_origin, days):
    cells = event_cells(cross_origin, "pacific")
    series = "Test Round Table"
    assert cells == {
        str(days[0]): [("11:00", f"{series}: {PAST_TOPIC}")],
        str(days[1]): [("11:00", series)],
        # days[2] is cancelled: EXDATE, so nothing that day.
        str(days[3]): [("11:00", f"{series}: {NEXT_TOPIC}")],
        str(days[4]): [("11:00", f"{series}: {LATER_TOPIC}")],
        str(days[5]): [("11:00", series)],
    }


def test_fullcalendar_shows_the_expanded_feed_in_local_time(cross_origin, days):
    """The UTC feed in the visitor's zone (Tokyo): Wednesday early morning."""
    cells = event_cells(cross_origin, "local")
    tokyo = ZoneInfo("Asia/Tokyo")
    expected = {}
    titles = {0: PAST_TOPIC, 3: NEXT_TOPIC, 4: LATER_TOPIC}
    for n in (0, 1, 3, 4, 5):  # days[2] is cancelled: left out of the expanded feed
        start = pacific_start(days[n]).astimezone(tokyo)
        title = "Test Round Table" + (f": {titles[n]}" if n in titles else "")
        expected[str(start.date())] = [(f"{start:%H:%M}", title)]
    assert cells == expected
    screenshot(cross_origin, "cross-origin")


# -- the FullCalendar recipe and the static export ------------------------------------------------

PUBLIC = "https://cloud2030.org"
EMBEDDER = "https://embedder.example/"
README = (HERE.parent / "README.md").read_text()


def readme_recipe() -> str:
    """The README's FullCalendar recipe, exactly as written there."""
    section = README.split("### Embedding with FullCalendar", 1)[1]
    return re.search(r"```html\n(.*?)```", section, re.S)[1]


class ExportHandler(http.server.SimpleHTTPRequestHandler):
    """A static host like GitHub Pages: files as they are, CORS open, no other headers."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".ics": "text/calendar; charset=utf-8",
        ".json": "application/json",
        ".js": "text/javascript",
        ".html": "text/html; charset=utf-8",
        ".svg": "image/svg+xml",
    }

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def static_export(tmp_path_factory, days, tools):
    """`feed build` of the browser schedule as of the day before days[0] (a stale build: the
    page must catch up in the browser), served by a plain static server; yields its base."""
    from click.testing import CliRunner

    from feed.cli import cli

    home = tmp_path_factory.mktemp("export")
    schedule = home / "schedule.yaml"
    schedule.write_text(schedule_text(*days), encoding="utf-8")
    built = dt.datetime.combine(days[0] - dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    out = home / "public"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEED_NOW", built.isoformat())
        args = ["build", str(out), "--schedule", str(schedule), "--url", PUBLIC]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    handler = functools.partial(ExportHandler, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def public_context(context_factory, target: str, **options):
    """A browser whose requests to the public address go to target (the app or the export),
    to the CDN go to tests/js/node_modules, and to EMBEDDER get a page with the README's
    recipe pasted in."""
    context = context_factory(**options)

    def cdn(route):
        match = re.fullmatch(
            r"https://cdn\.jsdelivr\.net/npm/((?:@[^/]+/)?[^@/]+)@([^/]+)/(.+)", route.request.url
        )
        package, version, rest = match.groups()
        folder = NODE_MODULES / package
        assert json.loads((folder / "package.json").read_text())["version"] == version
        route.fulfill(path=str(folder / rest), content_type="text/javascript")

    def public(route):
        url = target + route.request.url.removeprefix(PUBLIC)
        route.fulfill(response=route.fetch(url=url))

    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Another site</title>'
        f"</head><body>\n<h1>Our meetings</h1>\n{readme_recipe()}</body></html>\n"
    )
    context.route("https://cdn.jsdelivr.net/**", cdn)
    context.route(PUBLIC + "/**", public)
    context.route(EMBEDDER, lambda route: route.fulfill(body=page, content_type="text/html"))
    return context


def clock(shown: str) -> str:
    """FullCalendar's default time ("8p", "4:30a") as "20:00", "04:30"."""
    hour, minute, half = re.fullmatch(r"(\d{1,2})(?::(\d\d))?([ap])", shown).groups()
    return f"{int(hour) % 12 + (12 if half == 'p' else 0):02d}:{minute or '00'}"


def test_the_readme_recipe_is_the_one_on_the_page():
    from feed.links import Site
    from feed.views import fullcalendar_snippet

    assert readme_recipe() == fullcalendar_snippet(Site(PUBLIC))
    assert f'url: "{PUBLIC}/expanded/calendar.ics"' in readme_recipe()


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo"])
@pytest.mark.parametrize("target", ["app", "static export"])
def test_the_fullcalendar_recipe_shows_local_times(
    request, context_factory, days, zone, target, server, static_export
):
    """The README's recipe, pasted as is into another site, shows every session at the
    visitor's own local time, from the app and from the static export alike."""
    base = server if target == "app" else static_export
    context = public_context(context_factory, base, timezone_id=zone)
    page = open_page(context, EMBEDDER)
    cells = {
        day: [(clock(time), title) for time, title in events]
        for day, events in event_cells(page, "meeting-calendar").items()
    }
    shown = page.evaluate(
        "() => [...document.querySelectorAll('#meeting-calendar td[data-date]')]"
        ".map((td) => td.dataset.date)"
    )
    first, last = dt.date.fromisoformat(shown[0]), dt.date.fromisoformat(shown[-1])
    titles = {0: PAST_TOPIC, 3: NEXT_TOPIC, 4: LATER_TOPIC}
    expected: dict[str, list[tuple[str, str]]] = {}
    for n in range(60):  # the weekly series goes on: every Tuesday but the cancelled days[2]
        day = days[0] + dt.timedelta(weeks=n)
        start = pacific_start(day).astimezone(ZoneInfo(zone))
        if n == 2 or not first <= start.date() <= last:
            continue
        title = "Test Round Table" + (f": {titles[n]}" if n in titles else "")
        expected.setdefault(str(start.date()), []).append((f"{start:%H:%M}", title))
    assert len(expected) >= 3
    assert cells == expected
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo"])
def test_a_stale_static_page_catches_up_in_the_browser(context_factory, days, zone, static_export):
    """Built before days[0], opened now: the sessions that ended are gone, the next session
    comes from sessions.json, in the visitor's time zone."""
    context = public_context(context_factory, static_export, timezone_id=zone)
    page = open_page(context, PUBLIC + "/")
    page.wait_for_function(
        "(key) => document.querySelector('.next').dataset.key === key", arg=f"weekly/{days[3]}"
    )
    assert page.locator(".next-topic").inner_text() == NEXT_TOPIC
    assert page.locator(".next-when").inner_text() == local_long(days[3], zone)
    there = pacific_start(days[3]).astimezone(ZoneInfo(zone))
    assert page.locator(".zone-text").inner_text() == (
        f"Times are in your time zone, {zone_name(there)}."
    )
    assert page.locator(f"#s-weekly-{days[0]}").count() == 0  # ended since the build
    assert page.locator(f"#s-weekly-{days[1]}").count() == 0
    assert page.locator(f"#s-weekly-{days[3]}").is_visible()
    assert page.locator("#fullcalendar-code").text_content() == readme_recipe()
    assert page.locator("#subscribe-webcal").get_attribute("href") == (
        "webcal://cloud2030.org/calendar.ics"
    )
    assert page.locator("img[src='/qr.svg']").evaluate("img => img.naturalWidth") > 0
    embed = open_page(context, PUBLIC + "/embed.html?limit=3")
    items = embed.locator("li:not([hidden])")
    embed.wait_for_function("() => document.querySelectorAll('li:not([hidden])').length === 3")
    assert items.nth(0).locator(".topic").inner_text() == "Cancelled: Holiday break"
    assert items.nth(1).locator(".topic").inner_text() == NEXT_TOPIC
    assert items.nth(2).locator(".topic").inner_text() == LATER_TOPIC
    assert page.errors == [] and embed.errors == []


# -- the first screen, the clock rule, accessibility and weight ------------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AGENTS = {
    "apple": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
}
FIRST_BUTTON = {
    "apple": "subscribe-webcal",
    "mac": "subscribe-webcal",
    "android": "subscribe-google",
    "windows": "subscribe-outlook",
}


@pytest.fixture(scope="module")
def bundled_server(tmp_path_factory, tools):
    """The bundled schedule.yaml (a long title, years of archive) under the production server."""
    path = tmp_path_factory.mktemp("bundled") / "schedule.yaml"
    path.write_text((HERE.parent / "schedule.yaml").read_text(), encoding="utf-8")
    with app_server(path) as base:
        yield base


def live_instant(days) -> dt.datetime:
    """Five minutes into the next session (days[3])."""
    return pacific_start(days[3]) + dt.timedelta(minutes=5)


def inside(box: dict, viewport: dict) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and box["y"] + box["height"] <= viewport["height"]
    )


@pytest.mark.parametrize(
    ("size", "agent"),
    [("phone", "apple"), ("phone", "android"), ("desktop", "windows"), ("desktop", "mac")],
)
@pytest.mark.parametrize("site", ["bundled", "test"])
def test_the_first_screen_holds_the_session_join_and_subscribe(
    request, server, days, context_factory, size, agent, site
):
    """At 390x844 and 1280x800: what it is, the live session in the visitor's time with Join,
    and Subscribe with the visitor's platform's button first, all without scrolling."""
    base = request.getfixturevalue("bundled_server") if site == "bundled" else server
    viewport = PHONE if size == "phone" else DESKTOP
    context = context_factory(
        viewport=viewport, user_agent=AGENTS[agent], timezone_id="Asia/Kolkata"
    )
    if site == "test":
        context.clock.set_fixed_time(live_instant(days))
    page = open_page(context, base + "/")
    first = page.locator("#subscribe-buttons a").first
    assert first.get_attribute("id") == FIRST_BUTTON[agent]
    assert "suggested" in first.get_attribute("class")
    for element in (page.locator("h1"), page.locator(".next-when"), first):
        assert inside(element.bounding_box(), viewport), element
    if site == "test":
        assert page.locator(".next-label").inner_text().lower() == "live now"
        join = page.get_by_role("link", name="Join the meeting")
        assert join.is_visible() and inside(join.bounding_box(), viewport)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert page.errors == []


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_screenshots_in_three_zones(server, days, context_factory, zone, size):
    """The first screen while the session is live, for people to look at."""
    viewport = PHONE if size == "phone" else DESKTOP
    agent = AGENTS["apple" if size == "phone" else "windows"]
    context = context_factory(viewport=viewport, user_agent=agent, timezone_id=zone)
    context.clock.set_fixed_time(live_instant(days))
    page = open_page(context, server + "/")
    assert page.locator(".next-when").inner_text() == local_long(days[3], zone)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"first-{size}-{zone.split('/')[1]}.png"))


def test_the_page_follows_the_clock_while_open(server, days, context_factory):
    """Next, then "Starting soon" with Join 15 minutes before, live, and after the end the
    next session, found in /sessions.json: the clock rule the server applies."""
    context = context_factory(timezone_id="Europe/Berlin")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    start = pacific_start(days[3])
    page.clock.install(time=start - dt.timedelta(minutes=20))
    page.goto(server + "/")
    join = page.locator(".next .join-now")

    def label():
        return page.locator(".next-label").text_content()

    assert label() == "Next session" and join.is_hidden()
    page.clock.run_for(6 * 60 * 1000)
    page.wait_for_function("() => document.querySelector('.next').dataset.state === 'soon'")
    assert label() == "Starting soon" and join.is_visible()
    page.clock.run_for(15 * 60 * 1000)
    page.wait_for_function("() => document.querySelector('.next').dataset.state === 'live'")
    assert label() == "Live now" and join.is_visible()
    page.clock.run_for(60 * 60 * 1000)
    page.wait_for_function(
        "(key) => document.querySelector('.next').dataset.key === key", arg=f"weekly/{days[4]}"
    )
    assert page.locator(".next-topic").inner_text() == LATER_TOPIC
    assert page.locator(".next-when").inner_text() == local_long(days[4], "Europe/Berlin")
    assert label() == "Next session" and join.is_hidden()
    assert page.locator(f"#s-weekly-{days[3]}").count() == 0  # ended: off the list
    assert page.errors == []


def test_the_widget_offers_join_while_live_on_another_site(
    server, other_origin, days, context_factory
):
    context = context_factory(timezone_id="Asia/Kolkata")
    context.clock.set_fixed_time(live_instant(days))
    page = open_page(context, f"{other_origin}/cross-origin.html?feed={server}&date={days[0]}")
    embed = page.frame_locator("iframe[title='Upcoming sessions']")
    live = embed.locator("li", has_text=NEXT_TOPIC)
    live.locator(".join-now").wait_for()
    assert live.get_by_role("link", name="Join").get_attribute("href") == (
        "https://zoom.example.org/j/42"
    )
    assert embed.locator(".join-now:visible").count() == 1


def test_a_session_page_in_the_browser(server, days, context_factory):
    context = context_factory(viewport=PHONE, timezone_id="Asia/Kolkata")
    page = open_page(context, f"{server}/sessions/weekly/{days[3]}")
    assert page.locator("h1").inner_text() == NEXT_TOPIC
    assert page.locator(".next-when").inner_text() == local_long(days[3], "Asia/Kolkata")
    assert page.get_by_role("link", name="Google Calendar").is_visible()
    assert page.errors == []
    screenshot(page, "session-phone")


def test_print_hides_the_controls_and_keeps_join_readable(server, days, context_factory):
    context = context_factory()
    context.clock.set_fixed_time(live_instant(days))
    page = open_page(context, server + "/")
    page.emulate_media(media="print")
    assert page.locator(".subscribe").is_hidden() and page.locator(".toc").is_hidden()
    assert page.locator("#feeds").is_hidden() and page.locator("#more-ways").is_hidden()
    join = page.get_by_role("link", name="Join the meeting")
    color = join.evaluate("e => getComputedStyle(e).color")
    background = join.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(0, 0, 0)" and background in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_a_or_aa_violation(server, days, context_factory, scheme):
    """axe-core, on every kind of page, in light and dark mode (the page at both sizes)."""
    paths = [
        "/",
        "/embed",
        "/embed?theme=dark",
        "/embed?theme=light",
        f"/sessions/weekly/{days[3]}",
        f"/sessions/weekly/{days[2]}",  # cancelled
        f"/sessions/weekly/{days[0]}",  # over
    ]
    found = {}
    for viewport, visited in ((DESKTOP, paths), (PHONE, paths[:1])):
        # The axe script is injected inline, which the pages' CSP rightly forbids.
        context = context_factory(viewport=viewport, color_scheme=scheme, bypass_csp=True)
        context.clock.set_fixed_time(live_instant(days))
        context.route("https://zoom.example.org/**", lambda route: route.abort())
        for path in visited:
            page = context.new_page()
            page.goto(server + path)
            page.add_script_tag(path=str(NODE_MODULES / AXE))
            page.locator("details summary").evaluate_all("all => all.forEach(s => s.click())")
            result = page.evaluate(
                "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
            )
            found[f"{viewport['width']} {path}"] = [
                (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
            ]
            page.close()
    assert found == {key: [] for key in found}


def test_the_page_is_light(bundled_server, context_factory):
    """The bundled schedule's page: few requests, all to its own site, and few bytes."""
    context = context_factory(extra_http_headers={"Accept-Encoding": "gzip"})
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(bundled_server + "/", wait_until="load")
    page.wait_for_function("() => document.readyState === 'complete'")
    urls = [r.url for r in responses]
    assert all(u.startswith(bundled_server + "/") for u in urls), urls
    assert len(urls) <= 5, urls
    sizes = [r.sizes() for r in responses]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    print(f"page weight: {len(urls)} requests, {total} bytes over the wire")
    assert total <= 30_000, total
