"""A link checker for the static export: every href, src and address in every exported HTML
and JSON file resolves to a file of the export (or to another https site), for the bundled
schedule and for an edited one rebuilt into the same folder. It does not share code with the
build's own crawler, so a mistake in one is caught by the other."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

from click.testing import CliRunner
from conftest import NOW

from feed.cli import cli

ROOT = Path(__file__).resolve().parent.parent
URL = "https://owner.github.io/meetings"  # a project site: every link must keep the path
ADDRESS = re.compile(r"(?:https?|webcal)://[^\s\"'<>\\]+")


class Page(HTMLParser):
    """The addresses of an HTML page (attributes, meta refresh, text) and its element ids."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)
        # Addresses written as text: the short link, the embed and FullCalendar snippets.
        self.links += ADDRESS.findall(html.unescape(re.sub(r"<[^>]*>", " ", text)))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src", "data-sessions", "action"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "meta" and "url=" in (attrs.get("content") or ""):
            self.links.append(attrs["content"].split("url=", 1)[1])


def json_links(value) -> list[str]:
    if isinstance(value, dict):
        return [link for item in value.values() for link in json_links(item)]
    if isinstance(value, list):
        return [link for item in value for link in json_links(item)]
    return ADDRESS.findall(value) if isinstance(value, str) else []


def nested(url: str) -> list[str]:
    """Addresses inside a query (Google's cid=webcal://..., Outlook's url=https://...)."""
    return [v for _, v in parse_qsl(urlsplit(url).query) if ADDRESS.fullmatch(v)]


def check(out: Path, base: str) -> tuple[int, list[str]]:
    """(links checked, broken links) of every exported HTML and JSON file."""
    root = urlsplit(base)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    pages = {p: Page((out / p).read_text()) for p in files if p.endswith(".html")}
    documents = {p: page.links for p, page in pages.items()}
    documents |= {
        p: json_links(json.loads((out / p).read_text())) for p in files if p.endswith(".json")
    }
    checked, broken = 0, []
    for document, links in sorted(documents.items()):
        todo = list(links)
        while todo:
            link = todo.pop()
            todo += nested(link)
            checked += 1
            where = f"{document}: {link}"
            address = urljoin(f"{base}/{document}", link)
            parts = urlsplit(address.replace("webcal://", "https://", 1))
            if (parts.scheme, parts.netloc) != (root.scheme, root.netloc):
                if parts.scheme != "https":
                    broken.append(f"{where} (not https)")
                continue
            if not (parts.path + "/").startswith(root.path + "/"):
                broken.append(f"{where} (outside {base})")
                continue
            path = parts.path[len(root.path) :].lstrip("/")
            path = path + "index.html" if path == "" or path.endswith("/") else path
            if path not in files or path.startswith(".") or path in ("_headers", "nginx.conf"):
                broken.append(f"{where} (no file {path})")
            elif parts.query and not (
                path == "embed.html" and re.fullmatch(r"limit=\d+", parts.query)
            ):
                broken.append(f"{where} (a static host ignores the query)")
            elif parts.fragment and parts.fragment not in pages.get(path, Page("")).ids:
                broken.append(f"{where} (no element #{parts.fragment} in {path})")
    return checked, broken


def build(schedule: Path, out: Path, monkeypatch) -> None:
    monkeypatch.setenv("FEED_NOW", NOW)
    args = ["build", str(out), "--schedule", str(schedule), "--url", URL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


FUTURE_SESSIONS = """\
      2026-03-03: {cancelled: Conference week}
      2026-03-10:
        topic: Platform teams in practice
        tags: [platform-engineering]
        agenda: [Golden paths, [Templates]]
        slides: https://example.org/slides
      2026-03-17: {moved: 2026-03-18, topic: Moved to Wednesday}
      2026-05-05: {topic: A session far ahead, tags: [chaos]}
"""


def edited(text: str) -> str:
    """Ordinary edits: future sessions (one cancelled, one moved, one with a new tag), a new
    series of one-off events, and the series of events of interest removed."""
    text = text.replace(
        "    technical-ops: Technical Ops Series\n",
        "    technical-ops: Technical Ops Series\n    chaos: Chaos Engineering\n",
        1,
    )
    marker = "    join: https://us02web.zoom.us/j/86216295721\n    sessions:\n"
    assert marker in text
    text = text.replace(marker, marker + FUTURE_SESSIONS, 1)
    text = text[: text.index("  events-of-interest:")]
    return text + (
        "  workshops:\n"
        "    title: Workshops\n"
        "    sessions:\n"
        '      2026-04-02: {topic: Hands-on GitOps, at: "09:00", duration: 3h}\n'
        "      2026-06-15: {topic: Summit, ends: 2026-06-17, url: https://example.org/summit}\n"
    )


def test_every_link_of_the_bundled_and_an_edited_export_resolves(tmp_path, monkeypatch):
    out = tmp_path / "public"
    schedule = tmp_path / "site" / "schedule.yaml"
    schedule.parent.mkdir()
    schedule.write_text((ROOT / "schedule.yaml").read_text())
    build(schedule, out, monkeypatch)
    checked, broken = check(out, URL)
    assert broken == []
    assert checked > 150, checked
    first = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert "series/events-of-interest.ics" in first

    schedule.write_text(edited(schedule.read_text()))
    build(schedule, out, monkeypatch)
    checked, broken = check(out, URL)
    assert broken == []
    assert checked > 150, checked
    files = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert not [p for p in files if "events-of-interest" in p]
    for path in (
        "tags/chaos.ics",
        "expanded/with-cancelled/tags/chaos.ics",
        "series/workshops.ics",
        "sessions/workshops/2026-04-02.ics",
        "sessions/devops-lunch-and-learn/2026-03-10.ics",
        "sessions/devops-lunch-and-learn/2026-03-24.ics",  # a plain week sessions.json lists
    ):
        assert path in files, path
    page = (out / "index.html").read_text()
    assert "Platform teams in practice" in page and f"{URL}/tags/chaos.ics" in page


def test_the_checker_finds_broken_links(tmp_path, monkeypatch):
    """The checker is not blind: a removed file, a query form and a wrong host are reported."""
    out = tmp_path / "public"
    build(ROOT / "tests" / "schedules" / "small.yaml", out, monkeypatch)
    assert check(out, URL)[1] == []
    (out / "tags" / "platform-engineering.ics").unlink()
    page = out / "index.html"
    page.write_text(
        page.read_text().replace(
            "</main>",
            f'<a href="{URL}/calendar.ics?tag=x">q</a><a href="http://x.example/">h</a>'
            f'<a href="#nowhere">f</a><img src="/other/qr.svg"></main>',
        )
    )
    broken = check(out, URL)[1]
    assert any("tags/platform-engineering.ics (no file" in b for b in broken)
    assert any("calendar.ics?tag=x (a static host ignores the query)" in b for b in broken)
    assert any("http://x.example/ (not https)" in b for b in broken)
    assert any("#nowhere (no element #nowhere" in b for b in broken)
    assert any("/other/qr.svg (outside" in b for b in broken)
