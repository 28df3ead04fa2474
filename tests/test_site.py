"""The meeting's page, the widget, per-session files and /join, through Flask's test client.

The clock is pinned with the NOW setting (2026-03-01, before the sessions of
tests/schedules/small.yaml), so "today" and "next" are known.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from html.parser import HTMLParser

import icalendar
import pytest
import segno

from feed import pages, views
from feed.schedule import SESSION_DETAILS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's visible text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs) -> list[dict]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def page(client, path="/") -> tuple[str, Elements]:
    response = client.get(path)
    assert response.status_code == 200, response.data
    html = response.data.decode()
    return html, Elements(html)


# -- the page --------------------------------------------------------------------------------------


def test_page_headers_forbid_framing_and_inline_code(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"]


def test_page_shows_when_and_the_next_session(client):
    html, elements = page(client)
    assert "<title>Example Community Meeting</title>" in html
    assert '<p class="meets">Tuesdays 11:00 Pacific <span class="offset">' in html
    # 03-03 is cancelled: the next session is the one moved to Wednesday 03-11 14:00 PDT.
    (time,) = elements.find("time", **{"data-show": "long"})
    assert time == {
        "datetime": "2026-03-11T21:00:00Z",
        "data-end": "2026-03-11T22:00:00Z",
        "data-zone": "America/Los_Angeles",
        "data-show": "long",
    }
    # Without JavaScript: the meeting's time with its UTC offset.
    assert "Wednesday 11 March 2026, 14:00–15:00 Pacific (UTC−7)</time>" in html
    assert (
        '<p class="next-topic"><a href="http://localhost/sessions/weekly/2026-03-10" dir="auto">'
        "Moved to Wednesday afternoon</a></p>"
    ) in html
    (block,) = elements.find("section", **{"class": "next"})
    assert block["data-state"] == "next"
    # Join as a button only when live or about to start; until then the plain link.
    (now,) = elements.find("p", **{"class": "join-now"})
    assert "hidden" in now
    assert elements.find(
        "a", **{"class": "address", "href": "https://zoom.example.org/j/123?pwd=a,b;c"}
    )
    assert elements.find("p", **{"class": "zone-line", "hidden": None})  # filled in by JS


@pytest.mark.parametrize(
    ("now", "state", "key", "label"),
    [
        ("2026-03-11T20:44:59Z", "next", "weekly/2026-03-10", "Next session"),
        ("2026-03-11T20:45:00Z", "soon", "weekly/2026-03-10", "Starting soon"),
        ("2026-03-11T21:00:00Z", "live", "weekly/2026-03-10", "Live now"),
        ("2026-03-11T21:59:59Z", "live", "weekly/2026-03-10", "Live now"),
        ("2026-03-11T22:00:00Z", "next", "weekly/2026-03-17", "Next session"),
    ],
)
def test_one_clock_rule_for_page_next_join_and_widget(
    make_app, schedule_file, now, state, key, label
):
    """Live from its start to its end, then the next one: the page, /next, /join and the
    widget agree at every instant, and caches keep each answer only until it changes."""
    app = make_app(schedule_file, NOW=now)
    client = app.test_client()
    html, elements = page(client)
    (block,) = elements.find("section", **{"class": "next"})
    assert (block["data-key"], block["data-state"]) == (key, state)
    assert f'<h2 id="next-label" class="next-label">{label}</h2>' in html
    (join_now,) = elements.find("p", **{"class": "join-now"})
    assert ("hidden" not in join_now) == (state in ("live", "soon"))
    data = client.get("/next").get_json()
    assert (data["key"], data["state"], data["live"]) == (key, state, state == "live")
    assert client.get("/join").headers["Location"] == "https://zoom.example.org/j/123?pwd=a,b;c"
    embed = Elements(client.get("/embed").data.decode())
    joins = embed.find("p", **{"class": "join-now"})
    assert sum("hidden" not in j for j in joins) == (state == "live")
    # The session that ended is no longer listed as upcoming, nor in the widget.
    ended = now >= "2026-03-11T22:00:00Z"
    assert ('id="s-weekly-2026-03-10"' in html.split('id="archive"')[0]) != ended


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        ("2026-03-11T20:40:00Z", 300),  # Join shows 15 minutes before the start
        ("2026-03-11T20:50:00Z", 600),  # it starts
        ("2026-03-11T21:30:00Z", 1800),  # it ends
    ],
)
def test_cache_lifetimes_end_at_the_next_change(make_app, schedule_file, now, seconds):
    client = make_app(schedule_file, NOW=now).test_client()
    for path in ("/", "/embed"):
        assert client.get(path).headers["Cache-Control"] == f"public, max-age={seconds}", path
    # The session's own page changes when it starts and when it ends.
    own = client.get("/sessions/weekly/2026-03-10").headers["Cache-Control"]
    assert own == f"public, max-age={seconds + 900 if seconds == 300 else seconds}"
    # /next and join.html: a minute at most, less when the change comes sooner.
    short = f"public, max-age={min(seconds, 60)}"
    for path in ("/next", "/next.json", "/join.html"):
        assert client.get(path).headers["Cache-Control"] == short, path
    assert client.get("/join").headers["Cache-Control"] == "no-store"  # never kept
    # A far change is capped by the usual lifetime.
    far = make_app(schedule_file, NOW="2026-03-01T12:00:00Z").test_client()
    assert far.get("/").headers["Cache-Control"] == "public, max-age=3600"


def test_page_last_modified_moves_when_a_session_starts(make_app, schedule_file):
    january = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    os.utime(schedule_file, (january, january))  # edited before the clock pinned below
    before = make_app(schedule_file, NOW="2026-03-11T20:59:00Z").test_client().get("/")
    live = make_app(schedule_file, NOW="2026-03-11T21:01:00Z").test_client()
    response = live.get("/")
    assert response.headers["Last-Modified"] == "Wed, 11 Mar 2026 21:00:00 GMT"
    assert response.data != before.data
    since = {"If-Modified-Since": before.headers["Last-Modified"]}
    assert live.get("/", headers=since).status_code == 200


def test_subscribe_links_from_the_request_host(client):
    _, elements = page(client)
    links = {a["id"]: a["href"] for a in elements.find("a") if a.get("id", "").startswith("sub")}
    assert links == {
        "subscribe-webcal": "webcal://localhost/calendar.ics",
        "subscribe-google": "https://calendar.google.com/calendar/render?cid="
        "webcal%3A%2F%2Flocalhost%2Fcalendar.ics",
        "subscribe-outlook": "https://outlook.live.com/calendar/0/addfromweb?"
        "url=http%3A%2F%2Flocalhost%2Fcalendar.ics&name=Example%20Community%20Meeting",
        "subscribe-office": "https://outlook.office.com/calendar/0/addfromweb?"
        "url=http%3A%2F%2Flocalhost%2Fcalendar.ics&name=Example%20Community%20Meeting",
    }
    (field,) = elements.find("input", id="feed-url")
    assert field["value"] == "http://localhost/calendar.ics"
    (copy,) = elements.find("button", **{"data-copy": "feed-url"})
    assert copy["type"] == "button"


def test_subscribe_links_from_calendar_url(make_app, small_schedule):
    path = small_schedule(None, ("  domain: example.org\n", "  url: https://meet.example.org\n"))
    client = make_app(path).test_client()
    response = client.get("/", headers={"Host": "attacker.example"})
    elements = Elements(response.data.decode())
    links = {a["id"]: a["href"] for a in elements.find("a") if a.get("id", "").startswith("sub")}
    assert links["subscribe-webcal"] == "webcal://meet.example.org/calendar.ics"
    assert links["subscribe-google"] == (
        "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2Fmeet.example.org%2Fcalendar.ics"
    )
    assert links["subscribe-outlook"] == (
        "https://outlook.live.com/calendar/0/addfromweb?"
        "url=https%3A%2F%2Fmeet.example.org%2Fcalendar.ics&name=Example%20Community%20Meeting"
    )
    assert "attacker.example" not in response.data.decode()


def test_google_refresh_note_and_qr_code(client):
    html, elements = page(client)
    assert "Google Calendar refreshes subscribed calendars only every several hours" in html
    assert "less than a day before a session may not reach Google users in time" in html
    (img,) = elements.find("img", src="/qr.svg")
    # The QR code subscribes (webcal://), and its caption says how.
    assert img["alt"] == "QR code that subscribes to webcal://localhost/calendar.ics"
    assert "Point an iPhone or iPad camera at this code" in html
    response = client.get("/qr.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.data == pages.qr_svg("webcal://localhost/calendar.ics")
    assert response.data != pages.qr_svg("http://localhost/calendar.ics")
    assert response.data.startswith(b"<svg") and b"<script" not in response.data


def dark_modules(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules drawn by segno's SVG path ("M4 4.5h7m2 0h1m-29 1h1..."), border 4."""
    path = re.search(rb'class="qrline"[^>]* d="([^"]+)"', svg)[1].decode()
    x = y = 0.0
    dark = set()
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark |= {(int(x) + i - 4, int(y - 4.5)) for i in range(int(a))}
            x += int(a)
    return dark


