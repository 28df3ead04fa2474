"""The README's transcripts are real: each one is run and compared, so it cannot rot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from feed.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def transcript(command: str) -> str:
    """The output shown under `$ <command>` in a console block of the README."""
    match = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)```", README, re.S)
    assert match, f"README has no transcript of {command!r}"
    return match[1]


def test_the_feed_check_transcript(tmp_path, monkeypatch):
    shutil.copy(ROOT / "tests" / "schedules" / "readme_check.yaml", tmp_path / "schedule.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "schedule.yaml"])
    assert result.exit_code == 1
    assert result.output == transcript("feed check schedule.yaml")


def test_the_quickstart_has_exactly_two_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", quickstart, re.S)
    assert [c.strip() for c in commands] == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/feed serve",
        "tests/run",
    ]
