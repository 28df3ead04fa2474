"""`feed add`, `cancel`, `move`, `restore` and `remove`: an organizer's everyday edits, made
without opening schedule.yaml. Each finds the series, files the entry in date order, keeps
every other line byte for byte, and never writes a file `feed check` would refuse."""

from __future__ import annotations

import datetime as dt
import difflib
import shlex

import pytest
from click.testing import CliRunner
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed import edit
from feed.cli import cli
from feed.schedule import check
from feed.schedule.yamlread import plain, read

REAL = (ROOT / "schedule.yaml").read_text()
WEEKLY = "devops-lunch-and-learn"


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed and the lines added, as a diff shows them."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def sessions(text: str) -> dict:
    return {sid: s.get("sessions") or {} for sid, s in plain(read(text, "s")[0])["series"].items()}


def test_a_new_session_goes_under_its_series_in_date_order():
    """Regression: appended at the end of the file, a new Tuesday session landed under
    events-of-interest as an all-day event. `feed add` files it where it belongs."""
    done = edit.add(REAL, dt.date(2024, 2, 20), {"topic": "Zero trust", "agenda": ["Why", "How"]})
    assert done.series == WEEKLY
    removed, added = changed_lines(REAL, done.text)
    assert removed == []
    assert added == [
        "      2024-02-20:",
        "        topic: Zero trust",
        "        agenda:",
        "          - Why",
        "          - How",
    ]
    lines = done.text.splitlines()
    at = lines.index("      2024-02-20:")
    # After the last entry (2024-02-13) and the comments about the weeks after it.
    assert lines[at - 1] == '      # page: a last, empty bullet "-": nothing to record.'
    assert lines[at - 6] == "      2024-02-13:"
    assert list(sessions(done.text)[WEEKLY]) == sorted(sessions(done.text)[WEEKLY])


def test_a_topic_alone_is_written_as_the_shorthand_and_quoted_when_it_must_be():
    done = edit.add(REAL, dt.date(2023, 12, 5), {"topic": "Storage: LinStor # 2"})
    assert changed_lines(REAL, done.text) == ([], ['      2023-12-05: "Storage: LinStor # 2"'])
    lines = done.text.splitlines()
    # Before the comments that lead into the next entry (2023-12-12), not between them.
    at = lines.index('      2023-12-05: "Storage: LinStor # 2"')
    assert lines[at + 1].lstrip().startswith("#") and not lines[at - 1].lstrip().startswith("#~")
    assert check(done.text).schedule.get(WEEKLY).session(dt.date(2023, 12, 5)).topic == (
        "Storage: LinStor # 2"
    )


def test_cancel_sets_the_topic_aside_and_restore_brings_it_back_byte_for_byte():
    day = dt.date(2024, 2, 13)
    cancelled = edit.cancel(REAL, day, "Holiday")
    assert changed_lines(REAL, cancelled.text) == (
        ["        topic: Using Containers for Fun and Profit"],
        ["        #~ topic: Using Containers for Fun and Profit", "        cancelled: Holiday"],
    )
    session = check(cancelled.text).schedule.get(WEEKLY).session(day)
    assert (session.cancelled, session.reason, session.topic) == (True, "Holiday", None)
    assert edit.restore(cancelled.text, day).text == REAL


def test_a_week_without_an_entry_is_cancelled_and_restored_exactly():
    day = dt.date(2024, 2, 20)
    cancelled = edit.cancel(REAL, day)
    assert changed_lines(REAL, cancelled.text) == (
        [],
        ["      2024-02-20:", "        cancelled: yes"],
    )
    assert check(cancelled.text).schedule.get(WEEKLY).session(day).reason is None
    assert edit.restore(cancelled.text, day).text == REAL


