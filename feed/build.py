"""Static export: the app's site as files any static host or CDN can serve.

Every file is what the app answers, fetched through its own routes as of the build, with the
app in static mode (:class:`feed.links.Site`): the page and the widget link to file names
(``embed.html``, ``join.html``, ``tags/<tag>.ics``) instead of routes and query strings, which
static hosts ignore, and compute in the browser what depends on the clock. The feeds are
byte-identical to the app's (same ETag). The export is crawled: every link of every exported
page and data file under the public address is exported too, and a link the app cannot answer
stops the build, so the site has no broken link.

Beside the files go header rules the host cannot guess, taken from the app's own responses: a
``_headers`` file (Netlify, Cloudflare Pages) and an ``nginx.conf`` snippet, which also answers
the app's query forms (``?tag=``, ``?cancelled=show``, ``?expand=utc``), ``/embed``, ``/next``
and ``/join`` from the files.

A rebuild is atomic per file (written beside it, then renamed over it, so a reader never sees a
partial or empty file) and exact (files of the previous build that are no longer part of the
site are removed; the list is kept in ``.feed-export``). Nothing is written outside OUTDIR:
directories are opened without following symbolic links, and a link in the way is replaced.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from flask import Flask

from .links import EMBED_DEFAULT, Site, feed_variants
from .plan import ALARMS

MANIFEST = ".feed-export"
RULE_FILES = ("_headers", "nginx.conf")
# What a static host derives from the file itself or adds with its own compression.
HOST_MADE = {
    "etag",
    "last-modified",
    "content-length",
    "vary",
    "content-encoding",
    "date",
    "accept-ranges",
}
# Files whose app route has another name: the page is the folder's index, the widget a file.
ROUTE_OF = {"index.html": "/", "embed.html": f"/embed?limit={EMBED_DEFAULT}"}
# The site's entry points; everything else is found from their links.
ROOTS = (
    "index.html",
    "embed.html",
    "join.html",
    "sessions.json",
    "next.json",
    "next.ics",
    "qr.svg",
    "robots.txt",
    "schedule.schema.json",
)
OPTIONAL = {"next.json", "next.ics"}  # 404 when no session is coming: then not exported
MAX_FILES = 50_000  # a bound on the crawl; a schedule is at most 1 MiB


class ExportError(Exception):
    """The site cannot be exported as it stands (a link the app does not answer, OUTDIR...)."""


@dataclass(frozen=True)
class File:
    """One exported file: its bytes, modification time and the headers the app sent."""

    body: bytes
    mtime: float
    headers: tuple[tuple[str, str], ...]

    @property
    def content_type(self) -> str:
        return dict(self.headers)["Content-Type"]


# -- crawling the app -----------------------------------------------------------------------------


class _References(HTMLParser):
    """Every href, src and data-* address of an HTML document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name in ("href", "src") or name == "data-sessions"):
                self.found.append(value)
            elif value and name == "content" and "url=" in value:  # meta refresh
                self.found.append(value.split("url=", 1)[1])


def references(file: File, base: str) -> set[str]:
    """The addresses a file links to, as written (absolute or relative)."""
    text = file.body.decode("utf-8", errors="replace")
    found: set[str] = set()
    if file.content_type.startswith("text/html"):
        parser = _References()
        parser.feed(text)
        found.update(parser.found)
    elif file.content_type.startswith("application/json"):
        found.update(s for s in _strings(json.loads(text)) if "://" in s)  # links are absolute
    else:
        return found
    # Addresses inside text too: the embed and FullCalendar snippets, the short link.
    found.update(re.findall(re.escape(base) + r"/[^\s\"'<>&]*", text))
    return found


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def site_path(reference: str, document: str, site: Site) -> str | None:
    """The export's file a reference names (relative to the export), or None when it is not
    part of the site. A query is kept: a static host would ignore it (see :func:`crawl`)."""
    address = urljoin(site.url("/" + document), reference)
    parts = urlsplit(address)
    root = urlsplit(site.base)
    if (parts.scheme, parts.netloc) != (root.scheme, root.netloc):
        return None
    if not (parts.path + "/").startswith(site.root + "/"):
        return None
    path = parts.path[len(site.root) :].lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return path + (f"?{parts.query}" if parts.query else "")


def crawl(app: Flask, site: Site, now: float, extra: Iterable[str] = ()) -> dict[str, File]:
    """Every file of the site: the roots, every feed variant, ``extra`` paths, and whatever
    any exported page or data file links to under the site's address."""
    schedule = app.extensions["feed.publisher"].current().schedule
    client = app.test_client()
    pending = list(ROOTS) + [v.path.lstrip("/") for v in feed_variants(schedule)] + list(extra)
    files: dict[str, File] = {}
    while pending:
        path = pending.pop()
        if path in files:
            continue
        if len(files) >= MAX_FILES:
            raise ExportError(f"more than {MAX_FILES} files: stopping")
        with client.get(ROUTE_OF.get(path, "/" + path), base_url=site.base) as response:
            if response.status_code != 200:
                if path in OPTIONAL and response.status_code == 404:
                    continue
                first = response.get_data(as_text=True).strip().splitlines()[:1]
                raise ExportError(f"/{path}: the app answers {response.status_code} {first}")
            files[path] = file = _file(response, now)
        for reference in references(file, site.base):
            target = site_path(reference, path, site)
            if target is None:
                continue
            name, _, query = target.partition("?")
            if query and not (name == "embed.html" and re.fullmatch(r"limit=\d+", query)):
                raise ExportError(
                    f"/{path} links to {reference}: a static host would ignore its query"
                )
            if name not in files:
                pending.append(name)
    return files


