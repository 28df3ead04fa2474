"""HTTP semantics for clients that poll forever: validators, 304s, gzip, caching and CORS.

See docs/clients.md (R20-R27) for the evidence behind each rule. Most tests use Flask's
test client; the last few repeat the essentials through the real app server (tests/servers.py).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import http.client
import os
import shutil
import urllib.robotparser
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import icalendar
import pytest

from feed import create_app, ical, publish
from servers import app_server

SCHEDULES = Path(__file__).parent / "schedules"
FEEDS = {
    "/calendar.ics": "calendar.ics",
    "/series/weekly.ics": "weekly.ics",
    "/series/conferences.ics": "conferences.ics",
    "/calendar.ics?cancelled=show": "calendar.ics",
    "/series/weekly.ics?cancelled=show": "weekly.ics",
}
# Data URLs served through the same send(): validators and CORS apply to them too.
VALIDATED = [*FEEDS, "/sessions.json"]
T0 = 1_700_000_000  # a fixed mtime for the schedule, so Last-Modified is predictable


def etag_of(body: bytes, suffix: str = "") -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + suffix + '"'


def http_date(seconds: float) -> str:
    return format_datetime(dt.datetime.fromtimestamp(seconds, dt.UTC), usegmt=True)


@pytest.fixture
def dated_app(make_app, schedule_file):
    """An app whose schedule file was last edited at T0 (no stamps file yet)."""
    os.utime(schedule_file, (T0, T0))
    return make_app(schedule_file)


@pytest.mark.parametrize("url", FEEDS)
def test_a_feed_carries_every_header_a_subscriber_needs(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"] == etag_of(response.data)
    assert response.headers["Cache-Control"] == (
        "public, max-age=3600, stale-while-revalidate=86400"
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["Content-Disposition"] == f'inline; filename="{FEEDS[url]}"'
    assert response.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in response.headers
    assert parsedate_to_datetime(response.headers["Last-Modified"]).tzinfo is not None
    assert response.data.rstrip().endswith(b"END:VCALENDAR")


@pytest.mark.parametrize("url", VALIDATED)
def test_two_gets_give_the_same_etag_and_a_matching_if_none_match_is_a_bodiless_304(client, url):
    first, second = client.get(url), client.get(url)
    assert first.headers["ETag"] == second.headers["ETag"] == etag_of(first.data)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    for header in (etag, "W/" + etag, f'"other", {etag}', "*", etag[:-1] + '-gz"'):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.data == b""
        assert response.headers["ETag"] == etag
        assert "Content-Type" not in response.headers
        assert response.headers["Cache-Control"].startswith("public, max-age=")
    stale = client.get(url, headers={"If-None-Match": '"0123456789abcdef"'})
    assert stale.status_code == 200
    assert stale.data == first.data


@pytest.mark.parametrize("url", VALIDATED)
def test_if_modified_since_is_a_304_only_when_nothing_changed_since(client, url):
    last_modified = client.get(url).headers["Last-Modified"]
    when = parsedate_to_datetime(last_modified)
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    later = http_date(when.timestamp() + 3600)
    assert client.get(url, headers={"If-Modified-Since": later}).status_code == 304
    earlier = http_date(when.timestamp() - 1)
    response = client.get(url, headers={"If-Modified-Since": earlier})
    assert response.status_code == 200 and response.data


@pytest.mark.parametrize(
    "value", ["garbage", "", "Tue, 32 Foo 2024 99:00:00 GMT", "1700000000", "yesterday"]
)
def test_a_malformed_if_modified_since_is_ignored(client, value):
    response = client.get("/calendar.ics", headers={"If-Modified-Since": value})
    assert response.status_code == 200
    assert b"BEGIN:VCALENDAR" in response.data


def test_if_none_match_wins_over_if_modified_since(client):
    """RFC 9110 §13.2.2: a changed ETag means new content, whatever the date says."""
    current = client.get("/calendar.ics")
    response = client.get(
        "/calendar.ics",
        headers={
            "If-None-Match": '"an-old-version"',
            "If-Modified-Since": current.headers["Last-Modified"],
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize("url", VALIDATED)
def test_head_has_the_get_headers_and_no_body(client, url):
    get, head = client.get(url), client.head(url)
    assert head.status_code == 200
    assert head.data == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length", "Cache-Control"):
        assert head.headers[name] == get.headers[name], name
    assert int(head.headers["Content-Length"]) == len(get.data)


@pytest.mark.parametrize("url", VALIDATED)
def test_gzip_only_when_the_client_asks_for_it(client, url):
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] == etag_of(plain.data, "-gz")
    assert zipped.headers["Last-Modified"] == plain.headers["Last-Modified"]
    assert int(zipped.headers["Content-Length"]) == len(zipped.data)


@pytest.mark.parametrize(
    "accept_encoding", ["", "identity", "br", "deflate", "gzip;q=0", "*", "br, *;q=0.5"]
)
def test_no_gzip_without_an_explicit_gzip(client, accept_encoding):
    """A wildcard is not consent: some calendar clients fail on compressed feeds (R22)."""
    response = client.get("/calendar.ics", headers={"Accept-Encoding": accept_encoding})
    assert "Content-Encoding" not in response.headers
    assert response.headers["ETag"] == etag_of(response.data)


def test_feed_gzip_0_turns_compression_off(monkeypatch, schedule_file):
    monkeypatch.setenv("FEED_GZIP", "0")
    monkeypatch.setenv("FEED_SCHEDULE", str(schedule_file))
    response = create_app().test_client().get("/calendar.ics", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert "Vary" not in response.headers
    assert response.headers["ETag"] == etag_of(response.data)


def test_feed_max_age_sets_cache_control(monkeypatch, schedule_file):
    monkeypatch.setenv("FEED_MAX_AGE", "600")
    monkeypatch.setenv("FEED_STALE_WHILE_REVALIDATE", "60")
    monkeypatch.setenv("FEED_SCHEDULE", str(schedule_file))
    client = create_app().test_client()
    for url in ("/calendar.ics", "/series/weekly.ics"):
        cache_control = client.get(url).headers["Cache-Control"]
        assert cache_control == "public, max-age=600, stale-while-revalidate=60"


@pytest.mark.parametrize("accept", [None, "text/html", "application/json", "*/*"])
def test_no_content_negotiation_an_unknown_bot_gets_the_feed(client, accept):
    """Google's fetcher sends no Accept header and its own User-Agent (R21)."""
    headers = {"User-Agent": "Google-Calendar-Importer"}
    if accept:
        headers["Accept"] = accept
    response = client.get("/calendar.ics", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert "Set-Cookie" not in response.headers


def test_robots_txt_allows_the_feeds(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(response.get_data(as_text=True).splitlines())
    for agent in ("Google-Calendar-Importer", "Googlebot", "Microsoft Office", "*"):
        for url in FEEDS:
            assert robots.can_fetch(agent, "https://example.org" + url), (agent, url)


@pytest.mark.parametrize(
    ("url", "series"),
    [("/series/nope.ics", "nope"), ("/series/WEEKLY.ics", "WEEKLY"), ("/series/%00.ics", "\x00")],
)
def test_an_unknown_series_is_a_plain_404_naming_the_known_ones(client, url, series):
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == (
        f"404 Not Found: No series {series!r}. Known series: weekly, conferences.\n"
    )


CANCELLED = "is not valid; use cancelled=show or cancelled=hide."


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("cancelled=maybe", f"cancelled='maybe' {CANCELLED}"),
        ("cancelled=", f"cancelled='' {CANCELLED}"),
        ("cancelled=%ff%fe", f"cancelled='%FF%FE' {CANCELLED}"),
        ("cancelled=SHOW", f"cancelled='SHOW' {CANCELLED}"),
        ("cancelled=x&cancelled=show", f"cancelled='x' {CANCELLED}"),
        ("tag=nope", "tag='nope' is not a known tag; known tags: platform-engineering."),
        ("expand=local", "expand='local' is not valid; use expand=utc."),
    ],
)
def test_bad_query_values_are_a_plain_400_naming_the_valid_ones(client, query, message):
    for path in ("/calendar.ics", "/series/weekly.ics"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True) == f"400 Bad Request: {message}\n"


