"""/sessions.json and /next: the expanded sessions for scripts and widgets.

The clock is pinned with the NOW setting (2026-03-01, a Sunday, before the sessions of
tests/schedules/small.yaml), so "today" and "next" are known.
"""

from __future__ import annotations

import json
import textwrap

import icalendar
import pytest

from feed import jsonfeed
from feed.schedule import SESSION_DETAILS


def sessions(client, query=""):
    response = client.get("/sessions.json" + query)
    assert response.status_code == 200, response.data
    return response.get_json()


def test_default_form_is_a_year_from_today_with_headers(client):
    response = client.get("/sessions.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["query"] == {
        "from": "2026-03-01",
        "to": "2027-03-01",
        "series": None,
        "tag": None,
        "limit": 500,
    }
    assert data["calendar"] == {
        "name": "Example Community Meeting",
        "description": "Weekly round table; everyone welcome.",
        "timezone": "America/Los_Angeles",
        "feed": "http://localhost/calendar.ics",
        "page": "http://localhost/",
    }
    keys = [s["key"] for s in data["sessions"]]
    assert keys[:6] == [
        "weekly/2026-03-03",
        "weekly/2026-03-10",
        "weekly/2026-03-17",
        "weekly/2026-03-24",
        "weekly/2026-03-31",
        "weekly/2026-04-07",
    ]
    assert "conferences/2026-06-01" in keys
    assert "weekly/2026-02-24" not in keys  # before "from"
    assert data["count"] == len(keys) == 54  # 52 Tuesdays from 03-03 to 2027-02-23, 2 events
    assert data["truncated"] is False


def test_moved_session_is_complete(client):
    found = {s["key"]: s for s in sessions(client)["sessions"]}
    assert found["weekly/2026-03-10"] == {
        "key": "weekly/2026-03-10",
        "series": {"id": "weekly", "title": "Community Meeting"},
        "date": "2026-03-11",
        "all_day": False,
        "start": {"utc": "2026-03-11T21:00:00Z", "local": "2026-03-11T14:00:00-07:00"},
        "end": {"utc": "2026-03-11T22:00:00Z", "local": "2026-03-11T15:00:00-07:00"},
        "timezone": "America/Los_Angeles",
        "title": "Community Meeting: Moved to Wednesday afternoon",
        "topic": "Moved to Wednesday afternoon",
        "agenda": [],
        "notes": [],
        "speaker": None,
        "url": None,
        "recording": None,
        "slides": None,
        "tags": [],
        "status": "confirmed",
        "cancelled_reason": None,
        "moved": True,
        "regular_date": "2026-03-10",
        "join": "https://zoom.example.org/j/123?pwd=a,b;c",
        "ics": "http://localhost/sessions/weekly/2026-03-10.ics",
    }


def test_cancelled_agenda_tags_all_day_and_dst(client):
    found = {s["key"]: s for s in sessions(client)["sessions"]}
    cancelled = found["weekly/2026-03-03"]
    assert (cancelled["status"], cancelled["cancelled_reason"]) == ("cancelled", "Conference week")
    assert cancelled["join"] is None  # nobody should join a cancelled week
    # Before the 2026-03-08 DST change 11:00 Pacific is 19:00Z, after it 18:00Z.
    assert cancelled["start"] == {
        "utc": "2026-03-03T19:00:00Z",
        "local": "2026-03-03T11:00:00-08:00",
    }
    thin = found["weekly/2026-03-17"]
    assert thin["start"] == {"utc": "2026-03-17T18:00:00Z", "local": "2026-03-17T11:00:00-07:00"}
    assert thin["agenda"] == [
        {"text": "K3os", "items": []},
        {
            "text": "Photon",
            "items": [{"text": "Sub item one", "items": []}, {"text": "Sub item two", "items": []}],
        },
        {"text": "Flatcar", "items": []},
        {"text": "Talos", "items": []},
    ]
    assert thin["notes"] == ["US election day"]
    assert thin["tags"] == [{"id": "platform-engineering", "name": "Platform Engineering Topic"}]
    lisa = found["conferences/2026-06-01"]
    assert (lisa["all_day"], lisa["start"], lisa["end"]) == (
        True,
        {"date": "2026-06-01"},
        {"date": "2026-06-03"},  # the last day, inclusive
    )
    assert lisa["url"] == "https://www.usenix.org/"
    assert lisa["title"] == "LISA by Usenix"