def test_qr_svg_draws_the_code_of_the_text():
    text = "https://meet.example.org/calendar.ics"
    matrix = segno.make(text, error="m").matrix
    expected = {(x, y) for y, row in enumerate(matrix) for x, bit in enumerate(row) if bit}
    assert dark_modules(pages.qr_svg(text)) == expected
    assert dark_modules(pages.qr_svg(text + "x")) != expected
    # A quiet zone of 4 modules on every side (ISO/IEC 18004).
    size = int(re.search(rb'width="(\d+)"', pages.qr_svg(text))[1])
    assert size == (len(matrix) + 8) * 4


def test_upcoming_sessions_cancelled_moved_agenda(client):
    html, elements = page(client)
    # Each heading holds its date, and links to the session's own page.
    assert (
        '<h3 class="topic"><a href="http://localhost/sessions/weekly/2026-03-03">'
        '<time datetime="2026-03-03T19:00:00Z" data-end="2026-03-03T20:00:00Z" '
        'data-zone="America/Los_Angeles" data-show="day">Tuesday 3 March 2026</time> '
        '<span class="status">Cancelled</span>: <span dir="auto">Conference week</span></a></h3>'
    ) in html
    assert "11:00–12:00 Pacific (UTC−8)</time>" in html  # before the DST change
    assert "11:00–12:00 Pacific (UTC−7)</time>" in html  # after it
    assert "Moved from its usual slot on Tuesday 10 March 2026." in html
    assert '<li><span dir="auto">Photon</span><ul class="agenda">' in html
    assert '<p class="note" dir="auto">US election day</p>' in html
    assert "<li>Platform Engineering Topic</li>" in html
    # Each session not cancelled has its own .ics and Google link; the cancelled one has none.
    assert elements.find("a", href="http://localhost/sessions/weekly/2026-03-17.ics")
    assert not elements.find("a", href="http://localhost/sessions/weekly/2026-03-03.ics")
    # Weeks without a topic are listed for the next six weeks, dated ones for a year.
    assert "Tuesday 31 March 2026" in html and "Tuesday 7 April 2026" in html
    assert "Tuesday 14 April 2026" not in html
    assert "LISA by Usenix" in html and "After the fall change" in html


