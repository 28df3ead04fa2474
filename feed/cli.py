"""The ``feed`` command: serve, check, print and stamp a schedule."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from . import ical, publish, stamps
from .schedule import check as check_schedule
from .web import BUNDLED_SCHEDULE, create_app


def default_schedule() -> str:
    return os.environ.get("FEED_SCHEDULE") or str(BUNDLED_SCHEDULE)


schedule_option = click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False),
    default=default_schedule,
    show_default="$FEED_SCHEDULE or the bundled schedule.yaml",
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
    _, problems = _check_file(schedule_path)
    if _errors(problems):
        _print_problems(problems)
        raise SystemExit(1)
    os.environ["FEED_SCHEDULE"] = str(Path(schedule_path).resolve())
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
    schedule, problems = _check_file(path)
    _print_problems(problems)
    if _errors(problems) or schedule is None:
        count = len(_errors(problems))
        click.echo(f"{path}: {count} error{'s' if count != 1 else ''}", err=True)
        raise SystemExit(1)
    sessions = sum(len(s.sessions) for s in schedule.series)
    click.echo(
        f"{path}: OK ({len(schedule.series)} series, {sessions} dated entries"
        + (f", {len(problems)} warnings" if problems else "")
        + ")"
    )


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
def build(schedule_path, outdir, max_age):
    """Write every feed as static files into OUTDIR, for any static host or CDN.

    The files are byte-identical to what the app serves for the same schedule and stamps.
    OUTDIR also gets _headers (Netlify, Cloudflare Pages) and nginx.conf with the
    Content-Type, Cache-Control and CORS headers those hosts cannot guess.

    \b
    Example:
        feed build public/
    """
    from .build import export

    written = export(_version(schedule_path), outdir, max_age=max_age)
    for path in written:
        click.echo(str(path))


def _check_file(path):
    try:
        source = Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from exc
    return check_schedule(source, str(path))


def _errors(problems):
    return [p for p in problems if not p.warning]


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
    version, problems = publish.build_version(source, str(path), previous, edited)
    if version is None:
        _print_problems(problems)
        raise SystemExit(1)
    return version