def _file(response, now: float) -> File:
    """The app's response as a file. Its mtime is the Last-Modified the app sends, so hosts
    that derive Last-Modified from the file send the same; /next.json sends none (it changes
    when a session ends, not with the schedule): the build's time."""
    sent = response.headers.get("Last-Modified")
    mtime = parsedate_to_datetime(sent).timestamp() if sent else now
    kept = [(k, v) for k, v in response.headers.items() if k.lower() not in HOST_MADE]
    kept.sort(key=lambda header: header[0] != "Content-Type")  # first, as rules show it
    return File(response.get_data(), mtime, tuple(kept))


def session_files(app: Flask) -> list[str]:
    """The .ics and the page of every session schedule.yaml names, past ones too: links to
    them, once given out, keep working."""
    schedule = app.extensions["feed.publisher"].current().schedule
    return [
        f"sessions/{s.id}/{e.date.isoformat()}{suffix}"
        for s in schedule.series
        for e in s.sessions
        for suffix in (".ics", ".html")
    ]


# -- header rules ---------------------------------------------------------------------------------


def netlify_headers(files: dict[str, File], site: Site) -> str:
    """``_headers`` for Netlify and Cloudflare Pages: one exact-path rule per file."""
    blocks = []
    for path, file in sorted(files.items()):
        lines = [site.local("/" + path)] + [f"  {k}: {v}" for k, v in file.headers]
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n"


def _nginx_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def nginx_conf(files: dict[str, File], site: Site, schedule, join: tuple[str, tuple] | None) -> str:
    """An nginx snippet for a ``server`` block whose ``root`` serves the export at the site's
    path: each file with the app's headers, and the app's other forms of the same addresses."""
    local = site.local
    out = [
        "# Generated by `feed build`: include it in a server block whose root serves this folder",
        f"# at {local('/')}. nginx adds ETag (from size and mtime) and Last-Modified (the files'",
        "# mtime, set to when each document last changed) and answers conditional requests.",
        "#",
        "# The app's query forms of the feeds are answered from the files that hold them:",
        "# ?expand=utc is expanded/..., ?cancelled=show is with-cancelled/..., ?alarm=A is",
        "# alarm-A/..., ?tag=T is tags/T.ics.",
        'set $feed_variant "";',
        'if ($arg_expand = "utc") { set $feed_variant "/expanded"; }',
        'if ($arg_cancelled = "show") { set $feed_variant "${feed_variant}/with-cancelled"; }',
        f'if ($arg_alarm ~ "^({"|".join(ALARMS)})$") {{',
        '    set $feed_variant "/alarm-${arg_alarm}${feed_variant}";',
        "}",
        f"location = {local('/embed')} {{ rewrite ^ {local('/embed.html')} last; }}",
        f"location = {local('/next')} {{ rewrite ^ {local('/next.json')}? last; }}",
    ]
    if join is not None:
        url, headers = join
        out.append(f"location = {local('/join')} {{")
        out += [f"    add_header {k} {_nginx_quote(v)} always;" for k, v in headers]
        out.append(f"    return 302 {_nginx_quote(url)};")
        out.append("}")
    plain = {"calendar.ics"} | {f"series/{s.id}.ics" for s in schedule.series}
    variant = local("") + "$feed_variant/"  # nginx sets $feed_variant at request time
    for path, file in sorted(files.items()):
        out.append(f"location = {local('/' + path)} {{")
        if path == "calendar.ics":
            tags = variant + "tags/$arg_tag.ics"
            out.append(f'    if ($arg_tag ~ "^[a-z0-9-]+$") {{ rewrite ^ {tags}? last; }}')
        if path in plain:
            if path != "calendar.ics":
                out.append("    if ($arg_tag) { return 404; }  # not exported: see the README")
            out.append(f"    if ($feed_variant) {{ rewrite ^ {variant}{path}? last; }}")
        out.append("    types { }")
        out.append(f"    default_type {_nginx_quote(file.content_type)};")
        out += [
            f"    add_header {k} {_nginx_quote(v)} always;"
            for k, v in file.headers
            if k != "Content-Type"
        ]
        out.append("}")
    return "\n".join(out) + "\n"


# -- writing --------------------------------------------------------------------------------------


