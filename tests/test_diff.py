"""`feed diff`: what subscribers will see change, in words an organizer can paste into a review.

Each file in tests/schedules/diff/ is base.yaml with one kind of change; the exact report and
exit code (0 nothing visible, 1 changed, 2 invalid) are pinned below.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import SCHEDULES

from feed.cli import cli
from feed.diff import diff, diff_texts
from feed.schedule import load

DIFF = SCHEDULES / "diff"
BASE = DIFF / "base.yaml"
W = "weekly: Tue"

CASES = {  # file compared with base.yaml -> (exit code, report lines)
    "agenda_changed": (1, [f'{W} 2024-01-09 11:00 PST: agenda added "Kustomize"; removed "Argo"']),
    "calendar_renamed": (1, ['calendar renamed: "Example Meeting" -> "Example Community Meeting"']),
    "cancelled": (1, [f"{W} 2024-11-26 11:00 PST: cancelled (Thanksgiving week)"]),
    "uncancelled_base": (1, [f"{W} 2024-11-26 11:00 PST: cancelled"]),
    "comments_and_formatting": (0, ["no changes subscribers will see"]),
    "event_changed": (
        1,
        [
            "events: Mon 2024-06-03 (all day): now ends Thu 2024-06-06 (was Wed 2024-06-05)",
            'events: Mon 2024-07-01 09:00 PDT: added: "KubeCon"',
        ],
    ),
    "links_and_notes": (
        1,
        [
            f'{W} 2024-01-16 11:00 PST: notes: none -> "Bring questions"',
            f"{W} 2024-01-16 11:00 PST: recording: none -> https://example.org/rec/ebpf",
            f"{W} 2024-01-16 11:00 PST: join link: https://zoom.example.org/j/1 -> "
            "https://zoom.example.org/j/2",
        ],
    ),
    "moved": (1, [f"{W} 2024-01-16 11:00 PST: moved to Wed 2024-01-17 14:00 PST"]),
    "retitled": (1, [f'{W} 2024-01-16 11:00 PST: retitled: "eBPF" -> "eBPF in production"']),
    "series_day": (
        1,
        [
            "weekly: every session from 2024-01-03 on: Tue 11:00 -> Wed 11:00",
            f'{W} 2024-01-09 11:00 PST: removed: "GitOps"',
            'weekly: Wed 2024-01-10 11:00 PST: added: "GitOps"',
            f'{W} 2024-01-16 11:00 PST: removed: "eBPF"',
            'weekly: Wed 2024-01-17 11:00 PST: added: "eBPF"',
            f'{W} 2024-11-26 11:00 PST: removed: "Storage Tales"',
            'weekly: Wed 2024-11-27 11:00 PST: added: "Storage Tales"',
        ],
    ),
    "series_ends": (
        1,
        [
            "weekly: sessions after 2024-06-25 removed (was no end date)",
            f'{W} 2024-11-26 11:00 PST: removed: "Storage Tales"',
        ],
    ),
    "series_join": (
        1,
        [
            "weekly: every session from 2024-01-02 on: join link https://zoom.example.org/j/1 -> "
            "https://meet.example.org/weekly"
        ],
    ),
    # One summary line, not one per week: the dated sessions follow the series' new time.
    "series_time": (1, ["weekly: every session from 2024-01-02 on: 11:00 -> 12:00"]),
    "session_added": (1, [f'{W} 2024-12-03 11:00 PST: topic added: "Chaos Engineering"']),
    "session_removed": (1, [f'{W} 2024-01-16 11:00 PST: topic removed: "eBPF"']),
    "speaker_and_slides": (
        1,
        [
            f'{W} 2024-01-16 11:00 PST: speaker: none -> "Jane Doe"',
            f"{W} 2024-01-16 11:00 PST: slides: none -> https://example.org/slides/ebpf.pdf",
        ],
    ),
}


def test_every_pair_is_pinned():
    names = {p.stem for p in DIFF.glob("*.yaml")} - {"base", "invalid"}
    assert names == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_reports_each_kind_of_change(name):
    code, lines = CASES[name]
    result = CliRunner().invoke(cli, ["diff", str(BASE), str(DIFF / f"{name}.yaml")])
    assert (result.exit_code, result.stdout.splitlines()) == (code, lines)


def test_uncancelling_is_reported():
    """The reverse direction: a cancelled week that takes place again, with its topic back."""
    old, new = load((DIFF / "uncancelled_base.yaml").read_text()), load(BASE.read_text())
    assert diff(old, new) == [
        f"{W} 2024-11-26 11:00 PST: no longer cancelled",
        f'{W} 2024-11-26 11:00 PST: topic added: "Storage Tales"',
    ]


def test_library_diff_is_pure_and_symmetric_in_kind():
    """Adding then removing the same session: the two reports mirror each other."""
    base, added = BASE.read_text(), (DIFF / "session_added.yaml").read_text()
    assert diff_texts(base, added).lines == (
        f'{W} 2024-12-03 11:00 PST: topic added: "Chaos Engineering"',
    )
    assert diff_texts(added, base).lines == (
        f'{W} 2024-12-03 11:00 PST: topic removed: "Chaos Engineering"',
    )


def test_library_comparison_keeps_both_checks():
    """An invalid version: no lines, exit code 2, and each side's own problems."""
    comparison = diff_texts(BASE.read_text(), (DIFF / "invalid.yaml").read_text())
    assert not comparison.valid and comparison.exit_code == 2 and comparison.lines == ()
    assert comparison.old.ok and comparison.old.problems == ()
    assert [p.line for p in comparison.new.errors] == [20]


def test_invalid_version_exits_2_with_its_problems():
    result = CliRunner().invoke(cli, ["diff", str(BASE), str(DIFF / "invalid.yaml")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{DIFF / 'invalid.yaml'}:20:7: series.weekly.sessions.2024-01-15: 2024-01-15 is a "
        "Monday, but the series meets on Tuesdays (did you mean 2024-01-16? If the session was "
        "moved to 2024-01-15, key it by its regular date and add `moved: 2024-01-15`)"
    ]


def git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_revisions(tmp_path):
    """`feed diff HEAD~1` compares a commit with the file being edited; two revisions too."""
    schedule = tmp_path / "schedule.yaml"
    git(tmp_path, "init", "-q")
    shutil.copy(BASE, schedule)
    git(tmp_path, "add", "schedule.yaml")
    git(tmp_path, "commit", "-q", "-m", "base")
    shutil.copy(DIFF / "retitled.yaml", schedule)
    git(tmp_path, "commit", "-q", "-am", "retitle")
    shutil.copy(DIFF / "cancelled.yaml", schedule)  # edited, not committed
    run = CliRunner().invoke
    opts = ["diff", "--schedule", str(schedule)]

    result = run(cli, [*opts, "HEAD~1", "HEAD"])
    assert (result.exit_code, result.stdout.splitlines()) == CASES["retitled"]

    result = run(cli, [*opts, "HEAD~1"])
    assert (result.exit_code, result.stdout.splitlines()) == CASES["cancelled"]

    result = run(cli, [*opts, "HEAD"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f'{W} 2024-01-16 11:00 PST: retitled: "eBPF in production" -> "eBPF"',
        f"{W} 2024-11-26 11:00 PST: cancelled (Thanksgiving week)",
    ]

    result = run(cli, [*opts, "no-such-revision"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: 'no-such-revision' is neither a file nor a git revision of schedule.yaml"
    )