def test_move_adds_one_line_and_restore_removes_it():
    day = dt.date(2024, 2, 13)
    moved = edit.move(REAL, day, "2024-02-14 10:00")
    assert changed_lines(REAL, moved.text) == ([], ['        moved: "2024-02-14 10:00"'])
    when = check(moved.text).schedule.get(WEEKLY).session(day).moved_to
    assert when == dt.datetime(2024, 2, 14, 10, 0)
    assert edit.restore(moved.text, day).text == REAL


def test_add_then_remove_is_the_original_file():
    done = edit.add(REAL, dt.date(2024, 2, 20), {"topic": "Chaos engineering"})
    assert edit.remove(done.text, dt.date(2024, 2, 20)).text == REAL


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda: edit.add(REAL, dt.date(2024, 1, 15), {"topic": "x"}),
            "no weekly series meets on Monday 2024-01-15; for a one-off event, name its "
            "series: --series events-of-interest",
        ),
        (
            lambda: edit.add(REAL, dt.date(2024, 1, 16), {"topic": "x"}),
            "devops-lunch-and-learn already has an entry for 2024-01-16 (line 675); edit it, "
            "or `feed remove 2024-01-16` first",
        ),
        (
            lambda: edit.restore(REAL, dt.date(2024, 1, 16)),
            "devops-lunch-and-learn on 2024-01-16 is neither cancelled nor moved: nothing to "
            "restore",
        ),
        (
            lambda: edit.move(REAL, dt.date(2024, 1, 16), "2024-01-23"),
            "the schedule would not be valid after this edit:\nschedule.yaml:677:16: "
            "series.devops-lunch-and-learn.sessions.2024-01-16.moved: 2024-01-23 11:00 is the "
            "regular time of the 2024-01-23 session (cancel or move that session first, or "
            "pick another time)",
        ),
        (
            lambda: edit.add(REAL, dt.date(2024, 1, 16), {"topic": "x"}, series="nope"),
            "no series 'nope'; known series: devops-lunch-and-learn, events-of-interest",
        ),
    ],
)
def test_edits_that_cannot_be_made_say_why_and_change_nothing(change, message):
    with pytest.raises(edit.EditError) as raised:
        change()
    assert str(raised.value) == message


def test_a_one_off_event_is_added_to_the_series_named(tmp_path):
    done = edit.add(
        REAL,
        dt.date(2024, 6, 3),
        {"topic": "KubeCon", "ends": "2024-06-05"},
        series="events-of-interest",
    )
    assert changed_lines(REAL, done.text)[0] == []
    event = check(done.text).schedule.get("events-of-interest").session(dt.date(2024, 6, 3))
    assert (event.topic, event.ends) == ("KubeCon", dt.date(2024, 6, 5))


