"""The ``feed`` command: serve, check, print and stamp a schedule."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import click

from . import create_app, ical, publish, stamps
from .check_formats import checks_json, github_annotation
from .diff import diff_texts
from .schedule import Report
from .schedule import check as check_schedule
from .web import BUNDLED_SCHEDULE, public_url_problem


def default_schedule() -> str:
    """$FEED_SCHEDULE, else schedule.yaml in the current folder, else the bundled example
    (beside the package in a clone, not in an installed wheel: then ./schedule.yaml, which
    serve and build report plainly as missing)."""
    if os.environ.get("FEED_SCHEDULE"):
        return os.environ["FEED_SCHEDULE"]
    here = Path("schedule.yaml")
    return str(BUNDLED_SCHEDULE) if not here.is_file() and BUNDLED_SCHEDULE.is_file() else str(here)


NO_SCHEDULE = (
    "no schedule file at {path}. Put your schedule.yaml in the current folder, set "
    "FEED_SCHEDULE=/path/to/schedule.yaml, or pass --schedule PATH (docs/schedule-format.md "
    "describes the format, and `feed schema` prints its JSON Schema)"
)


def _require_schedule(schedule_path) -> None:
    """Say plainly where a schedule goes when there is none (e.g. after `pip install .`)."""
    if not Path(schedule_path).is_file():
        raise click.ClickException(NO_SCHEDULE.format(path=schedule_path))


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
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on: loopback, this machine only.",
)
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port to listen on; 0 for any free one.",
)
def serve(schedule_path, host, port):
    """Serve the feed on this machine, reloading the schedule when it changes.

    Links follow the address you open it at, from this machine; elsewhere they need the
    public address (calendar.url or FEED_PUBLIC_URL).

    \b
    Example:
        feed serve
        feed serve --port 5001   # when 5000 is taken
        # then subscribe to http://127.0.0.1:5000/calendar.ics
    For production, run the app server with nginx in front (see the README).
    """
    from werkzeug.serving import make_server

    _require_schedule(schedule_path)
    _require_valid(schedule_path)
    app = create_app({"SCHEDULE": str(Path(schedule_path).resolve())})
    listener = _listen(host, port)
    server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    listener.close()  # the server holds its own copy of the socket
    shown = f"[{host}]" if ":" in host else host
    # (A missing public address was logged by the app as it started: once is enough.)
    click.echo(f"Serving {schedule_path} at http://{shown}:{server.port}/", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _listen(host: str, port: int):
    """A listening socket, or a clear error before anything claims to be serving."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}: {error.strerror}") from error
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as error:
        listener.close()
        hint = ""
        if error.errno == errno.EADDRINUSE:
            hint = (
                ": another program is using that port. Stop it, or choose another port, "
                f"e.g. feed serve --port {port + 1 if 0 < port < 65535 else 5001}"
            )
        raise click.ClickException(
            f"cannot listen on {host} port {port} ({error.strerror}){hint}"
        ) from error
    return listener


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False),
    help="The schedule file (like the other commands); PATHS may name several.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "github", "json"]),
    default="text",
    show_default=True,
    help="text for people; github for GitHub Actions annotations on the pull request's "
    "lines; json for scripts.",
)
def check(paths, schedule_path, output):
    """Validate a schedule; print every problem as FILE:LINE:COLUMN: message.

    Exits 0 when the schedule can be published (warnings allowed), 1 otherwise.

    \b
    Example:
        feed check schedule.yaml
        feed check --format github schedule.yaml   # in a GitHub Actions workflow
    """
    paths = list(paths) + ([schedule_path] if schedule_path else [])
    reports = [(path, _check_file(path)) for path in paths or [default_schedule()]]
    if output == "json":
        click.echo(checks_json(reports), nl=False)
    for path, report in reports:
        if output == "github":
            for problem in report.problems:
                click.echo(github_annotation(problem))
        elif output == "text":
            _print_problems(report.problems)
        if output == "json":
            continue
        if not report.ok:
            count = len(report.errors)
            click.echo(f"{path}: {count} error{'s' if count != 1 else ''}", err=True)
            continue
        schedule, warnings = report.schedule, len(report.warnings)
        sessions = sum(len(s.sessions) for s in schedule.series)
        click.echo(
            f"{path}: OK ({len(schedule.series)} series, {sessions} dated entries"
            + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
            + ")",
            err=output == "github",  # stdout holds only annotations there
        )
        note = public_url_problem(schedule, os.environ.get("FEED_PUBLIC_URL"))
        if note and output == "github":
            click.echo(f"::notice title=feed check::{note}")
        elif note:
            click.echo(f"{path}: note: {note}", err=True)
    if not all(report.ok for _, report in reports):
        raise SystemExit(1)


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
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def stamp(schedule_path, paths):
    """Record edits in schedule.stamps.json (SEQUENCE and LAST-MODIFIED per event).

    Run it after editing schedule.yaml and commit both files, so a read-only deployment
    publishes the same stamps. The app does the same by itself when the file is writable.
    PATHS (several schedules, e.g. from a pre-commit hook) replace --schedule.
    """
    for path in paths or [schedule_path]:
        _stamp(path)