def test_google_add_link_exact(client):
    _, elements = page(client)
    links = [a["href"] for a in elements.find("a") if "action=TEMPLATE" in a["href"]]
    assert links[1] == (
        "https://calendar.google.com/calendar/render?action=TEMPLATE"
        "&text=Community%20Meeting%3A%20Thin%20O/Ses%20%26%20Thin%20O/S%20Provisioning"
        "&dates=20260317T180000Z/20260317T190000Z"
        "&details=Thin%20O/Ses%20%26%20Thin%20O/S%20Provisioning%0A%0AAgenda%3A%0A-%20K3os"
        "%0A-%20Photon%0A%20%20-%20Sub%20item%20one%0A%20%20-%20Sub%20item%20two%0A-%20Flatcar"
        "%0A-%20Talos%0A%0ANote%3A%20US%20election%20day%0A%0AJoin%3A%20https%3A//zoom.example.org"
        "/j/123%3Fpwd%3Da%2Cb%3Bc"
        "&location=https%3A//zoom.example.org/j/123%3Fpwd%3Da%2Cb%3Bc"
    )
    all_day = [a for a in links if "LISA" in a]
    assert "&dates=20260601/20260604&" in all_day[0]  # all-day: exclusive end date


def session_item(html: str, key: str) -> str:
    """The page's list item of one session, e.g. key "weekly/2026-11-03"."""
    item = html[html.index(f'id="s-{key.replace("/", "-")}"') :]
    return item[: item.index("</li>")]