@pytest.mark.parametrize(
    "url",
    [
        "/series/..%2f..%2fetc%2fpasswd.ics",
        "/series/" + "a" * 5000 + ".ics",
        "/series/%ff.ics",
        "/calendar.ics?%ff=%00",
        "/calendar.ics?cancelled=show&unknown=1",
        "/series/.ics",
        "/calendar.ics/",
    ],
)
@pytest.mark.parametrize("headers", [{}, {"If-Modified-Since": "\x00"}, {"If-None-Match": ","}])
def test_odd_requests_are_never_a_500(client, url, headers):
    assert client.get(url, headers=headers).status_code < 500


def test_the_cached_path_renders_parses_hashes_and_compresses_nothing(client, monkeypatch):
    """Each request is a lookup of stored bytes: count the expensive calls over 50 requests."""
    client.get("/calendar.ics")  # the first request may build what the version lacks
    client.get("/calendar.ics?cancelled=show")
    calls = []

    def spy(name, real):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(ical, "render", spy("render", ical.render))
    monkeypatch.setattr(publish, "check", spy("check", publish.check))
    monkeypatch.setattr(publish.hashlib, "sha256", spy("sha256", hashlib.sha256))
    monkeypatch.setattr(publish.gzip, "compress", spy("gzip", gzip.compress))
    for i in range(50):
        headers = {"Accept-Encoding": "gzip"} if i % 2 else {}
        assert client.get("/calendar.ics", headers=headers).status_code == 200
        assert client.get("/calendar.ics?cancelled=show").status_code == 200
    assert calls == []


