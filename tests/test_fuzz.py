"""Every route, any path segment, any parameter, any method: never a 5xx, always a plain answer.

Paths are the app's own routes with arbitrary text (and arbitrary percent-encoded bytes) in
their variable parts, or arbitrary paths; queries use each route's parameter names and others,
with arbitrary values. Derandomized and bounded, so every run tries the same requests.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARAMETERS = ["from", "to", "series", "tag", "limit", "cancelled", "expand", "x", ""]
METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
# Values that mean something somewhere, and their near misses.
KNOWN = [
    "2026-03-10",
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "1",
    "20",
    "500",
    "501",
    "0",
    "-1",
    "²",
    "١",
    "１",
    "1e3",
    " 1",
    "1\n",
    "weekly",
    "conferences",
    "weekly,conferences",
    "platform-engineering",
    "show",
    "hide",
    "utc",
    "9" * 5000,
]

text = st.text(st.characters(exclude_categories=()), max_size=12)
raw = st.binary(max_size=8).map(lambda b: "".join(f"%{x:02X}" for x in b))
segment = st.sampled_from(KNOWN) | text.map(lambda t: quote(t, safe="")) | raw
value = st.sampled_from(KNOWN) | text


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    """The app on tests/schedules/small.yaml, and each of its routes as a path template."""
    from conftest import NOW, SCHEDULES

    from feed import create_app

    home = tmp_path_factory.mktemp("fuzz")
    path = home / "schedule.yaml"
    path.write_bytes((SCHEDULES / "small.yaml").read_bytes())
    app = create_app(
        {
            "SCHEDULE": str(path),
            "SETTLE_SECONDS": 0,
            "CHECK_INTERVAL": 0,
            "TESTING": True,
            "NOW": NOW,
        }
    )
    templates = sorted(
        {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()}
    )
    return app, templates


def fill(template: str, parts: list[str]) -> str:
    names = re.findall(r"{([^}]+)}", template)
    for name, part in zip(names, parts + [""] * len(names), strict=False):
        template = template.replace("{" + name + "}", part, 1)
    return template


def assert_plain_answer(app, method: str, url: str) -> None:
    response = app.test_client().open(url, method=method)
    assert response.status_code < 500, (method, url, response.status_code)
    if response.status_code >= 400 and method != "HEAD":
        assert response.content_type.startswith("text/plain"), (method, url)
        body = response.get_data(as_text=True)
        assert body.endswith("\n") and body.count("\n") == 1, (method, url, body)
        assert body.startswith(f"{response.status_code} "), (method, url, body)
    if response.status_code == 405:
        assert response.headers.get("Allow"), (method, url)


@settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    choice=st.integers(0, 10_000),
    parts=st.lists(segment, max_size=3),
    query=st.lists(st.tuples(st.sampled_from(PARAMETERS) | text, value), max_size=4),
    method=st.sampled_from(METHODS),
    anywhere=st.booleans(),
)
def test_no_request_gets_a_5xx_or_a_non_plain_error(routes, choice, parts, query, method, anywhere):
    app, templates = routes
    if anywhere:
        path = "/" + "/".join(parts)
    else:
        path = fill(templates[choice % len(templates)], parts)
    pairs = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    assert_plain_answer(app, method, path + ("?" + pairs if pairs else ""))


def test_every_route_answers_its_own_hostile_parameters(routes):
    """Each route with each known hostile value in each parameter, exhaustively."""
    app, templates = routes
    for template in templates:
        for name in PARAMETERS:
            for known in KNOWN:
                url = fill(template, ["weekly", "2026-03-10.ics"]) + f"?{name}={quote(known)}"
                assert_plain_answer(app, "GET", url)
