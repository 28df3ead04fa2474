"""`feed build` writes what the app serves, byte for byte, with the headers hosts need."""

from __future__ import annotations

import hashlib
import shutil
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from feed import create_app
from feed.build import EXPORTS
from feed.cli import cli

HERE = Path(__file__).parent
SCHEDULES = {"small": HERE / "schedules" / "small.yaml", "bundled": HERE.parent / "schedule.yaml"}
HEADER_FILES = {"_headers", "nginx.conf"}


NOW = "2026-03-01T12:00:00Z"
URL = "https://meet.example.org"


@pytest.fixture(params=sorted(SCHEDULES))
def exported(request, tmp_path, monkeypatch):
    """(app, test client, export folder) for one schedule, built as of NOW for URL; the app
    runs first and writes stamps."""
    schedule = tmp_path / "site" / "schedule.yaml"
    schedule.parent.mkdir()
    shutil.copy(SCHEDULES[request.param], schedule)
    app = create_app({"SCHEDULE": str(schedule), "TESTING": True, "NOW": NOW})
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
    assert len(EXPORTS) >= 3


def test_without_a_public_address_only_the_feeds_are_exported(tmp_path):
    out = tmp_path / "public"
    result = CliRunner().invoke(cli, ["build", str(out), "--schedule", str(SCHEDULES["small"])])
    assert result.exit_code == 0
    assert "note: no --url and no calendar.url: exporting the feeds only" in result.output
    assert not (out / "sessions.json").exists()
    assert (out / "calendar.ics").exists()


def test_header_rules_match_what_the_app_sends(exported):
    _, client, out = exported
    rules: dict[str, dict[str, str]] = {}
    for line in (out / "_headers").read_text().splitlines():
        if line.startswith("/"):
            current = rules.setdefault(line, {})
        elif line.strip():
            name, _, value = line.strip().partition(": ")
            current[name] = value
    nginx = (out / "nginx.conf").read_text()
    assert set(rules) == {"/" + p for p in exported_files(out)}
    for path, headers in rules.items():
        response = client.get(path)
        assert headers["Content-Type"] == response.headers["Content-Type"], path
        if path.endswith(".ics"):
            for name in ("Cache-Control", "Access-Control-Allow-Origin"):
                assert headers[name] == response.headers[name], (path, name)
        if "Content-Disposition" in response.headers:
            assert headers["Content-Disposition"] == response.headers["Content-Disposition"]
        assert f"location = {path} {{" in nginx
        assert f'default_type "{response.headers["Content-Type"]}";' in nginx


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
