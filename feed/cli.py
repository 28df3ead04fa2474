"""The ``feed`` command: serve, check, print and stamp a schedule."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import click

from . import create_app, ical, publish, stamps
from .schedule import Report
from .schedule import check as check_schedule
from .web import BUNDLED_SCHEDULE


def default_schedule() -> str:
    """$FEED_SCHEDULE, else schedule.yaml in the current folder, else the bundled one."""
    if os.environ.get("FEED_SCHEDULE"):
        return os.environ["FEED_SCHEDULE"]
    here = Path("schedule.yaml")
    return str(here) if here.is_file() else str(BUNDLED_SCHEDULE)


schedule_option = click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False),
    default=default_schedule,
    show_default="$FEED_SCHEDULE, ./schedule.yaml or the bundled one",
    help="The schedule file.",
)


@click.group()
@click.version_option(package_name="feed")
def cli():
    """Publish a recurring meeting from schedule.yaml as a subscribable calendar feed."""


@cli.command()
@schedule_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(schedule_path, host, port):
    """Serve the feed on this machine, reloading the schedule when it changes.

    \b
    Example:
        feed serve
        # then subscribe to http://127.0.0.1:5000/calendar.ics
    For production, run gunicorn (see the README).
    """
    _require_valid(schedule_path)
    app = create_app({"SCHEDULE": str(Path(schedule_path).resolve())})
    click.echo(f"Serving {schedule_path} at http://{host}:{port}/calendar.ics", err=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check(path):
    """Validate a schedule; print every problem as FILE:LINE:COLUMN: message.

    Exits 0 when the schedule can be published (warnings allowed), 1 otherwise.

    \b
    Example:
        feed check schedule.yaml
    """
    path = path or default_schedule()
    report = _check_file(path)
    _print_problems(report.problems)
    if not report.ok:
        count = len(report.errors)
        click.echo(f"{path}: {count} error{'s' if count != 1 else ''}", err=True)
        raise SystemExit(1)
    schedule, warnings = report.schedule, len(report.warnings)
    sessions = sum(len(s.sessions) for s in schedule.series)
    click.echo(
        f"{path}: OK ({len(schedule.series)} series, {sessions} dated entries"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
        + ")"
    )


@cli.command()
def schema():
    """Print the JSON Schema of schedule.yaml, for editors that complete and check keys.

    \b
    Example:
        feed schema > schedule.schema.json
        # then, in VS Code's YAML extension, start schedule.yaml with
        # yaml-language-server: $schema=schedule.schema.json
    """
    from .schedule.jsonschema import dumps

    click.echo(dumps(), nl=False)


@cli.command()
@schedule_option
@click.argument("series", required=False)
@click.option(
    "--cancelled",
    type=click.Choice(["hide", "show"]),
    default="hide",
    show_default=True,
    help="Show cancelled weeks as cancelled events.",
)
def ics(schedule_path, series, cancelled):
    """Write a feed to standard output: every series, or only SERIES.

    The bytes are the ones the app serves for the same schedule and stamps.

    \b
    Example:
        feed ics devops-lunch-and-learn > meeting.ics
    """
    version = _version(schedule_path)
    if series and version.schedule.get(series) is None:
        known = ", ".join(s.id for s in version.schedule.series)
        raise click.ClickException(f"no series {series!r}; known series: {known}")
    options = ical.Options(series=(series,) if series else None, show_cancelled=cancelled == "show")
    sys.stdout.buffer.write(version.feed(options).body)


@cli.command()
@schedule_option
def stamp(schedule_path):
    """Record edits in schedule.stamps.json (SEQUENCE and LAST-MODIFIED per event).

    Run it after editing schedule.yaml and commit both files, so a read-only deployment
    publishes the same stamps. The app does the same by itself when the file is writable.
    """
    path = Path(schedule_path)
    stamps_path = publish.stamps_path_for(path)
    before = publish.read_stamps(stamps_path)
    version = _version(schedule_path)
    changed = sorted(k for k, v in version.stamps.items() if before.get(k) != v)
    if not changed:
        click.echo(f"{stamps_path}: up to date")
        return
    if not publish.write_atomically(stamps_path, stamps.dumps(version.stamps)):
        raise click.ClickException(f"cannot write {stamps_path}")
    click.echo(f"{stamps_path}: {len(changed)} event(s) stamped")


@cli.command()
@schedule_option
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--max-age", default=3600, show_default=True, help="Cache-Control max-age.")
@click.option(
    "--url",
    help="The public address the files will be served from (default: calendar.url). "
    "Needed for the data files, whose links are absolute.",
)
def build(schedule_path, outdir, max_age, url):
    """Write every feed and data file as static files into OUTDIR, for any static host.

    The files are byte-identical to what the app serves for the same schedule and stamps:
    calendar.ics and series/<id>.ics, and with a public address also sessions.json,
    next.json, next.ics and sessions/<series>/<date>.ics as of now (rebuild daily to keep
    "next" current). OUTDIR also gets _headers (Netlify, Cloudflare Pages) and nginx.conf
    with the Content-Type, Cache-Control and CORS headers those hosts cannot guess.

    \b
    Example:
        feed build public/ --url https://cloud2030.org
    """
    from .build import data_documents, export

    _require_valid(schedule_path)
    app = create_app({"SCHEDULE": str(Path(schedule_path).resolve()), "WRITE_STAMPS": False})
    version = app.extensions["feed.publisher"].current()
    base = url or version.schedule.url
    data = data_documents(app, base) if base else {}
    if not base:
        click.echo("note: no --url and no calendar.url: exporting the feeds only", err=True)
    for path in export(version, outdir, max_age=max_age, data=data):
        click.echo(str(path))


@cli.command()
@schedule_option
@click.argument("old")
@click.argument("new", required=False)
def diff(schedule_path, old, new):
    """Show what subscribers will see change between two versions of the schedule.

    OLD and NEW are files or git revisions of the schedule file; without NEW, the working
    file. Exits 0 when nothing visible changed (comments, formatting), 1 when something did,
    2 when a version is invalid or cannot be read.

    \b
    Example:
        feed diff HEAD~1            # last commit vs the file being edited
        feed diff HEAD~1 HEAD
        feed diff old.yaml new.yaml
    """
    from .diff import diff_texts

    old_name, old_text = _version_text(old, schedule_path)
    new_name, new_text = _version_text(new, schedule_path)
    comparison = diff_texts(old_text, new_text, old_name, new_name)
    if not comparison.valid:
        _print_problems([*comparison.old.problems, *comparison.new.problems])
        raise SystemExit(2)
    for line in comparison.lines:
        click.echo(line)
    if not comparison.lines:
        click.echo("no changes subscribers will see")
    raise SystemExit(comparison.exit_code)


def _version_text(which, schedule_path) -> tuple[str, bytes]:
    """A version of the schedule by file path or git revision (None: the working file)."""
    path = Path(schedule_path if which is None else which)
    if which is None or path.is_file():
        try:
            return str(path), path.read_bytes()
        except OSError as exc:
            click.echo(f"Error: {path}: {exc.strerror}", err=True)
            raise SystemExit(2) from exc
    schedule = Path(schedule_path).resolve()
    result = subprocess.run(
        ["git", "-C", str(schedule.parent), "show", f"{which}:./{schedule.name}"],
        capture_output=True,
    )
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip().splitlines()
        click.echo(
            f"Error: {which!r} is neither a file nor a git revision of {schedule.name}"
            + (f" ({reason[-1]})" if reason else ""),
            err=True,
        )
        raise SystemExit(2)
    return f"{which}:{schedule.name}", result.stdout


def _check_file(path) -> Report:
    try:
        source = Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    return check_schedule(source, str(path))


def _require_valid(schedule_path) -> None:
    """Print every problem and exit 1 unless the schedule can be published."""
    report = _check_file(schedule_path)
    if not report.ok:
        _print_problems(report.problems)
        raise SystemExit(1)


def _print_problems(problems):
    for problem in problems:
        click.echo(str(problem), err=True)


def _version(schedule_path) -> publish.Version:
    """The version the app would publish: stored stamps, edits dated by the file's mtime."""
    path = Path(schedule_path)
    try:
        source = path.read_bytes()
        edited = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    previous = publish.read_stamps(publish.stamps_path_for(path))
    version, report = publish.build_version(source, str(path), previous, edited)
    if version is None:
        _print_problems(report.problems)
        raise SystemExit(1)
    return version