def test_session_details_speaker_then_links_in_declaration_order(make_app, small_schedule):
    path = small_schedule(
        None,
        (
            "      2026-11-03: After the fall change\n",
            "      2026-11-03:\n"
            "        topic: After the fall change\n"
            "        slides: https://example.org/slides\n"
            "        recording: https://example.org/rec\n"
            "        url: https://example.org/more\n"
            "        speaker: Ada <Lovelace>\n",
        ),
        ("{topic: One-day summit}", "{topic: One-day summit, recording: https://example.org/r}"),
    )
    html, _ = page(make_app(path).test_client())
    item = session_item(html, "weekly/2026-11-03")
    assert (
        '<p>Speaker: <span dir="auto">Ada &lt;Lovelace&gt;</span></p>\n'
        '  <p class="links"><a href="https://example.org/more">More information</a>'
        ' <a href="https://example.org/rec">Recording</a>'
        ' <a href="https://example.org/slides">Slides</a>\n  </p>'
    ) in item
    # Every link but the first declared one has a space before it, as it always had.
    assert '<p class="links"> <a href="https://example.org/r">Recording</a>\n  </p>' in (
        session_item(html, "conferences/2026-06-09")
    )
    assert "Speaker:" not in session_item(html, "weekly/2026-03-17")
    assert 'class="links"' not in session_item(html, "weekly/2026-03-17")


def test_every_declared_detail_is_shown_in_its_place():
    """A new detail in feed.schedule.SESSION_DETAILS reaches the page without other changes."""
    entry = type("Entry", (), {d.name: f"https://example.org/{d.name}" for d in SESSION_DETAILS})
    shown = views.details(entry)
    assert shown["texts"] == [
        (d.label, f"https://example.org/{d.name}") for d in SESSION_DETAILS if not d.link_text
    ]
    assert [text for text, _, _ in shown["links"]] == [
        d.link_text for d in SESSION_DETAILS if d.link_text
    ]
    assert views.details(None) == {"texts": [], "links": []}


def test_archive_by_year(client):
    html, elements = page(client)
    archive = html[html.index('id="archive"') :]
    assert '<summary>2026 <span class="muted">(1 session)</span></summary>' in archive
    assert "First topic, with a comma; and a semicolon \\ backslash" in archive
    assert "Add to calendar" not in archive


def test_page_texts_backlog_and_feeds(make_app, small_schedule):
    path = small_schedule(
        textwrap.dedent(
            """\
        calendar:
          name: Lunch
          description: A round table.
          timezone: America/Los_Angeles
          tags: {ops: Technical Ops Series}
        page:
          intro: All times in US Pacific.
          invite: Bring a demo.
          links:
            - {title: Podcast, url: https://example.org/podcast}
            - {title: Strategy}
          backlog:
            - GitOps
            - - Open GitOps Group
            - Chaos Engineering
        series:
          lunch:
            title: Lunch
            every: tuesday
            at: "11:00"
            starts: 2026-01-06
            join: https://zoom.example.org/j/1
            sessions:
              2026-03-03: {topic: Tagged, tags: [ops]}
          events:
            title: Events of Interest
            sessions:
              2026-03-20: Conference
        """
        )
    )
    html, elements = page(make_app(path).test_client())
    assert '<p dir="auto">All times in US Pacific.</p>' in html
    assert '<p dir="auto">Bring a demo.</p>' in html
    assert '<a href="https://example.org/podcast">Podcast</a>' in html
    # Without an address it is plain text, not something that looks like a link.
    assert '<li><span class="plain" dir="auto">Strategy</span></li>' in html
    backlog = html[html.index('id="backlog"') : html.index('id="present"')]
    assert '<li><span dir="auto">GitOps</span><ul class="agenda">' in backlog
    assert "Open GitOps Group" in backlog and "Chaos Engineering" in backlog
    hrefs = {a["href"] for a in elements.find("a")}
    assert {
        "http://localhost/calendar.ics",
        "http://localhost/series/lunch.ics",
        "http://localhost/series/events.ics",
        "http://localhost/tags/ops.ics",
        "http://localhost/with-cancelled/calendar.ics",
        "http://localhost/with-cancelled/series/lunch.ics",
        "http://localhost/with-cancelled/tags/ops.ics",
        "http://localhost/expanded/calendar.ics",
        "http://localhost/sessions.json",
        "http://localhost/next.ics",
        "http://localhost/next.json",
    } <= hrefs
    assert "Technical Ops Series sessions" in html
    assert '<span class="series">Events of Interest</span>' in html
    assert "&lt;iframe src=&#34;http://localhost/embed?limit=5&#34;" in html