def _stamp(schedule_path) -> None:
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
@click.option(
    "--max-age", default=3600, show_default=True, help="Cache-Control max-age, in seconds."
)
@click.option(
    "--url",
    help="The public https address the site will be served from, with its path if any "
    "(e.g. https://owner.github.io/repo). Default: $FEED_PUBLIC_URL, else calendar.url.",
)
def build(schedule_path, outdir, max_age, url):
    """Write the whole site as static files into OUTDIR, for any static host.

    The page, the widget (embed.html), join.html, sessions.json, next.json, next.ics, every
    feed (each series, each tag, with cancelled weeks, expanded in UTC) byte-identical to the
    app's, and the .ics of every session any of them links to. What depends on the date is
    as of the build, and the page updates itself in the browser: rebuild daily. OUTDIR also
    gets _headers (Netlify, Cloudflare Pages) and nginx.conf with the headers the app sends.
    A rebuild replaces each file in one step and removes files no longer part of the site.

    \b
    Example:
        feed build public/ --url https://cloud2030.org
    """
    import tempfile

    from .build import ExportError, export
    from .web import normal_public_url, now, public_url_of

    _require_schedule(schedule_path)
    _require_valid(schedule_path)
    override = url or os.environ.get("FEED_PUBLIC_URL")
    try:
        override = normal_public_url(override) if override else None
    except ValueError as error:
        raise click.ClickException(f"--url: {error}") from None
    with tempfile.TemporaryDirectory(prefix="feed-build-") as state:
        # The schedule as it is now: read at once (no settling, no watcher), into a store of
        # its own, so no version published earlier by an app stands in for it.
        config = {
            "SCHEDULE": str(Path(schedule_path).resolve()),
            "WRITE_STAMPS": False,
            "STATE_DIR": state,
            "SETTLE_SECONDS": 0,
            "CHECK_INTERVAL": 0,
            "MAX_AGE": max_age,
        }
        app = create_app({**config, "PUBLIC_URL": override or ""})
        schedule = app.extensions["feed.publisher"].current().schedule
        try:
            base = public_url_of(schedule, override)
        except ValueError as error:
            raise click.ClickException(f"calendar.url: {error}") from None
        if not base:
            raise click.ClickException(
                "no public address: pass --url https://... (the address the site will be "
                "served from, with its path), or set calendar.url in the schedule; every link "
                "in the site is built from it"
            )
        app.config["PUBLIC_URL"] = base
        with app.app_context():
            instant = now().timestamp()
        try:
            written = export(app, outdir, instant)
        except (ExportError, OSError) as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{outdir}: the site for {base}/, {len(written)} file(s) written")


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


# The organizer's edit commands (feed add, cancel, move, restore, remove) register themselves.
from . import edit_commands  # noqa: E402, F401
