"""The public address: calendar.url or FEED_PUBLIC_URL is the only source of absolute links,
with its path kept everywhere; without it only loopback requests get links to where they
went, and no Host header is ever reflected (nor fills the cache)."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser

import pytest
from werkzeug.test import EnvironBuilder

from feed import pages, web
from feed.links import FeedVariant, Site

PUBLIC = "https://meet.example.org/meetings"
HOSTILE_HOSTS = [
    "evil.example",
    "evil.example:443",
    "xn--",  # IDNA-invalid
    "xn--a.example",
    "a b",
    '"quoted"',
    "",
    "[::1",
    "localhost.evil.example",
    "127.0.0.1.evil.example",
    "x" * 3000,  # long enough to overflow a QR code
]


class Links(HTMLParser):
    """Every href and src of a page, and every address written in its text."""

    def __init__(self, html: str):
        super().__init__()
        self.urls: list[str] = []
        self.feed(html)
        self.urls += re.findall(r"(?:https?|webcal)://[^\s\"'<>&]+", html)

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src", "data-sessions") and v]


@pytest.fixture
def public_client(make_app, small_schedule):
    """The app with calendar.url under a path."""
    path = small_schedule(None, ("  domain: example.org\n", f"  url: {PUBLIC}/\n"))
    return make_app(path).test_client()


def own_links(urls: list[str]) -> list[str]:
    """The site's own links, without the other sites the page names (Zoom, Google ...)."""
    return [
        u
        for u in urls
        if not re.match(r"https://(zoom|calendar\.google|outlook|example\.org|www\.)", u)
        and not u.startswith(("#", "https://cdn.jsdelivr.net/"))
    ]


@pytest.mark.parametrize("path", ["/", "/embed", "/join.html"])
def test_every_link_of_the_pages_keeps_the_path(public_client, path):
    html = public_client.get(path, headers={"Host": "evil.example"}).data.decode()
    links = own_links(Links(html).urls)
    assert links
    for url in links:
        assert url.startswith(
            (PUBLIC + "/", "/meetings/", "webcal://meet.example.org/meetings/")
        ), url
    assert "evil.example" not in html


def test_json_links_keep_the_path(public_client):
    for path in ("/sessions.json", "/next.json"):
        text = public_client.get(path, headers={"Host": "evil.example"}).data.decode()
        urls = re.findall(r'"(https?://[^"]+)"', text)
        own = own_links(urls)
        assert own, path
        assert all(u.startswith(PUBLIC + "/") for u in own), (path, own)
    data = json.loads(public_client.get("/sessions.json").data)
    assert data["calendar"]["feed"] == PUBLIC + "/calendar.ics"
    assert data["calendar"]["page"] == PUBLIC + "/"
    assert data["sessions"][0]["ics"].startswith(PUBLIC + "/sessions/")


def test_subscribe_links_qr_and_snippets_use_the_public_address(public_client):
    html = public_client.get("/", headers={"Host": "evil.example"}).data.decode()
    assert 'href="webcal://meet.example.org/meetings/calendar.ics"' in html
    assert f'value="{PUBLIC}/calendar.ics"' in html
    assert f"{PUBLIC}/join</a> always leads" in html
    assert f"src=&#34;{PUBLIC}/embed?limit=5&#34;" in html
    assert f"url: &#34;{PUBLIC}/expanded/calendar.ics&#34;" in html
    assert 'src="/meetings/static/site.js"' in html and 'src="/meetings/qr.svg"' in html
    qr = public_client.get("/qr.svg", headers={"Host": "evil.example"})
    assert qr.data == pages.qr_svg(PUBLIC.replace("https://", "webcal://", 1) + "/calendar.ics")


def test_feed_public_url_overrides_calendar_url(make_app, small_schedule):
    path = small_schedule(None, ("  domain: example.org\n", "  url: https://old.example.org\n"))
    client = make_app(path, PUBLIC_URL="https://new.example.org/x/").test_client()
    html = client.get("/").data.decode()
    assert 'value="https://new.example.org/x/calendar.ics"' in html
    assert "old.example.org" not in html


@pytest.mark.parametrize(
    "value",
    [
        "http://meet.example.org",
        "meet.example.org",
        "https://",
        "https://meet.example.org/?a=1",
        "https://meet.example.org/#x",
        "https://user:pw@meet.example.org",
        "https://meet.example.org/a b",
        "https://meet.example.org:99999",
        'https://meet.example.org/"x',
    ],
)
def test_a_bad_feed_public_url_stops_the_app_at_start(make_app, schedule_file, value):
    with pytest.raises(ValueError, match="FEED_PUBLIC_URL: "):
        make_app(schedule_file, PUBLIC_URL=value)


def test_public_urls_are_normalized():
    assert web.normal_public_url("https://Meet.Example.org/a/b/") == "https://meet.example.org/a/b"
    assert web.normal_public_url("https://meet.example.org") == "https://meet.example.org"
    assert web.normal_public_url(" https://h.example:8443/x ") == "https://h.example:8443/x"


# -- without a public address ----------------------------------------------------------------------


def test_loopback_requests_get_links_to_where_they_went(client):
    for host in ("localhost", "127.0.0.1:5000", "[::1]:8000"):
        html = client.get("/", headers={"Host": host}).data.decode()
        assert f'value="http://{host}/calendar.ics"' in html, host