def test_every_session_detail_is_a_key_null_when_not_given(make_app, small_schedule):
    detailed = (
        "2026-06-09: {topic: One-day summit}",
        "2026-06-09: {topic: One-day summit, speaker: Ada, slides: https://example.org/s.pdf}",
    )
    client = make_app(small_schedule(None, detailed)).test_client()
    found = {s["key"]: s for s in sessions(client)["sessions"]}
    summit = found["conferences/2026-06-09"]
    assert {d.name: summit[d.name] for d in SESSION_DETAILS} == {
        "speaker": "Ada",
        "url": None,
        "recording": None,
        "slides": "https://example.org/s.pdf",
    }
    assert all(found["weekly/2026-03-31"][d.name] is None for d in SESSION_DETAILS)


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("?series=conferences", ["conferences/2026-06-01", "conferences/2026-06-09"]),
        ("?tag=platform-engineering", ["weekly/2026-03-17"]),
        ("?from=2026-02-20&to=2026-03-05", ["weekly/2026-02-24", "weekly/2026-03-03"]),
        # A moved session counts on the day it really happens.
        ("?from=2026-03-11&to=2026-03-11", ["weekly/2026-03-10"]),
        ("?from=2026-03-10&to=2026-03-10", []),
        (
            "?series=weekly,conferences&from=2026-05-30&to=2026-06-09",
            [
                "weekly/2026-06-02",
                "conferences/2026-06-01",
                "weekly/2026-06-09",
                "conferences/2026-06-09",
            ],
        ),
    ],
)
def test_filters(client, query, keys):
    assert sorted(s["key"] for s in sessions(client, query)["sessions"]) == sorted(keys)


def test_limit_truncates(client):
    data = sessions(client, "?limit=2")
    assert [s["key"] for s in data["sessions"]] == ["weekly/2026-03-03", "weekly/2026-03-10"]
    assert (data["count"], data["truncated"], data["query"]["limit"]) == (2, True, 2)


def test_explicit_to_before_today_default_from(client):
    response = client.get("/sessions.json?to=2026-02-01")
    assert response.status_code == 400
    assert response.data == b"400 Bad Request: to=2026-02-01 is before from=2026-03-01.\n"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2026-3-1", "from='2026-3-1' is not a date; use from=YYYY-MM-DD, e.g. 2026-03-10."),
        ("?to=tomorrow", "to='tomorrow' is not a date; use to=YYYY-MM-DD, e.g. 2026-03-10."),
        ("?from=2026-02-30", "from='2026-02-30' is not a valid date; check the month and day."),
        (
            "?from=1900-01-01",
            "from='1900-01-01' is out of range; use a year from 1970 to 2200.",
        ),
        ("?from=2026-03-10&to=2026-03-09", "to=2026-03-09 is before from=2026-03-10."),
        (
            "?from=2026-01-01&to=2029-01-04",
            "from=2026-01-01 to=2029-01-04 is more than 1098 days (3 years); "
            "ask for a shorter range.",
        ),
        ("?limit=0", "limit='0' is not valid; use a whole number from 1 to 500."),
        ("?limit=501", "limit='501' is not valid; use a whole number from 1 to 500."),
        ("?limit=-1", "limit='-1' is not valid; use a whole number from 1 to 500."),
        ("?limit=ten", "limit='ten' is not valid; use a whole number from 1 to 500."),
        (
            "?series=nope",
            "series='nope' is not a known series; known series: weekly, conferences.",
        ),
        (
            "?series=weekly,",
            "series='' is not a known series; known series: weekly, conferences.",
        ),
        (
            "?tag=nope",
            "tag='nope' is not a known tag; known tags: platform-engineering.",
        ),
        ("?form=2026-01-01", "Unknown parameter 'form'; use from, to, series, tag or limit."),
    ],
)
def test_bad_parameters_name_the_valid_form(client, query, message):
    response = client.get("/sessions.json" + query)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.data.decode() == f"400 Bad Request: {message}\n"