def test_every_asset_is_local_and_no_inline_code(client):
    _, elements = page(client)
    scripts = elements.find("script")
    assert scripts == [{"src": "/static/site.js", "defer": None}]
    for tag, attrs in elements.tags:
        assert "style" not in attrs, tag
        assert not any(name.startswith("on") for name in attrs), tag
        if tag in ("script", "img") or (tag == "link" and attrs["rel"] != "alternate"):
            url = attrs.get("src") or attrs.get("href")
            assert url.startswith("/"), url
    assert not elements.find("style")
    for asset in ("/static/site.js", "/static/site.css", "/static/icon.svg"):
        with client.get(asset) as response:
            assert response.status_code == 200


def test_landmarks_and_headings(client):
    html, elements = page(client)
    for landmark in ("header", "nav", "main", "footer"):
        assert elements.find(landmark), landmark
    assert elements.find("html", lang="en")
    assert len(elements.find("h1")) == 1
    assert elements.find("meta", name="viewport")
    assert elements.find("a", href="#main")


HOSTILE = """\
calendar:
  name: Hostile Meeting
  timezone: America/Los_Angeles
page:
  intro: "<script>alert('intro')</script>"
  backlog: ['"><svg onload=alert(1)>']
series:
  weekly:
    title: Weekly "quoted" & <b>bold</b>
    every: tuesday
    at: "11:00"
    starts: 2026-01-06
    join: https://zoom.example.org/j/1?a="x"&b=<y>
    sessions:
      2026-03-03:
        topic: "<img src=x onerror=alert(1)>"
        agenda: ["</ul><script>alert(2)</script>", "מפגש שבועי 🎉"]
        notes: ["' onmouseover='alert(3)"]
      2026-03-10: {cancelled: "<i>reason</i>"}
"""


def test_schedule_text_is_escaped(make_app, small_schedule):
    client = make_app(small_schedule(HOSTILE)).test_client()
    html, elements = page(client)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;intro&#39;)&lt;/script&gt;" in html
    assert "&lt;/ul&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html
    assert "&#39; onmouseover=&#39;alert(3)" in html
    assert "&lt;i&gt;reason&lt;/i&gt;" in html
    assert "Weekly &#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "מפגש שבועי 🎉" in html
    assert not elements.find("img", src="x")
    assert not elements.find("svg") and not elements.find("b") and not elements.find("i")
    assert elements.find("script") == [{"src": "/static/site.js", "defer": None}]
    (join,) = elements.find("a", **{"class": "button primary"})
    # An attribute, intact: as written, or as the schedule reader normalizes the link.
    assert join["href"] in (
        'https://zoom.example.org/j/1?a="x"&b=<y>',
        "https://zoom.example.org/j/1?a=%22x%22&b=%3Cy%3E",
    )
    embed = client.get("/embed").data.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in embed and "<img" not in embed


# -- caching ---------------------------------------------------------------------------------------


