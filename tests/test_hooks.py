"""The pre-commit hooks, run by the real pre-commit in a repository of an organizer's own:
feed-check refuses a broken schedule with its problems; feed-stamp records an edit's stamps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, SCHEDULES


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """pre-commit's own folder, shared by the tests: the hooks' environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def repo(tmp_path, cache):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "organizer@example.org")
    git("config", "user.name", "Organizer")
    shutil.copy(SCHEDULES / "small.yaml", tmp_path / "schedule.yaml")
    return tmp_path


def hook(repo, cache, name: str, *files: str) -> subprocess.CompletedProcess:
    """`pre-commit try-repo` runs a hook of this checkout (uncommitted changes included)."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(cache), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), name, "--files", *files],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_feed_check_hook_refuses_a_broken_schedule_with_its_problems(repo, cache):
    assert hook(repo, cache, "feed-check", "schedule.yaml").returncode == 0
    text = (repo / "schedule.yaml").read_text().replace("every: tuesday", "every: tusday")
    (repo / "schedule.yaml").write_text(text)
    result = hook(repo, cache, "feed-check", "schedule.yaml")
    assert result.returncode == 1
    assert "'tusday' is not a weekday (did you mean 'tuesday'?)" in result.stdout


def test_feed_stamp_hook_records_an_edit_then_passes(repo, cache):
    first = hook(repo, cache, "feed-stamp", "schedule.yaml")
    assert first.returncode == 0, first.stdout  # a new stamps file: nothing tracked changed
    stamps = (repo / "schedule.stamps.json").read_text()
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "schedule"], cwd=repo, check=True)
    assert hook(repo, cache, "feed-stamp", "schedule.yaml").returncode == 0
    text = (repo / "schedule.yaml").read_text().replace("First topic", "Better topic")
    (repo / "schedule.yaml").write_text(text)
    edited = hook(repo, cache, "feed-stamp", "schedule.yaml")
    assert edited.returncode == 1  # it rewrote schedule.stamps.json: add it and commit again
    assert "files were modified by this hook" in edited.stdout
    assert (repo / "schedule.stamps.json").read_text() != stamps
    assert hook(repo, cache, "feed-stamp", "schedule.yaml").returncode == 0
