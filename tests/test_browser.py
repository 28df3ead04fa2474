"""The page, the widget and the feeds in a real browser: Debian's Chromium driven by Playwright,
the app under a real gunicorn, and a second origin that embeds and fetches it.

Schedules are generated relative to today, so "next" is known without pinning the server's
clock. Screenshots go to tests/artifacts/ (gitignored) for people to look at.
Nothing here is skipped: a missing browser or node_modules fails with the command to fix it.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import importlib.util
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from servers import free_port, gunicorn

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
    absent = [s for s in SCRIPTS if not (NODE_MODULES / s).exists()]
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
    with gunicorn(path) as base:
        yield base


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, days, tools):
    path = tmp_path_factory.mktemp("hostile") / "schedule.yaml"
    path.write_text(hostile_text(days), encoding="utf-8")
    with gunicorn(path) as base:
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
    page = open_page(context_factory(), server + "/")
    assert page.title() == NAME
    # days[2] is cancelled, so the next session is days[3].
    assert page.locator(".next-topic").inner_text() == NEXT_TOPIC
    assert page.locator(".next-when").inner_text() == (
        f"{days[3]:%A} {days[3].day} {days[3]:%B %Y}, 11:00–12:00 Pacific"
    )
    cancelled = page.locator(f"#s-weekly-{days[2]}")
    assert cancelled.locator("h3").inner_text() == "Cancelled: Holiday break"
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


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Tokyo"])
def test_local_time_in_the_visitor_zone(server, days, context_factory, zone):
    page = open_page(context_factory(timezone_id=zone), server + "/")
    there = pacific_start(days[3]).astimezone(ZoneInfo(zone))
    line = page.locator(".local-time")
    assert line.is_visible()
    assert line.inner_text() == f"That is {there:%A %H:%M} where you are ({zone})."


def test_local_time_for_a_pacific_visitor(server, context_factory):
    page = open_page(context_factory(timezone_id="America/Los_Angeles"), server + "/")
    assert page.locator(".local-time").inner_text() == "That is in your time zone too."


def test_readable_without_javascript(server, context_factory):
    page = open_page(context_factory(java_script_enabled=False), server + "/")
    assert page.locator(".next-topic").inner_text() == NEXT_TOPIC
    assert page.locator(".local-time").is_hidden()
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
    topics = page.locator("#upcoming ~ ol h3.topic").all_inner_texts()
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
    """The other site's page, in a visitor's browser in Tokyo."""
    context = context_factory(viewport={"width": 1000, "height": 2200}, timezone_id="Asia/Tokyo")
    url = f"{other_origin}/cross-origin.html?feed={server}&date={days[0]}"
    page = open_page(context, url)
    page.wait_for_function("() => window.results && results.json && results.ics")
    return page


def test_embed_works_in_an_iframe_elsewhere(cross_origin, days, server):
    embed = cross_origin.frame_locator("iframe[title='Upcoming sessions']")
    items = embed.locator("li")
    items.first.wait_for()
    assert items.count() == 3
    assert items.nth(0).locator(".topic").inner_text() == "Cancelled: Holiday break"
    assert items.nth(1).locator(".topic").inner_text() == NEXT_TOPIC
    assert items.nth(1).locator(".when").inner_text() == (
        f"{days[3]:%a} {days[3].day} {days[3]:%b} 11:00–12:00 Pacific"
    )
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