def test_touching_or_rewriting_identical_bytes_changes_nothing(dated_app, schedule_file):
    client = dated_app.test_client()
    before = client.get("/calendar.ics")
    assert before.headers["Last-Modified"] == http_date(T0)
    schedule_file.write_bytes(schedule_file.read_bytes())  # same bytes, new mtime
    os.utime(schedule_file, (T0 + 5000, T0 + 5000))
    after = client.get("/calendar.ics")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Last-Modified"] == http_date(T0)
    revalidation = {"If-Modified-Since": before.headers["Last-Modified"]}
    assert client.get("/calendar.ics", headers=revalidation).status_code == 304


def test_a_comment_only_edit_keeps_etag_and_last_modified(dated_app, schedule_file):
    client = dated_app.test_client()
    before = {url: client.get(url) for url in FEEDS}
    schedule_file.write_text("# only a comment changed\n" + schedule_file.read_text())
    os.utime(schedule_file, (T0 + 5000, T0 + 5000))
    for url, old in before.items():
        new = client.get(url)
        assert new.data == old.data, url
        assert new.headers["ETag"] == old.headers["ETag"], url
        assert new.headers["Last-Modified"] == http_date(T0), url
    assert (
        dated_app.extensions["feed.publisher"].version.source_digest
        == hashlib.sha256(schedule_file.read_bytes()).hexdigest()
    ), "the edited file was not reloaded, so this test proved nothing"


def test_a_real_edit_moves_etag_and_last_modified_of_the_feeds_it_touches(dated_app, schedule_file):
    client = dated_app.test_client()
    before = {url: client.get(url) for url in FEEDS}
    schedule_file.write_text(
        schedule_file.read_text().replace("After the fall change", "After the clocks change")
    )
    os.utime(schedule_file, (T0 + 5000, T0 + 5000))
    for url in ("/calendar.ics", "/series/weekly.ics"):
        new = client.get(url)
        assert new.headers["ETag"] != before[url].headers["ETag"]
        assert new.headers["Last-Modified"] == http_date(T0 + 5000)
        stale = {"If-Modified-Since": before[url].headers["Last-Modified"]}
        assert client.get(url, headers=stale).status_code == 200
        old_tag = {"If-None-Match": before[url].headers["ETag"]}
        assert client.get(url, headers=old_tag).status_code == 200
    untouched = client.get("/series/conferences.ics")
    assert untouched.headers["ETag"] == before["/series/conferences.ics"].headers["ETag"]
    assert untouched.headers["Last-Modified"] == http_date(T0)


