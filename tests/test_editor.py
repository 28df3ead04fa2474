"""Editors know the schedule: the real yaml-language-server (what VS Code's YAML extension and
JetBrains run) reads schedule.schema.json through the modeline at the top of schedule.yaml,
then flags typos on their line, completes keys and explains them."""

from __future__ import annotations

import shutil
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "lsp"))
from client import SERVER, LanguageServer  # noqa: E402

pytestmark = pytest.mark.skipif(
    not SERVER.exists(), reason="yaml-language-server is not installed: run tests/run"
)

MODELINE = "# yaml-language-server: $schema=schedule.schema.json\n"
SESSION = "      2024-01-16:\n        topic: eBPF\n"


@pytest.fixture
def editor(tmp_path):
    shutil.copy(ROOT / "schedule.schema.json", tmp_path)
    server = LanguageServer(tmp_path)
    yield server, tmp_path
    server.close()


def open_document(server, folder, name: str, text: str) -> str:
    uri = (folder / name).as_uri()
    (folder / name).write_text(text)
    document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
    server.notify("textDocument/didOpen", {"textDocument": document})
    return uri


def change(server, uri: str, text: str, version: int) -> None:
    server.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )


def test_the_bundled_schedule_names_its_schema_and_has_no_diagnostics_until_a_typo(editor):
    server, folder = editor
    text = (ROOT / "schedule.yaml").read_text()
    assert text.startswith(MODELINE)
    uri = open_document(server, folder, "schedule.yaml", text)
    assert server.diagnostics(uri) == []
    line = "        topic: Secure Development Practices\n"
    assert line in text
    change(server, uri, text.replace(line, line.replace("topic", "topc")), 2)
    (typo,) = server.diagnostics(uri)
    row = text[: text.index(line)].count("\n")
    assert typo["range"]["start"] == {"line": row, "character": 8}
    assert typo["message"] == "Property topc is not allowed."


def test_completion_inside_a_session_offers_the_session_keys(editor):
    server, folder = editor
    text = (ROOT / "tests" / "schedules" / "small.yaml").read_text()
    anchor = text.index("    sessions:\n") + len("    sessions:\n")
    text = MODELINE + text[:anchor] + SESSION + "        \n" + text[anchor:]
    uri = open_document(server, folder, "schedule.yaml", text)
    server.diagnostics(uri)  # the schema is loaded
    row = text[: text.index(SESSION)].count("\n") + 2
    found = server.request(
        "textDocument/completion",
        {"textDocument": {"uri": uri}, "position": {"line": row, "character": 8}},
    )
    labels = {item["label"] for item in (found["items"] if isinstance(found, dict) else found)}
    assert {"agenda", "notes", "speaker", "slides", "cancelled", "moved"} <= labels
    assert "topic" not in labels  # already given


def test_hovering_a_key_shows_its_help_from_the_declarations(editor):
    server, folder = editor
    text = (ROOT / "tests" / "schedules" / "small.yaml").read_text()
    anchor = text.index("    sessions:\n") + len("    sessions:\n")
    session = SESSION + "        slides: https://example.org/ebpf.pdf\n"
    text = MODELINE + text[:anchor] + session + text[anchor:]
    uri = open_document(server, folder, "schedule.yaml", text)
    assert server.diagnostics(uri) == []
    row = text[: text.index("        slides:")].count("\n")
    found = server.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": row, "character": 10}},
    )
    assert "An https link to the session's slides." in str(found["contents"])


def test_a_schedule_kept_elsewhere_names_the_schema_the_site_serves(tmp_path):
    """An organizer whose schedule.yaml lives outside this repository points the modeline at
    the site's /schedule.schema.json: the editor fetches it from the running app."""
    from servers import app_server

    shutil.copy(ROOT / "schedule.yaml", tmp_path / "served.yaml")
    with app_server(tmp_path / "served.yaml", workers=1) as base:
        server = LanguageServer(tmp_path)  # no schedule.schema.json in this folder
        try:
            text = (ROOT / "schedule.yaml").read_text()
            text = text.replace(
                MODELINE, MODELINE.replace("schedule.schema.json", base + "/schedule.schema.json")
            )
            line = "        topic: Secure Development Practices\n"
            text = text.replace(line, line.replace("topic", "topc"))
            uri = open_document(server, tmp_path, "schedule.yaml", text)
            (typo,) = server.diagnostics(uri)
            assert typo["message"] == "Property topc is not allowed."
        finally:
            server.close()
