"""The JSON Schema of schedule.yaml and the key reference in the docs: both generated from the
field declarations, both committed, and both kept in step with the validator.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import ROOT, SCHEDULES
from jsonschema.exceptions import best_match

from feed.cli import cli
from feed.schedule import check, fields, reference, yamlread
from feed.schedule.jsonschema import dumps, schema

COMMITTED = ROOT / "schedule.schema.json"
DOCS = ROOT / "docs" / "schedule-format.md"
VALIDATOR = jsonschema.Draft202012Validator(schema())
DURATION = fields.DURATION_TEXT["pattern"]


def as_data(path_or_text) -> object:
    """The document as the file says it: every scalar the text typed, or None when empty.

    yaml.safe_load would turn `starts: 2024-01-02` into a date and `at: 11:00` into 660, which
    no schema of text can match; our own reader's tree keeps what the organizer wrote.
    """
    text = path_or_text.read_bytes() if hasattr(path_or_text, "read_bytes") else path_or_text
    tree, problems = yamlread.read(text, "schedule.yaml")
    assert tree is not None, problems
    return yamlread.plain(tree)


def schema_errors(data) -> list[str]:
    """What an editor would say: for a value that fits none of its shapes (a session is a topic
    or a mapping), the closest shape's complaint."""
    return sorted(best_match([e]).message for e in VALIDATOR.iter_errors(data))


def test_committed_schema_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == dumps(), (
        "schedule.schema.json is stale: run `feed schema > schedule.schema.json`"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(dumps()))


def test_feed_schema_prints_it():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == COMMITTED.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(fields.MAPPINGS))
def test_each_mapping_has_exactly_the_declared_keys(name):
    _, declared = fields.MAPPINGS[name]
    found = schema() if name == "schedule" else schema()["$defs"][name]
    assert list(found["properties"]) == [f.name for f in declared]
    assert found["additionalProperties"] is False
    assert found.get("required", []) == [f.name for f in declared if f.required]
    for spec in declared:
        assert found["properties"][spec.name]["description"] == spec.help


VALID = sorted(
    [ROOT / "schedule.yaml", SCHEDULES / "small.yaml"]
    + [p for p in (SCHEDULES / "diff").glob("*.yaml") if p.stem != "invalid"]
)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_schedules_validate(path):
    assert check(path.read_bytes()).ok
    assert schema_errors(as_data(path)) == []


def test_a_misspelt_session_key_fails():
    """An editor underlines `topc:` as it is typed, like `feed check` reports it."""
    text = (SCHEDULES / "small.yaml").read_text().replace("topic: Thin", "topc: Thin")
    assert schema_errors(as_data(text)) == [
        "Additional properties are not allowed ('topc' was unexpected)"
    ]


def test_the_readme_example_of_a_broken_file_fails_too():
    """tests/schedules/readme_check.yaml is the README's broken example; its `topc:` is caught."""
    errors = schema_errors(as_data(SCHEDULES / "readme_check.yaml"))
    assert "Additional properties are not allowed ('topc' was unexpected)" in errors


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('at: "11:00"', "at: 11:00", []),
        ('at: "11:00"', "at: eleven", ["'eleven' does not match '^\\\\d{1,2}:\\\\d{2}$'"]),
        ("duration: 1h", "duration: 90m", []),
        ("duration: 1h", "duration: PT1H30M", []),
        ("duration: 1h", "duration: 90", ["'90' does not match " + repr(DURATION)]),
    ],
)
def test_times_and_durations_are_text(old, new, expected):
    """`at: 11:00` is the text 11:00 (not YAML 1.1's 660); a duration needs its unit."""
    text = (SCHEDULES / "small.yaml").read_text().replace(old, new)
    assert schema_errors(as_data(text)) == expected


def test_a_weekly_series_needs_its_time_and_first_session():
    text = (SCHEDULES / "small.yaml").read_text().replace("    starts: 2026-01-06\n", "")
    assert schema_errors(as_data(text)) == ["'starts' is a dependency of 'every'"]


def test_docs_key_reference_is_current():
    assert reference.section(DOCS.read_text(encoding="utf-8")) == reference.markdown(), (
        "the key reference in docs/schedule-format.md is stale: run "
        "`python -m feed.schedule.reference` to regenerate it"
    )


def test_the_site_serves_it_for_editors_anywhere(client):
    """`/schedule.schema.json` is the committed schema, cacheable and readable from any origin
    (editors in the browser, such as github.dev, fetch it cross-origin)."""
    response = client.get("/schedule.schema.json")
    assert response.status_code == 200
    assert response.data == COMMITTED.read_bytes()
    assert response.headers["Content-Type"] == "application/schema+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/schedule.schema.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