def test_page_renders_once_per_day(app, client, monkeypatch):
    calls = []
    real = pages.render_template

    def counting(name, **context):
        calls.append(name)
        return real(name, **context)

    monkeypatch.setattr(pages, "render_template", counting)
    first = client.get("/")
    client.get("/")
    assert calls == ["index.html"]
    app.config["NOW"] = "2026-03-02T07:59:00Z"  # still Sunday 1 March in Los Angeles
    assert client.get("/").data == first.data
    assert len(calls) == 1
    app.config["NOW"] = "2026-03-02T08:00:00Z"  # Monday in Los Angeles
    client.get("/")
    assert len(calls) == 2
    app.config["NOW"] = "2026-03-03T18:44:00Z"  # Tuesday: a new day
    client.get("/")
    assert len(calls) == 3
    app.config["NOW"] = "2026-03-03T19:30:00Z"  # the cancelled week: no Join, nothing changes
    client.get("/")
    assert len(calls) == 3
    app.config["NOW"] = "2026-03-03T20:00:00Z"  # ... until it would have ended
    client.get("/")
    assert len(calls) == 4


def test_page_last_modified_moves_with_the_date(app, client):
    app.config["NOW"] = "2030-01-01T12:00:00Z"
    response = client.get("/")
    assert response.headers["Last-Modified"] == "Tue, 01 Jan 2030 08:00:00 GMT"
    etag = response.headers["ETag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304


# -- the widget ------------------------------------------------------------------------------------


def test_embed_may_be_framed_by_anyone(client):
    response = client.get("/embed")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Content-Security-Policy"] == CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    )
    html = response.data.decode()
    elements = Elements(html)
    assert elements.find("script") == [{"src": "/static/site.js", "defer": None}]
    assert len(elements.find("li")) == 5
    assert 'Cancelled</span>: <span dir="auto">Conference week</span>' in html
    assert "Moved to Wednesday afternoon" in html
    assert ">Tue 3 Mar 11:00–12:00 Pacific (UTC−8)</time>" in html
    (link,) = elements.find("a", href="http://localhost/#subscribe")
    assert link["target"] == "_blank" and link["rel"] == "noopener"


@pytest.mark.parametrize("path", ["/", "/sessions.json", "/calendar.ics", "/next", "/qr.svg"])
def test_other_routes_forbid_framing(client, path):
    assert client.get(path).headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("limit", "count"), [("1", 1), ("3", 3), ("20", 20)])
def test_embed_limit(client, limit, count):
    _, elements = page(client, f"/embed?limit={limit}")
    assert len(elements.find("li")) == count


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_embed_theme(client, theme):
    html, elements = page(client, f"/embed?theme={theme}")
    assert elements.find("html", lang="en", **{"class": f"theme-{theme}"})
    scheme = "light dark" if theme == "auto" else theme
    assert elements.find("meta", name="color-scheme", content=scheme)


def test_embed_bad_theme(client):
    response = client.get("/embed?theme=blue")
    assert response.status_code == 400
    assert response.data.decode() == (
        "400 Bad Request: theme='blue' is not valid; use theme=light, theme=dark or theme=auto.\n"
    )


def test_embed_shows_the_year_when_it_is_not_this_year(make_app, schedule_file):
    client = make_app(schedule_file, NOW="2026-12-20T12:00:00Z").test_client()
    html = client.get("/embed?limit=3").data.decode()
    assert ">Tue 22 Dec 11:00–12:00 Pacific (UTC−8)</time>" in html
    assert ">Tue 5 Jan 2027 11:00–12:00 Pacific (UTC−8)</time>" in html


@pytest.mark.parametrize("limit", ["0", "21", "x", "", "2.5"])
def test_embed_bad_limit(client, limit):
    response = client.get(f"/embed?limit={limit}")
    assert response.status_code == 400
    assert response.data.decode() == (
        f"400 Bad Request: limit={limit!r} is not valid; use a whole number from 1 to 20.\n"
    )


