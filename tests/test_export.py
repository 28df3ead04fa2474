"""`feed build` writes the whole site as files: what the app serves, byte for byte for the
feeds and data, with the headers hosts need; and a rebuild is atomic, exact and stays in OUTDIR."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW

from feed import build
from feed.cli import cli
from feed.links import feed_variants

HERE = Path(__file__).parent
SCHEDULES = {"small": HERE / "schedules" / "small.yaml", "bundled": HERE.parent / "schedule.yaml"}
RULE_FILES = {"_headers", "nginx.conf", ".feed-export"}
# What a static host derives from the file itself or adds with its own compression.
HOST_MADE = {"ETag", "Last-Modified", "Content-Length", "Vary", "Content-Encoding", "Date"}
HOST_MADE |= {"Accept-Ranges"}
URL = "https://meet.example.org"
ROUTE = {"index.html": "/", "embed.html": "/embed?limit=5"}


def run_build(schedule: Path, out: Path, *args: str):
    return CliRunner().invoke(cli, ["build", str(out), "--schedule", str(schedule), *args])


@pytest.fixture(params=sorted(SCHEDULES))
def exported(request, tmp_path, monkeypatch, make_app, small_schedule):
    """(app at URL, the same app in static mode, export folder) for one schedule, built as of
    NOW; the app runs first and writes stamps."""
    schedule = small_schedule(SCHEDULES[request.param].read_text())
    app = make_app(schedule, PUBLIC_URL=URL)
    app.test_client().get("/calendar.ics")
    out = tmp_path / "public"
    monkeypatch.setenv("FEED_NOW", NOW)
    result = run_build(schedule, out, "--url", URL)
    assert result.exit_code == 0, result.output
    static = make_app(schedule, PUBLIC_URL=URL, STATIC_EXPORT=True)
    return Client(app), Client(static), out


class Client:
    """An app's test client, asked at the public address the export was built for."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    @property
    def schedule(self):
        return self.app.extensions["feed.publisher"].current().schedule

    def get(self, path, **kwargs):
        response = self.client.get(path, base_url=URL, **kwargs)
        response.get_data()  # read, then closed: static files are open until then
        response.close()
        return response


def exported_files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in RULE_FILES
    }


