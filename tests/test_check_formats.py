"""`feed check` in every workflow: annotations on a pull request's lines, JSON for scripts,
and `--schedule` like every other command."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import SCHEDULES

from feed.cli import cli

BROKEN = str(SCHEDULES / "readme_check.yaml")
SMALL = str(SCHEDULES / "small.yaml")


def run(*args):
    return CliRunner().invoke(cli, ["check", *args], env={"FEED_PUBLIC_URL": ""})


def test_github_format_prints_one_annotation_per_problem_on_its_line():
    result = run("--format", "github", BROKEN)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("::")]
    assert len(lines) == 5
    assert lines[0] == (
        f"::error file={BROKEN},line=9,col=11,title=feed check::series.weekly.join: "
        "'http://zoom.example.org/j/1' is not an https URL (write the whole link, starting "
        "with https://; calendar clients and browsers block other links)"
    )


def test_github_format_escapes_what_would_end_the_command():
    from feed.check_formats import github_annotation
    from feed.schedule import Problem

    problem = Problem("a,b:c.yaml", 3, 4, "k", "50% broken\nsecond line", hint=None)
    assert github_annotation(problem) == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=feed check::k: 50%25 broken\\nsecond line"
    )


def test_json_format_is_a_stable_document_for_scripts():
    result = run("--format", "json", BROKEN, SMALL)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [f["ok"] for f in data["files"]] == [False, True]
    first = data["files"][0]["problems"][0]
    assert first == {
        "column": 11,
        "hint": "write the whole link, starting with https://; calendar clients and browsers "
        "block other links",
        "key": "series.weekly.join",
        "line": 9,
        "message": "'http://zoom.example.org/j/1' is not an https URL",
        "severity": "error",
    }


def test_check_takes_schedule_like_the_other_commands():
    result = run("--schedule", SMALL)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{SMALL}: OK (2 series")
    assert "note: the public address is not set" in result.stderr