@pytest.mark.parametrize(
    "removed",
    ["      2026-11-03: After the fall change\n", "      2026-06-09: {topic: One-day summit}\n"],
    ids=["an-override", "a-one-off"],
)
def test_deleting_an_event_moves_last_modified(dated_app, schedule_file, removed):
    """Regression: Last-Modified came from the events still present, so a deleted event
    changed the bytes but not the date, and If-Modified-Since clients (Apple) kept it."""
    client = dated_app.test_client()
    before = client.get("/calendar.ics")
    text = schedule_file.read_text()
    assert removed in text
    schedule_file.write_text(text.replace(removed, ""))
    os.utime(schedule_file, (T0 + 5000, T0 + 5000))
    after = client.get("/calendar.ics")
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = {"If-Modified-Since": before.headers["Last-Modified"]}
    assert client.get("/calendar.ics", headers=stale).status_code == 200


def test_last_modified_survives_a_restart_and_is_not_the_process_start(
    dated_app, make_app, schedule_file
):
    first = dated_app.test_client().get("/calendar.ics")
    restarted = make_app(schedule_file)
    second = restarted.test_client().get("/calendar.ics")
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"] == http_date(T0)
    assert second.headers["ETag"] == first.headers["ETag"]


# Through the real app server: what a proxy or client sees on the wire.


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    shutil.copy(SCHEDULES / "small.yaml", folder / "schedule.yaml")
    with app_server(folder / "schedule.yaml", workers=2, threads=2) as base:
        yield base.removeprefix("http://")


def fetch(host: str, method: str, url: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection(host, timeout=10)
    try:
        connection.request(method, url, headers=headers or {})
        response = connection.getresponse()
        # Header names are case-insensitive (HTTP/2-style servers send them in lower case).
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def test_the_server_serves_one_etag_from_every_worker_and_304s_without_body(server):
    seen = set()
    for _ in range(12):  # new connections, so both workers answer
        status, headers, body = fetch(server, "GET", "/calendar.ics")
        assert status == 200
        assert headers["etag"] == etag_of(body)
        seen.add((headers["etag"], headers["last-modified"]))
    assert len(seen) == 1
    etag, last_modified = seen.pop()
    status, headers, body = fetch(server, "GET", "/calendar.ics", {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["etag"] == etag
    status, _, body = fetch(server, "GET", "/calendar.ics", {"If-Modified-Since": last_modified})
    assert (status, body) == (304, b"")


def test_the_server_head_gzip_and_an_unknown_bot(server):
    status, headers, body = fetch(server, "HEAD", "/series/weekly.ics")
    assert status == 200 and body == b""
    length = int(headers["content-length"])
    status, headers, body = fetch(
        server, "GET", "/series/weekly.ics", {"User-Agent": "Google-Calendar-Importer"}
    )
    assert status == 200 and len(body) == length
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-disposition"] == 'inline; filename="weekly.ics"'
    status, headers, zipped = fetch(
        server, "GET", "/series/weekly.ics", {"Accept-Encoding": "gzip"}
    )
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped) == body


def test_the_server_errors_are_plain_and_never_500(server):
    status, headers, body = fetch(server, "GET", "/series/nope.ics")
    assert status == 404 and headers["content-type"].startswith("text/plain")
    assert b"weekly" in body
    status, headers, _ = fetch(server, "GET", "/calendar.ics?cancelled=%ff")
    assert status == 400 and headers["content-type"].startswith("text/plain")