def test_feeds_and_data_files_are_byte_identical_to_the_app_with_the_same_etag(exported):
    app, _, out = exported
    files = exported_files(out)
    pages = {p for p in files if p.endswith(".html")}
    assert {p for p in pages if not p.startswith("sessions/")} == {
        "index.html",
        "embed.html",
        "join.html",
    }
    for path, body in files.items():
        if path in pages:
            continue
        response = app.get("/" + path)
        assert response.status_code == 200, path
        assert response.data == body, path
        if path.endswith(".ics"):
            assert response.headers["ETag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def test_pages_are_the_app_in_static_mode(exported):
    _, static, out = exported
    for path, route in {**ROUTE, "join.html": "/join.html"}.items():
        assert (out / path).read_bytes() == static.get(route).data, path
    # A page per session, by the file name a static host serves, linked from the page.
    first = sorted(
        p for p in exported_files(out) if p.startswith("sessions/") and p.endswith(".html")
    )[0]
    assert (out / first).read_bytes() == static.get("/" + first).data
    assert static.get("/" + first.removesuffix(".html")).data == (out / first).read_bytes()
    page = (out / "index.html").read_text()
    assert "data-static" in page and 'data-sessions="/sessions.json"' in page
    assert f'href="{URL}/join.html"' in page and f"src=&#34;{URL}/embed.html?limit=5" in page


def test_the_export_is_the_whole_site(exported):
    app, _, out = exported
    schedule = app.schedule
    files = set(exported_files(out))
    expected = {
        "index.html",
        "embed.html",
        "join.html",
        "qr.svg",
        "robots.txt",
        "schedule.schema.json",
        "sessions.json",
        "next.json",
        "next.ics",
        "static/site.css",
        "static/site.js",
        "static/icon.svg",
    }
    expected |= {v.path.lstrip("/") for v in feed_variants(schedule)}
    assert {"tags/" + t + ".ics" for t in schedule.tag_names} <= expected
    assert len(expected & files) == len(expected), expected - files
    sessions = {p for p in files if p.startswith("sessions/")}
    written = {
        f"sessions/{series.id}/{entry.date}{suffix}"
        for series in schedule.series
        for entry in series.sessions
        for suffix in (".ics", ".html")
    }
    linked = {
        s["ics"].removeprefix(URL + "/")
        for s in json.loads((out / "sessions.json").read_text())["sessions"]
    }
    linked.add(json.loads((out / "next.json").read_text())["ics"].removeprefix(URL + "/"))
    for page in ("index.html", "embed.html"):  # the pages of the sessions they list
        text = (out / page).read_text()
        linked |= set(re.findall(re.escape(URL) + r"/(sessions/[^\"]+\.html)", text))
    assert written | linked == sessions
    assert files == expected | sessions


def netlify_rules(text: str) -> dict[str, list[tuple[str, str]]]:
    rules: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        if line.startswith("/"):
            current = rules.setdefault(line, [])
        elif line.strip():
            name, _, value = line.strip().partition(": ")
            current.append((name, value))
    return rules


def nginx_rules(text: str) -> dict[str, list[tuple[str, str]]]:
    rules = {}
    for path, body in re.findall(r"^location = (\S+) \{\n(.*?)^\}", text, re.M | re.S):
        if "default_type" not in body:
            continue  # /join: a redirect
        (content_type,) = re.findall(r"^    default_type '([^']*)';$", body, re.M)
        added = re.findall(r"^    add_header (\S+) '((?:[^'\\]|\\.)*)' always;$", body, re.M)
        added = [(k, v.replace("\\'", "'")) for k, v in added]
        rules[path] = [("Content-Type", content_type), *added]
    return rules


def test_header_rules_are_what_the_app_sends(exported):
    """Content-Type, Cache-Control, CORS, CSP, the security headers and Content-Disposition:
    for every exported file, the rules hold exactly the headers the app sends for it, save
    those the host makes itself."""
    _, static, out = exported
    netlify = netlify_rules((out / "_headers").read_text())
    nginx = nginx_rules((out / "nginx.conf").read_text())
    assert set(netlify) == set(nginx) == {"/" + p for p in exported_files(out)}
    for path, rules in netlify.items():
        response = static.get(ROUTE.get(path[1:], path))
        sent = sorted((k, v) for k, v in response.headers.items() if k not in HOST_MADE)
        assert sorted(rules) == sent, path
        assert nginx[path] == rules, path
        assert "X-Content-Type-Options" in dict(rules), path
        if path.endswith(".ics"):
            assert dict(rules)["Cache-Control"].startswith("public, max-age="), path
            assert dict(rules)["Access-Control-Allow-Origin"] == "*", path
            assert "Content-Disposition" in dict(rules), path
        if path.endswith(".html"):
            assert "Content-Security-Policy" in dict(rules), path


def test_file_times_are_the_last_modified_the_app_sends(exported):
    """nginx and most static hosts derive Last-Modified from the file's mtime."""
    app, _, out = exported
    for path in exported_files(out):
        sent = app.get(ROUTE.get(path, "/" + path)).headers.get("Last-Modified")
        if sent is None:  # /next and /join.html change as sessions pass; robots.txt is constant
            assert path in ("next.json", "next.ics", "join.html", "robots.txt"), path
            expected = parsedate_to_datetime("Sun, 01 Mar 2026 12:00:00 GMT").timestamp()
        else:
            expected = parsedate_to_datetime(sent).timestamp()
        assert int((out / path).stat().st_mtime) == int(expected), path


def test_the_url_keeps_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("FEED_NOW", NOW)
    out = tmp_path / "public"
    result = run_build(SCHEDULES["small"], out, "--url", "https://owner.github.io/repo/")
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert 'href="/repo/static/site.css"' in page
    assert 'href="https://owner.github.io/repo/join.html"' in page
    data = json.loads((out / "sessions.json").read_text())
    assert data["calendar"]["feed"] == "https://owner.github.io/repo/calendar.ics"
    assert all(
        s["ics"].startswith("https://owner.github.io/repo/sessions/") for s in data["sessions"]
    )
    assert "location = /repo/calendar.ics {" in (out / "nginx.conf").read_text()
    assert re.search(r"^/repo/calendar.ics$", (out / "_headers").read_text(), re.M)


@pytest.mark.parametrize(
    "url", ["http://meet.example.org", "meet.example.org", "https://x.example/?a=1"]
)
def test_the_url_must_be_https_without_a_query(tmp_path, url):
    result = run_build(SCHEDULES["small"], tmp_path / "out", "--url", url)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: --url: {url!r}")
    assert not (tmp_path / "out").exists()


def test_feed_public_url_is_the_default_address(tmp_path, monkeypatch):
    monkeypatch.setenv("FEED_PUBLIC_URL", "https://env.example.org")
    monkeypatch.setenv("FEED_NOW", NOW)
    result = run_build(SCHEDULES["small"], tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "https://env.example.org/calendar.ics" in (tmp_path / "out/index.html").read_text()


def test_without_a_public_address_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("FEED_PUBLIC_URL", raising=False)
    result = run_build(SCHEDULES["small"], tmp_path / "out")
    assert result.exit_code == 1
    assert "Error: no public address: pass --url https://..." in result.output
    assert not (tmp_path / "out").exists()


def test_build_reports_an_invalid_schedule_and_writes_nothing(tmp_path):
    bad = tmp_path / "schedule.yaml"
    bad.write_text("calendar: {name: x}\nseries: 3\n")
    result = run_build(bad, tmp_path / "out", "--url", URL)
    assert result.exit_code == 1
    assert "schedule.yaml:" in result.output
    assert not (tmp_path / "out").exists()


def test_build_says_where_a_missing_schedule_goes(tmp_path):
    result = run_build(tmp_path / "schedule.yaml", tmp_path / "out", "--url", URL)
    assert result.exit_code == 1
    assert "no schedule file at" in result.output and "FEED_SCHEDULE=" in result.output


# -- rebuilding ------------------------------------------------------------------------------------


def edited(small_schedule, n: int) -> Path:
    """tests/schedules/small.yaml with a topic changed (n) and, for odd n, no conferences;
    each in a folder of its own, written once, so each builds the same bytes every time."""
    replacements = [("After the fall change", f"After the fall change ({n})")]
    path = small_schedule(None, *replacements, folder=f"site{n}")
    if n % 2:
        text = path.read_text()
        path.write_text(text[: text.index("  conferences:")])
    return path


def test_a_rebuild_removes_what_is_gone_and_keeps_what_is_not(
    tmp_path, small_schedule, monkeypatch
):
    monkeypatch.setenv("FEED_NOW", NOW)
    out = tmp_path / "public"
    assert run_build(edited(small_schedule, 0), out, "--url", URL).exit_code == 0
    first = exported_files(out)
    assert "series/conferences.ics" in first and "sessions/conferences/2026-06-01.ics" in first
    mtime = (out / "robots.txt").stat().st_mtime_ns
    result = run_build(edited(small_schedule, 1), out, "--url", URL)
    assert result.exit_code == 0, result.output
    second = exported_files(out)
    assert not [p for p in second if "conferences" in p]
    assert not (out / "sessions" / "conferences").exists()
    assert not (out / "expanded" / "series" / "conferences.ics").exists()
    assert (out / "robots.txt").stat().st_mtime_ns == mtime  # unchanged: not rewritten
    assert set((out / ".feed-export").read_text().split()) == set(second) | {
        "_headers",
        "nginx.conf",
    }
    assert not list(out.rglob("*.tmp"))


def test_a_rebuild_never_shows_a_partial_or_empty_file(tmp_path, small_schedule, monkeypatch):
    """A reader polling the published files while the site is rebuilt again and again sees
    each file whole: the old bytes or the new ones, never anything else."""
    monkeypatch.setenv("FEED_NOW", NOW)
    out = tmp_path / "public"
    versions: dict[str, set[bytes]] = {"calendar.ics": set(), "index.html": set()}
    schedules = [edited(small_schedule, n) for n in range(2)]
    for path in schedules:
        assert run_build(path, out, "--url", URL).exit_code == 0
        for name, seen in versions.items():
            seen.add((out / name).read_bytes())
    assert all(len(seen) == 2 for seen in versions.values())
    stop = threading.Event()
    bad, reads = [], []

    def read():
        while not stop.is_set() and len(reads) < 1_000_000:
            for name, seen in versions.items():
                body = (out / name).read_bytes()
                reads.append(name)
                if body not in seen:
                    bad.append((name, len(body)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(8):
            assert run_build(schedules[n % 2], out, "--url", URL).exit_code == 0
    finally:
        stop.set()
        reader.join(timeout=30)
    assert reads and bad == []


def test_nothing_is_written_through_links_in_outdir(tmp_path, small_schedule, monkeypatch):
    monkeypatch.setenv("FEED_NOW", NOW)
    out = tmp_path / "public"
    path = small_schedule()
    assert run_build(path, out, "--url", URL).exit_code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "calendar.ics").write_text("keep me")
    (outside / "weekly.ics").write_text("keep me too")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (out / "calendar.ics").unlink()
    (out / "calendar.ics").symlink_to(outside / "calendar.ics")
    build_dir = out / "series"
    for child in build_dir.iterdir():
        child.unlink()
    build_dir.rmdir()
    build_dir.symlink_to(outside)
    (out / "robots.txt").unlink()
    (out / "robots.txt").symlink_to(secret)
    result = run_build(path, out, "--url", URL)
    assert result.exit_code == 0, result.output
    assert (outside / "calendar.ics").read_text() == "keep me"
    assert (outside / "weekly.ics").read_text() == "keep me too"
    assert secret.read_text() == "secret"
    for name in ("calendar.ics", "series", "robots.txt"):
        assert not (out / name).is_symlink(), name
    assert (out / "series" / "weekly.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_a_folder_that_is_not_an_export_is_left_alone(tmp_path):
    out = tmp_path / "repo"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_build(SCHEDULES["small"], out, "--url", URL)
    assert result.exit_code == 1
    assert "is not empty and holds no .feed-export" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_link_the_app_cannot_answer_stops_the_build(make_app, schedule_file, tmp_path):
    app = make_app(schedule_file, PUBLIC_URL=URL)
    with pytest.raises(build.ExportError, match="/nope.ics: the app answers 404"):
        build.crawl(app, build.Site(URL, static=True), 0.0, ["nope.ics"])
    assert not os.path.exists(tmp_path / "out")