def wsgi_get(app, path: str, host: str, remote: str = "127.0.0.1") -> tuple[int, bytes]:
    """A GET straight through the WSGI app: the test client itself cannot send every Host."""
    environ = EnvironBuilder(path=path).get_environ()
    environ.update(HTTP_HOST=host, REMOTE_ADDR=remote)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc=None: status.append(s)))
    return int(status[0].split()[0]), body


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
@pytest.mark.parametrize("path", ["/", "/embed", "/sessions.json", "/next.json", "/join.html"])
def test_other_hosts_are_never_reflected(app, host, path):
    status, body = wsgi_get(app, path, host)
    # Werkzeug refuses a host name it cannot decode (e.g. a label over 63 characters): 400.
    assert status == 200 or (status == 400 and len(host) > 63), (status, body[:300])
    if host:
        assert host.encode() not in body


@pytest.mark.parametrize("host", [h for h in HOSTILE_HOSTS if len(h) < 64])
def test_without_an_address_other_hosts_get_relative_links_and_no_buttons(app, host):
    html = wsgi_get(app, "/", host)[1].decode()
    assert 'id="no-public-address"' in html
    assert "subscribe-webcal" not in html and "qr.svg" not in html
    assert 'href="/calendar.ics"' in html and 'href="/tags/platform-engineering.ics"' in html
    assert wsgi_get(app, "/qr.svg", host)[0] == 404
    data = json.loads(wsgi_get(app, "/sessions.json", host)[1])
    assert data["calendar"]["feed"] == "/calendar.ics"
    assert data["sessions"][0]["ics"].startswith("/sessions/")


def test_a_request_from_elsewhere_with_a_loopback_host_is_not_trusted(client):
    response = client.get(
        "/", headers={"Host": "localhost"}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert 'id="no-public-address"' in response.data.decode()


def test_new_hosts_do_not_fill_the_cache(app, client, monkeypatch):
    calls = []
    real = pages.render_template

    def counting(name, **context):
        calls.append(name)
        return real(name, **context)

    monkeypatch.setattr(pages, "render_template", counting)
    for n in range(20):
        for path in ("/", "/embed"):
            assert client.get(path, headers={"Host": f"h{n}.example"}).status_code == 200
    assert calls == ["index.html", "embed.html"]


def test_the_start_up_log_and_health_say_the_address_is_not_set(make_app, schedule_file, caplog):
    with caplog.at_level(logging.WARNING, logger="feed"):
        app = make_app(schedule_file)
    assert any("the public address is not set" in r.getMessage() for r in caplog.records)
    with app.test_request_context():
        health = web.public_address_health(app.extensions["feed.publisher"].current())
    assert health["public_url"] is None
    assert health["public_url_problem"].startswith("the public address is not set")
    assert "FEED_PUBLIC_URL" in health["public_url_problem"]


def test_health_names_the_address_when_it_is_set(make_app, schedule_file, caplog):
    with caplog.at_level(logging.WARNING, logger="feed"):
        app = make_app(schedule_file, PUBLIC_URL=PUBLIC)
    assert not [r for r in caplog.records if "public address" in r.getMessage()]
    with app.test_request_context():
        health = web.public_address_health(app.extensions["feed.publisher"].current())
    assert health == {"public_url": PUBLIC}


def test_public_url_problem_for_check():
    assert web.public_url_problem(None, None) == web.PUBLIC_URL_UNSET
    assert web.public_url_problem(None, PUBLIC) is None
    problem = web.public_url_problem(None, "http://x.example")
    assert problem.startswith("FEED_PUBLIC_URL: 'http://x.example' is not an https address")


# -- feed variants by path -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/tags/platform-engineering.ics", "/calendar.ics?tag=platform-engineering"),
        ("/with-cancelled/calendar.ics", "/calendar.ics?cancelled=show"),
        ("/with-cancelled/series/weekly.ics", "/series/weekly.ics?cancelled=show"),
        ("/expanded/calendar.ics", "/calendar.ics?expand=utc"),
        ("/expanded/series/conferences.ics", "/series/conferences.ics?expand=utc"),
        (
            "/expanded/with-cancelled/tags/platform-engineering.ics",
            "/calendar.ics?tag=platform-engineering&cancelled=show&expand=utc",
        ),
        ("/alarm-15m/calendar.ics", "/calendar.ics?alarm=15m"),
        ("/alarm-1d/series/weekly.ics", "/series/weekly.ics?alarm=1d"),
        (
            "/alarm-30m/expanded/with-cancelled/tags/platform-engineering.ics",
            "/calendar.ics?tag=platform-engineering&cancelled=show&expand=utc&alarm=30m",
        ),
    ],
)
def test_feed_variants_by_path_are_the_query_forms(client, path, query):
    by_path, by_query = client.get(path), client.get(query)
    assert by_path.status_code == by_query.status_code == 200
    assert by_path.data == by_query.data
    assert by_path.headers["ETag"] == by_query.headers["ETag"]
    assert by_path.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert FeedVariant.from_path(path).path == path


@pytest.mark.parametrize(
    "path",
    [
        "/tags/nope.ics",
        "/with-cancelled/series/nope.ics",
        "/expanded/other.ics",
        "/expanded/series/a/b.ics",
        "/with-cancelled/expanded/calendar.ics",
        "/expanded/alarm-15m/calendar.ics",
        "/alarm-15m/alarm-15m/calendar.ics",
    ],
)
def test_unknown_feed_variants_are_404(client, path):
    assert client.get(path).status_code == 404


def test_site_links():
    site = Site("https://o.github.io/repo", static=True)
    assert site.root == "/repo"
    assert site.local("/static/site.css") == "/repo/static/site.css"
    assert site.embed() == "https://o.github.io/repo/embed.html?limit=5"
    assert site.join() == "https://o.github.io/repo/join.html"
    assert site.feed(FeedVariant(tag="x", cancelled=True, expanded=True)) == (
        "https://o.github.io/repo/expanded/with-cancelled/tags/x.ics"
    )
    relative = Site("")
    assert not relative.absolute and relative.local("/qr.svg") == "/qr.svg"