# -- one session's file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "uid", "start", "summary"),
    [
        (
            "/sessions/weekly/2026-03-10.ics",
            "weekly-20260310@example.org",
            "2026-03-11T14:00:00-07:00",
            "Community Meeting: Moved to Wednesday afternoon",
        ),
        (
            "/sessions/weekly/2026-04-07.ics",
            "weekly-20260407@example.org",
            "2026-04-07T11:00:00-07:00",
            "Community Meeting",
        ),
        (
            "/sessions/weekly/2026-03-03.ics",
            "weekly-20260303@example.org",
            "2026-03-03T11:00:00-08:00",
            "Cancelled: Community Meeting (Conference week)",
        ),
        (
            "/sessions/conferences/2026-06-01.ics",
            "conferences-20260601@example.org",
            "2026-06-01",
            "LISA by Usenix",
        ),
    ],
)
def test_session_ics(client, path, uid, start, summary):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    name = path.split("/")[2] + "-" + path.rsplit("/", 1)[1]
    assert response.headers["Content-Disposition"] == f'inline; filename="{name}"'
    (event,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert (str(event["UID"]), event["DTSTART"].dt.isoformat(), str(event["SUMMARY"])) == (
        uid,
        start,
        summary,
    )


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (
            "/sessions/weekly/2026-03-11.ics",
            404,
            "No session of weekly on 2026-03-11. Sessions are named by the date of their "
            "regular slot; see /sessions.json for the list.",
        ),
        (
            "/sessions/weekly/2025-12-30.ics",
            404,
            "No session of weekly on 2025-12-30. Sessions are named by the date of their "
            "regular slot; see /sessions.json for the list.",
        ),
        (
            "/sessions/conferences/2026-06-02.ics",
            404,
            "No session of conferences on 2026-06-02. Sessions are named by the date of their "
            "regular slot; see /sessions.json for the list.",
        ),
        (
            "/sessions/nope/2026-03-10.ics",
            404,
            "No series 'nope'. Known series: weekly, conferences.",
        ),
        (
            "/sessions/weekly/2026-3-10.ics",
            400,
            "date='2026-3-10' is not a date; use date=YYYY-MM-DD, e.g. 2026-03-10.",
        ),
        (
            "/sessions/weekly/2026-02-30.ics",
            400,
            "date='2026-02-30' is not a valid date; check the month and day.",
        ),
    ],
)
def test_session_ics_errors(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    name = "Not Found" if status == 404 else "Bad Request"
    assert response.data.decode() == f"{status} {name}: {message}\n"


# -- /join -----------------------------------------------------------------------------------------


def test_join_redirects_to_the_next_session(app, client):
    response = client.get("/join")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://zoom.example.org/j/123?pwd=a,b;c"
    assert response.headers["Cache-Control"] == "no-store"
    # LISA (all day, no join link) is next on 2026-05-26 at noon: /join skips it.
    app.config["NOW"] = "2026-05-26T19:00:00Z"
    assert client.get("/next").get_json()["key"] == "conferences/2026-06-01"
    assert client.get("/join").headers["Location"] == "https://zoom.example.org/j/123?pwd=a,b;c"


def test_join_uses_the_session_own_link(make_app, small_schedule):
    path = small_schedule(
        textwrap.dedent(
            """\
        calendar: {name: Lunch, timezone: America/Los_Angeles}
        series:
          lunch:
            title: Lunch
            every: tuesday
            at: "11:00"
            starts: 2026-01-06
            join: https://zoom.example.org/j/usual
            sessions:
              2026-03-03: {cancelled: Holiday}
              2026-03-10: {topic: Guest room, join: https://zoom.example.org/j/guest}
        """
        )
    )
    response = make_app(path).test_client().get("/join")
    assert response.headers["Location"] == "https://zoom.example.org/j/guest"


def test_join_404_without_a_join_link(make_app, small_schedule):
    path = small_schedule(
        textwrap.dedent(
            """\
        calendar: {name: Lunch, timezone: America/Los_Angeles}
        series:
          lunch: {title: Lunch, every: tuesday, at: "11:00", starts: 2026-01-06}
        """
        )
    )
    response = make_app(path).test_client().get("/join")
    assert response.status_code == 404
    assert response.data == (
        b"404 Not Found: No upcoming session with a join link in the next 366 days.\n"
    )
