"""The organizer's everyday edits as commands: `feed add`, `cancel`, `move`, `restore` and
`remove` change schedule.yaml without opening it (see :mod:`feed.edit`), print what subscribers
will see change, and write the file atomically."""

from __future__ import annotations

from pathlib import Path

import click

from . import edit, publish
from .cli import cli, schedule_option
from .diff import diff_texts
from .schedule import SESSION_DETAILS
from .schedule.fields import SESSION

day_argument = click.argument("day", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE")
series_option = click.option(
    "--series",
    help="The series, when the date alone does not say: one-off events, or two weekly series "
    "meeting that day.",
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show what subscribers would see change; write nothing."
)


def _detail_options(command):
    """--speaker, --url, --recording, --slides ...: one option per declared session detail."""
    helps = {field.name: field.help for field in SESSION}
    for detail in reversed(SESSION_DETAILS):
        command = click.option(f"--{detail.name}", help=helps[detail.name])(command)
    return command


@cli.command()
@schedule_option
@day_argument
@click.option("--topic", help="What the session is about.")
@click.option("--agenda", multiple=True, help="An agenda item; repeat for several.")
@click.option("--notes", multiple=True, help="A note; repeat for several.")
@_detail_options
@click.option("--at", "at_time", help='One-off events: the start time, "HH:MM".')
@click.option("--ends", help="One-off events over several days: the last day, YYYY-MM-DD.")
@series_option
@dry_run_option
def add(schedule_path, day, topic, agenda, notes, at_time, ends, series, dry_run, **details):
    """Add a session on DATE, under the series that meets that day, in date order.

    \b
    Example:
        feed add 2024-03-05 --topic "eBPF in production" --agenda Intro --agenda Demo
        feed add 2024-06-03 --series events-of-interest --topic KubeCon --ends 2024-06-05
    """
    fields = {"topic": topic, "agenda": list(agenda)}
    if notes:
        fields["notes"] = notes[0] if len(notes) == 1 else list(notes)
    fields.update(details)
    fields.update({"at": at_time, "ends": ends})
    _edit(schedule_path, dry_run, edit.add, day.date(), fields, series=series)


@cli.command()
@schedule_option
@day_argument
@click.option("--reason", help="Why, e.g. Thanksgiving week (shown to subscribers).")
@series_option
@dry_run_option
def cancel(schedule_path, day, reason, series, dry_run):
    """Cancel the session on DATE: it disappears from subscribed calendars.

    \b
    Example:
        feed cancel 2024-11-26 --reason "Thanksgiving week"
    """
    _edit(schedule_path, dry_run, edit.cancel, day.date(), reason, series=series)


@cli.command()
@schedule_option
@day_argument
@click.option("--to", "to", required=True, help='"YYYY-MM-DD HH:MM", a date, or a time "HH:MM".')
@series_option
@dry_run_option
def move(schedule_path, day, to, series, dry_run):
    """Move the session of the regular slot DATE to another date or time.

    \b
    Example:
        feed move 2024-01-16 --to "2024-01-15 10:00"
    """
    _edit(schedule_path, dry_run, edit.move, day.date(), to, series=series)


@cli.command()
@schedule_option
@day_argument
@series_option
@dry_run_option
def restore(schedule_path, day, series, dry_run):
    """Undo a cancellation or a move: the session on DATE takes place at its regular slot."""
    _edit(schedule_path, dry_run, edit.restore, day.date(), series=series)


@cli.command()
@schedule_option
@day_argument
@series_option
@dry_run_option
def remove(schedule_path, day, series, dry_run):
    """Remove the entry of DATE (the undo of `feed add`): the week is a plain slot again."""
    _edit(schedule_path, dry_run, edit.remove, day.date(), series=series)


def _edit(schedule_path, dry_run, change, *args, **kwargs) -> None:
    """Make an edit, print what subscribers will see change, and write the file atomically."""
    path = Path(schedule_path)
    try:
        before = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    try:
        done = change(before, *args, path=str(path), **kwargs)
    except edit.EditError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(done.done)
    for warning in done.warnings:  # e.g. a one-off event at a weekly series' slot
        click.echo(warning, err=True)
    for line in diff_texts(before, done.text, str(path), str(path)).lines:
        click.echo(f"  {line}")
    if dry_run:
        click.echo("(dry run: nothing written)")
        return
    if not publish.write_atomically(path, done.text):
        raise click.ClickException(f"cannot write {path}")
    if publish.stamps_path_for(path).exists():
        click.echo(f"then run `feed stamp --schedule {path}` and commit both files")