def test_largest_range_and_limit_are_accepted(client):
    data = sessions(client, "?from=2026-01-01&to=2029-01-03&limit=500")
    assert data["query"]["to"] == "2029-01-03"
    assert data["count"] == 159  # every Tuesday of the three years, and the two events


def test_bytes_are_deterministic_with_sorted_keys(client):
    first = client.get("/sessions.json?limit=5")
    second = client.get("/sessions.json?limit=5")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    text = first.data.decode()
    assert text == json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert "Grüße aus Köln – 東京 🎉" in text  # UTF-8 as is, not \u escapes


def test_conditional_get(client):
    etag = client.get("/sessions.json").headers["ETag"]
    assert client.get("/sessions.json", headers={"If-None-Match": etag}).status_code == 304


def test_default_form_renders_once_per_day(app, client, monkeypatch):
    calls = []
    real = jsonfeed.render

    def counting(*args, **kwargs):
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(jsonfeed, "render", counting)
    client.get("/sessions.json")
    client.get("/sessions.json")
    assert len(calls) == 1
    client.get("/sessions.json?limit=3")
    client.get("/sessions.json?limit=3")
    assert len(calls) == 3  # other forms are not kept: they vary too much
    app.config["NOW"] = "2026-03-02T12:00:00Z"
    assert client.get("/sessions.json").get_json()["query"]["from"] == "2026-03-02"
    assert len(calls) == 4


def test_last_modified_is_not_before_today(app, client):
    # The schedule file was just written, so a pinned "now" years ahead is after its edit.
    app.config["NOW"] = "2030-01-01T12:00:00Z"
    response = client.get("/sessions.json")
    # Midnight in Los Angeles: the default form changes every day, an old copy must not match.
    assert response.headers["Last-Modified"] == "Tue, 01 Jan 2030 08:00:00 GMT"


def test_public_url_comes_from_calendar_url(make_app, small_schedule):
    path = small_schedule(
        None,
        ("  domain: example.org\n", "  domain: example.org\n  url: https://meet.example.org/\n"),
    )
    client = make_app(path).test_client()
    data = client.get("/sessions.json?limit=1", headers={"Host": "other.example"}).get_json()
    assert data["calendar"]["feed"] == "https://meet.example.org/calendar.ics"
    assert data["sessions"][0]["ics"] == "https://meet.example.org/sessions/weekly/2026-03-03.ics"


# -- /next ---------------------------------------------------------------------------------------


def test_next_skips_cancelled_weeks(client):
    for path in ("/next", "/next.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        # A minute at most; less when the state changes sooner.
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert "Last-Modified" not in response.headers
        data = response.get_json()
        assert data["key"] == "weekly/2026-03-10"  # 03-03 is cancelled
        assert (data["state"], data["live"]) == ("next", False)
        assert data["start"]["utc"] == "2026-03-11T21:00:00Z"


@pytest.mark.parametrize(
    ("now", "key"),
    [
        ("2026-03-11T21:59:59Z", "weekly/2026-03-10"),  # still running
        ("2026-03-11T22:00:00Z", "weekly/2026-03-17"),  # ended
        ("2026-05-26T19:00:00Z", "conferences/2026-06-01"),  # after 05-26 ends: LISA (all day)
    ],
)
def test_next_follows_the_clock(app, client, now, key):
    app.config["NOW"] = now
    assert client.get("/next").get_json()["key"] == key


def test_next_ics(client):
    response = client.get("/next.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    event = icalendar.Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert str(event["UID"]) == "weekly-20260310@example.org"
    assert event["DTSTART"].dt.isoformat() == "2026-03-11T14:00:00-07:00"
    assert str(event["SUMMARY"]) == "Community Meeting: Moved to Wednesday afternoon"


def test_next_404_when_nothing_is_coming(make_app, small_schedule):
    path = small_schedule(
        textwrap.dedent(
            """\
            calendar: {name: Ended, timezone: America/Los_Angeles}
            series:
              weekly:
                title: Old meeting
                every: tuesday
                at: "11:00"
                starts: 2025-01-07
                ends: 2025-02-25
            """
        )
    )
    client = make_app(path).test_client()
    for route in ("/next", "/next.json", "/next.ics"):
        response = client.get(route)
        assert response.status_code == 404
        assert response.data == b"404 Not Found: No upcoming session in the next 366 days.\n"