class Folder:
    """OUTDIR, written through directory descriptors opened without following symbolic links,
    so no link inside it (planted, or left by anything) leads a write elsewhere."""

    FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        self.root = root

    def close(self) -> None:
        os.close(self.fd)

    def _directory(self, parts: list[str], create: bool) -> int | None:
        """A descriptor of the folder at parts (the caller closes it), or None."""
        fd = os.dup(self.fd)
        for name in parts:
            try:
                child = os.open(name, self.FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    return None
                os.mkdir(name, 0o755, dir_fd=fd)
                child = os.open(name, self.FLAGS, dir_fd=fd)
            except OSError as error:  # a symbolic link or a file where a folder goes
                if not create or error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    os.close(fd)
                    if create:
                        raise
                    return None
                os.unlink(name, dir_fd=fd)
                os.mkdir(name, 0o755, dir_fd=fd)
                child = os.open(name, self.FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        return fd

    def read(self, path: str) -> tuple[bytes, float] | None:
        """The bytes and mtime of a regular file at path, or None."""
        *parts, name = path.split("/")
        fd = self._directory(parts, create=False)
        if fd is None:
            return None
        try:
            file = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            info = os.fstat(file)
            if not stat.S_ISREG(info.st_mode):
                return None
            with os.fdopen(file, "rb") as stream:
                file = None
                return stream.read(), info.st_mtime
        finally:
            if file is not None:
                os.close(file)

    def write(self, path: str, body: bytes, mtime: float) -> None:
        """Replace path by body in one rename: readers see the old file or the new one."""
        *parts, name = path.split("/")
        fd = self._directory(parts, create=True)
        try:
            temporary = f".{name}.{secrets.token_hex(6)}.tmp"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            out = os.open(temporary, flags, 0o644, dir_fd=fd)
            try:
                with os.fdopen(out, "wb") as stream:
                    stream.write(body)
                    stream.flush()
                    os.fsync(stream.fileno())
                    os.utime(stream.fileno(), (mtime, mtime))
            except BaseException:
                os.unlink(temporary, dir_fd=fd)
                raise
            try:
                os.rename(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
            except IsADirectoryError:  # a folder of that name: a file replaces it
                shutil.rmtree(name, dir_fd=fd)
                os.rename(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
        finally:
            os.close(fd)

    def remove(self, path: str) -> None:
        """Remove the file (or link) at path, and the folders it leaves empty."""
        *parts, name = path.split("/")
        fd = self._directory(parts, create=False)
        if fd is None:
            return
        try:
            os.unlink(name, dir_fd=fd)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            pass
        finally:
            os.close(fd)
        while parts:
            name = parts.pop()
            fd = self._directory(parts, create=False)
            if fd is None:
                return
            try:
                os.rmdir(name, dir_fd=fd)
            except OSError:
                return
            finally:
                os.close(fd)


def previous_export(folder: Folder) -> set[str]:
    """The files the last build wrote; an error for a folder that holds something else."""
    found = folder.read(MANIFEST)
    if found is not None:
        return {line for line in found[0].decode().splitlines() if line}
    if any(folder.root.iterdir()):
        raise ExportError(
            f"{folder.root} is not empty and holds no {MANIFEST} (the list of a previous "
            "`feed build`): choose an empty or new folder, so no file of yours is overwritten "
            "or removed"
        )
    return set()


def write(outdir: str | os.PathLike, files: dict[str, bytes | File], now: float) -> list[Path]:
    """Write the files (a File keeps its mtime; bytes get now) into outdir, remove the files of
    the previous build that are gone, and record the list. Returns the paths written."""
    folder = Folder(Path(outdir))
    written = []
    try:
        before = previous_export(folder)
        for path, item in sorted(files.items()):
            body, mtime = (item.body, item.mtime) if isinstance(item, File) else (item, now)
            found = folder.read(path)
            if found is not None and found[0] == body:
                continue  # unchanged: keep its mtime, hence the host's ETag
            if found is not None and int(found[1]) >= int(mtime):
                # New bytes, same second: a later mtime, so hosts' ETags (size and mtime) change.
                mtime = int(found[1]) + 1
            folder.write(path, body, mtime)
            written.append(folder.root / path)
        for path in sorted(before - set(files)):
            folder.remove(path)
        folder.write(MANIFEST, "".join(p + "\n" for p in sorted(files)).encode(), now)
    finally:
        folder.close()
    return written


def export(app: Flask, outdir: str | os.PathLike, now: float) -> list[Path]:
    """Crawl the app (in static mode, at its public address) and write the site into outdir."""
    schedule = app.extensions["feed.publisher"].current().schedule
    site = Site(app.config["PUBLIC_URL"].rstrip("/"), static=True)
    app.config["STATIC_EXPORT"] = True
    files = crawl(app, site, now, session_files(app))
    join = _join(app, site)
    everything: dict[str, bytes | File] = dict(files)
    everything["_headers"] = netlify_headers(files, site).encode()
    everything["nginx.conf"] = nginx_conf(files, site, schedule, join).encode()
    return write(outdir, everything, now)


def _join(app: Flask, site: Site) -> tuple[str, tuple] | None:
    """/join as of the build: where it redirects, and the other headers the app sends."""
    response = app.test_client().get("/join", base_url=site.base)
    if response.status_code != 302:
        return None
    skip = HOST_MADE | {"location", "content-type"}
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in skip)
    return response.headers["Location"], headers