def test_a_one_off_event_that_looks_like_a_weekly_session_is_made_with_a_warning(tmp_path):
    """Named explicitly, a one-off series takes the entry; what `feed check` would warn about
    is said at once, on standard error."""
    path = tmp_path / "schedule.yaml"
    path.write_text(REAL)
    args = ["add", "2024-02-20", "--topic", "Chaos", "--series", "events-of-interest"]
    result = CliRunner().invoke(cli, [*args, "--schedule", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("events-of-interest: 2024-02-20 added\n")
    [warning] = result.stderr.splitlines()
    assert ": warning: series.events-of-interest.sessions.2024-02-20: " in warning
    assert "did you mean series devops-lunch-and-learn?" in warning
    assert edit.add(REAL, dt.date(2024, 2, 20), {"topic": "Chaos"}).warnings == ()


def test_the_commands_write_atomically_and_print_what_subscribers_see(tmp_path):
    path = tmp_path / "schedule.yaml"
    path.write_text(REAL)
    run = CliRunner().invoke
    result = run(cli, ["cancel", "2024-01-16", "--reason", "Holiday", "--schedule", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "devops-lunch-and-learn: 2024-01-16 cancelled\n"
        "  devops-lunch-and-learn: Tue 2024-01-16 11:00 PST: cancelled (Holiday)\n"
    )
    result = run(cli, ["restore", "2024-01-16", "--schedule", str(path)])
    assert result.exit_code == 0, result.output
    assert "no longer cancelled" in result.output
    assert check(path.read_text()).schedule.get(WEEKLY).session(dt.date(2024, 1, 16)).topic


def test_dry_run_writes_nothing_and_a_refused_edit_exits_1(tmp_path):
    path = tmp_path / "schedule.yaml"
    path.write_text(REAL)
    (tmp_path / "schedule.stamps.json").write_text("{}")
    run = CliRunner().invoke
    args = ["add", "2024-02-20", "--topic", "Chaos", "--dry-run", "--schedule", str(path)]
    result = run(cli, args)
    assert result.exit_code == 0 and "(dry run: nothing written)" in result.output
    assert path.read_text() == REAL
    result = run(cli, ["add", "2024-02-20", "--topic", "Chaos", "--schedule", str(path)])
    assert "then run `feed stamp --schedule" in result.output
    result = run(cli, ["cancel", "2024-01-15", "--schedule", str(path)])
    assert result.exit_code == 1
    assert "Error: no weekly series meets on Monday 2024-01-15" in result.output


# -- property: any sequence of edits keeps the rest of the file and a valid schedule ------------

TUESDAYS = [dt.date(2021, 5, 18) + dt.timedelta(weeks=n) for n in range(0, 150)]
TOPICS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip() == t and t.strip())
EDITS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(TUESDAYS), TOPICS),
    st.tuples(st.just("cancel"), st.sampled_from(TUESDAYS), st.one_of(st.none(), TOPICS)),
    st.tuples(st.just("move"), st.sampled_from(TUESDAYS), st.sampled_from(["10:00", "12:30"])),
    st.tuples(st.just("restore"), st.sampled_from(TUESDAYS), st.none()),
    st.tuples(st.just("remove"), st.sampled_from(TUESDAYS), st.none()),
)


def edited(text: str, step) -> edit.Edit:
    verb, day, value = step
    if verb == "add":
        return edit.add(text, day, {"topic": value})
    if verb == "cancel":
        return edit.cancel(text, day, value)
    if verb == "move":
        return edit.move(text, day, value)
    return getattr(edit, verb)(text, day)


def comments(text: str) -> list[str]:
    """The organizers' comments, also where an edit set lines aside as "#~" lines."""
    found = []
    for line in text.splitlines():
        line = line.lstrip()
        if line.startswith(edit.ASIDE):
            line = line.removeprefix(edit.ASIDE).lstrip()
        if line.startswith("#"):
            found.append(line)
    return found


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(EDITS, min_size=1, max_size=4))
def test_any_edits_keep_every_other_entry_and_comment_and_a_valid_file(steps):
    text = REAL
    for step in steps:
        try:
            done = edited(text, step)
        except edit.EditError:
            continue  # refused: nothing written
        new = done.text
        report = check(new)
        # Valid, and nothing suspicious: filed under the series that meets that day, in order.
        assert report.ok and report.warnings == (), [str(p) for p in report.warnings]
        assert done.warnings == ()
        old_sessions, new_sessions = sessions(text), sessions(new)
        day = step[1].isoformat()
        for sid in old_sessions:
            others = {d: v for d, v in old_sessions[sid].items() if d != day}
            assert {d: v for d, v in new_sessions[sid].items() if d != day} == others
        # Every comment stays, in order.
        kept = iter(comments(new))
        assert all(any(c == n for n in kept) for c in comments(text))
        text = new


def test_the_readme_transcript_of_feed_add_is_what_it_prints(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```console\n$ feed add ", 1)[1].split("\n$ ", 1)[0]
    command, shown = block.split("\n", 1)
    path = tmp_path / "schedule.yaml"
    path.write_text(REAL)
    args = ["add", *shlex.split(command), "--schedule", str(path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output == shown + "\n"
