"""The `feed` command, through click's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from feed.cli import cli

README = Path(__file__).parent.parent / "README.md"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_ics_prints_the_feed_the_app_serves(schedule_file, client):
    result = run("ics", "--schedule", schedule_file)
    assert result.exit_code == 0
    assert result.stdout_bytes == client.get("/calendar.ics").data


def test_ics_of_one_series(schedule_file):
    result = run("ics", "--schedule", schedule_file, "conferences")
    assert result.exit_code == 0
    assert b"UID:conferences-20260601@example.org" in result.stdout_bytes
    assert b"UID:weekly@example.org" not in result.stdout_bytes


def test_ics_of_an_unknown_series_names_the_known_ones(schedule_file):
    result = run("ics", "--schedule", schedule_file, "nope")
    assert result.exit_code == 1
    assert "Error: no series 'nope'; known series: weekly, conferences" in result.output


def test_stamp_records_an_edit_and_is_then_up_to_date(schedule_file):
    result = run("stamp", "--schedule", schedule_file)
    assert result.exit_code == 0
    stamps = schedule_file.with_name("schedule.stamps.json")
    first = json.loads(stamps.read_text())["events"]
    assert first["weekly@example.org/20260310T110000"]["sequence"] == 0
    assert run("stamp", "--schedule", schedule_file).output.endswith("up to date\n")
    schedule_file.write_text(schedule_file.read_text().replace("Moved to", "Now moved to"))
    assert "1 event(s) stamped" in run("stamp", "--schedule", schedule_file).output
    second = json.loads(stamps.read_text())["events"]
    assert second["weekly@example.org/20260310T110000"]["sequence"] == 1
    assert second["weekly@example.org"] == first["weekly@example.org"]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name):
    result = run(name, "--help")
    assert result.exit_code == 0
    assert cli.commands[name].help
    assert re.search(rf"\bfeed {name}\b", README.read_text()), f"README lacks `feed {name}`"
