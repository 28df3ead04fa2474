"""Shared fixtures: schedules as named data files, an app factory with the clock pinned, and
flaskr's app and client."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from feed import create_app

HERE = Path(__file__).parent
SCHEDULES = HERE / "schedules"
ROOT = HERE.parent


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from the current output (review the diff).",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def small_schedule(tmp_path):
    """Write a schedule into a folder of its own: tests/schedules/small.yaml, or the given text,
    with each (old, new) replacement applied. Returns its path."""
    count = 0

    def write(text: str | None = None, *replacements: tuple[str, str], folder: str = "") -> Path:
        nonlocal count
        count += 1
        home = tmp_path / (folder or f"site{count}")
        home.mkdir(parents=True, exist_ok=True)
        path = home / "schedule.yaml"
        text = (SCHEDULES / "small.yaml").read_text() if text is None else text
        for old, new in replacements:
            assert old in text, f"{old!r} is not in the schedule"
            text = text.replace(old, new)
        path.write_text(text)
        return path

    return write


@pytest.fixture
def schedule_file(tmp_path) -> Path:
    """A writable copy of tests/schedules/small.yaml, alone in its own folder."""
    path = tmp_path / "schedule.yaml"
    shutil.copy(SCHEDULES / "small.yaml", path)
    return path


# "Now" for the app in tests: before the March sessions of tests/schedules/small.yaml.
NOW = "2026-03-01T12:00:00Z"


@pytest.fixture
def make_app():
    """Build an app on a schedule file: reloads at once, and the clock pinned to NOW."""

    def make(schedule_file, **config):
        return create_app(
            {
                "SCHEDULE": str(schedule_file),
                "SETTLE_SECONDS": 0,
                "CHECK_INTERVAL": 0,
                "TESTING": True,
                "NOW": NOW,
                **config,
            }
        )

    return make


@pytest.fixture
def app(make_app, schedule_file):
    return make_app(schedule_file)


@pytest.fixture
def client(app):
    return app.test_client()
