"""`feed build` writes what the app serves, byte for byte, with the headers hosts need."""

from __future__ import annotations

import hashlib
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW

from feed.build import documents
from feed.cli import cli

HERE = Path(__file__).parent
SCHEDULES = {"small": HERE / "schedules" / "small.yaml", "bundled": HERE.parent / "schedule.yaml"}
HEADER_FILES = {"_headers", "nginx.conf"}
# What a static host derives from the file itself (ETag, Last-Modified, Content-Length) or
# adds with its own compression (Vary, Content-Encoding): not in the header rules.
HOST_MADE = {"ETag", "Last-Modified", "Content-Length", "Vary", "Content-Encoding"}
URL = "https://meet.example.org"


@pytest.fixture(params=sorted(SCHEDULES))
def exported(request, tmp_path, monkeypatch, make_app, small_schedule):
    """(app, test client, export folder) for one schedule, built as of NOW for URL; the app
    runs first and writes stamps."""
    schedule = small_schedule(SCHEDULES[request.param].read_text())
    app = make_app(schedule)
    client = app.test_client()
    client.get("/calendar.ics")
    out = tmp_path / "public"
    monkeypatch.setenv("FEED_NOW", NOW)
    args = ["build", str(out), "--schedule", str(schedule), "--url", URL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return app, Client(client), out


class Client:
    """The app's test client, asked at the public address the export was built for."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kwargs):
        return self.client.get(path, base_url=URL, **kwargs)


def exported_files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in HEADER_FILES
    }


def test_every_exported_file_is_byte_identical_to_the_app_with_the_same_etag(exported):
    _, client, out = exported
    files = exported_files(out)
    assert files, "nothing was exported"
    for path, body in files.items():
        response = client.get("/" + path)
        assert response.status_code == 200, path
        assert response.data == body, path
        if path.endswith(".ics"):
            assert response.headers["ETag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def test_the_export_holds_every_feed_and_data_file_the_app_serves(exported):
    app, client, out = exported
    schedule = app.extensions["feed.publisher"].version.schedule
    expected = {"calendar.ics", "robots.txt", "sessions.json", "next.json", "next.ics"}
    expected |= {f"series/{s.id}.ics" for s in schedule.series}
    expected |= {
        f"sessions/{series.id}/{session.date}.ics"
        for series in schedule.series
        for session in series.sessions
    }
    assert set(exported_files(out)) == expected
    feeds = {p for p in expected if p == "calendar.ics" or p.startswith("series/")}
    assert set(documents(app.extensions["feed.publisher"].version)) == feeds | {"robots.txt"}


def test_without_a_public_address_only_the_feeds_are_exported(tmp_path):
    out = tmp_path / "public"
    result = CliRunner().invoke(cli, ["build", str(out), "--schedule", str(SCHEDULES["small"])])
    assert result.exit_code == 0
    assert "note: no --url and no calendar.url: exporting the feeds only" in result.output
    assert not (out / "sessions.json").exists()
    assert (out / "calendar.ics").exists()


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
        (content_type,) = re.findall(r'^    default_type "([^"]*)";$', body, re.M)
        added = re.findall(r"^    add_header (\S+) '([^']*)' always;$", body, re.M)
        rules[path] = [("Content-Type", content_type), *added]
    return rules


def test_header_rules_are_what_the_app_sends(exported):
    """Content-Type, Cache-Control, CORS, the security headers and Content-Disposition: for
    every exported file, the rules hold exactly the headers the app sends for it, save those
    the host makes itself."""
    _, client, out = exported
    netlify = netlify_rules((out / "_headers").read_text())
    nginx = nginx_rules((out / "nginx.conf").read_text())
    assert set(netlify) == set(nginx) == {"/" + p for p in exported_files(out)}
    for path, rules in netlify.items():
        response = client.get(path)
        sent = sorted((k, v) for k, v in response.headers.items() if k not in HOST_MADE)
        assert sorted(rules) == sent, path
        assert nginx[path] == rules, path
        assert "X-Content-Type-Options" in dict(rules), path
        if path.endswith(".ics"):
            assert dict(rules)["Cache-Control"].startswith("public, max-age="), path
            assert dict(rules)["Access-Control-Allow-Origin"] == "*", path
            assert "Content-Disposition" in dict(rules), path


def test_file_times_are_the_last_modified_the_app_sends(exported):
    """nginx and most static hosts derive Last-Modified from the file's mtime."""
    _, client, out = exported
    for path in ("calendar.ics", "series/" + next((out / "series").iterdir()).name):
        sent = parsedate_to_datetime(client.get("/" + path).headers["Last-Modified"])
        assert int((out / path).stat().st_mtime) == int(sent.timestamp()), path


def test_build_reports_an_invalid_schedule_and_writes_nothing(tmp_path):
    bad = tmp_path / "schedule.yaml"
    bad.write_text("calendar: {name: x}\nseries: 3\n")
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "out"), "--schedule", str(bad)])
    assert result.exit_code == 1
    assert "schedule.yaml:" in result.output
    assert not (tmp_path / "out").exists()
