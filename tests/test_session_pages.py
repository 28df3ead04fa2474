"""A page per session, /sessions/<series>/<YYYY-MM-DD>: what it shows, its link-preview tags,
and its schema.org Event data, read back by a real structured-data parser (extruct)."""

from __future__ import annotations

import datetime as dt

import extruct
import pytest
from test_site import Elements, page

EVENT = "https://schema.org/"
# What search engines require of an Event, and what an online one needs besides.
REQUIRED = ("name", "startDate", "location")
ONLINE = ("endDate", "eventAttendanceMode", "eventStatus", "description", "organizer", "url")


def event_of(html: str, url: str) -> dict:
    data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "opengraph"], uniform=True)
    (event,) = data["json-ld"]
    return event, data["opengraph"]


def test_a_session_page_parses_as_an_online_event(client):
    url = "http://localhost/sessions/weekly/2026-03-17"
    html, elements = page(client, "/sessions/weekly/2026-03-17")
    event, opengraph = event_of(html, url)
    assert event["@context"].rstrip("/") == EVENT.rstrip("/") and event["@type"] == "Event"
    for name in REQUIRED + ONLINE:
        assert event.get(name), name
    assert event["name"] == "Community Meeting: Thin O/Ses & Thin O/S Provisioning"
    assert dt.datetime.fromisoformat(event["startDate"]) == dt.datetime(
        2026, 3, 17, 18, tzinfo=dt.UTC
    )
    assert event["startDate"] == "2026-03-17T11:00:00-07:00"
    assert event["endDate"] == "2026-03-17T12:00:00-07:00"
    assert event["eventAttendanceMode"] == EVENT + "OnlineEventAttendanceMode"
    assert event["eventStatus"] == EVENT + "EventScheduled"
    assert event["location"] == {
        "@type": "VirtualLocation",
        "url": "https://zoom.example.org/j/123?pwd=a,b;c",
    }
    assert event["organizer"]["name"] == "Example Community Meeting"
    assert event["url"] == url
    assert "K3os" in event["description"]
    # Link previews: OpenGraph and Twitter card.
    (og,) = opengraph
    props = dict(og["properties"]) if "properties" in og else og
    assert props["og:title"] == event["name"]
    assert props["og:url"] == url
    assert props["og:description"].startswith("Tuesday 17 March 2026, 11:00–12:00 Pacific (UTC−7)")
    assert elements.find("meta", name="twitter:card", content="summary")
    assert elements.find("meta", name="twitter:title", content=event["name"])
    assert elements.find("link", rel="canonical", href=url)
    # The page itself: agenda, notes, join link, add to calendar three ways.
    assert "Sub item one" in html and "US election day" in html
    assert elements.find("a", href="https://zoom.example.org/j/123?pwd=a,b;c")
    hrefs = [a["href"] for a in elements.find("a")]
    assert "http://localhost/sessions/weekly/2026-03-17.ics" in hrefs
    assert any(
        h.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE") for h in hrefs
    )
    assert any(h.startswith("https://outlook.live.com/calendar/0/deeplink/compose?") for h in hrefs)
    (when,) = elements.find("time", **{"data-show": "long"})
    assert when["datetime"] == "2026-03-17T18:00:00Z"


def test_cancelled_and_rescheduled_sessions(client):
    html, _ = page(client, "/sessions/weekly/2026-03-03")
    event, _ = event_of(html, "http://localhost/sessions/weekly/2026-03-03")
    assert event["eventStatus"] == EVENT + "EventCancelled"
    assert event["location"]["url"] == "http://localhost/sessions/weekly/2026-03-03"
    assert "Conference week" in html and "Join the meeting" not in html
    assert "Add to calendar" not in html
    html, _ = page(client, "/sessions/weekly/2026-03-10")
    event, _ = event_of(html, "http://localhost/sessions/weekly/2026-03-10")
    assert event["eventStatus"] == EVENT + "EventRescheduled"
    assert event["startDate"] == "2026-03-11T14:00:00-07:00"
    assert event["previousStartDate"] == "2026-03-10T11:00:00-07:00"
    assert "Moved from its usual slot on Tuesday 10 March 2026." in html


def test_speaker_recording_and_slides(make_app, small_schedule):
    path = small_schedule(
        None,
        (
            "      2026-11-03: After the fall change\n",
            "      2026-11-03:\n"
            "        topic: After the fall change\n"
            "        speaker: Ada </script><b>\n"
            "        recording: https://example.org/rec\n"
            "        slides: https://example.org/slides\n",
        ),
    )
    client = make_app(path, NOW="2026-11-04T12:00:00Z").test_client()
    html, elements = page(client, "/sessions/weekly/2026-11-03")
    event, _ = event_of(html, "http://localhost/sessions/weekly/2026-11-03")
    assert event["performer"] == {"@type": "Person", "name": "Ada </script><b>"}
    assert "</script><b>" not in html  # escaped inside the JSON-LD, and in the page
    assert elements.find("a", href="https://example.org/rec")
    assert elements.find("a", href="https://example.org/slides")
    # Over: no join link, no "add to calendar".
    assert "Join the meeting" not in html and "This session is over" in html


def test_all_day_event_and_plain_week(client):
    html, _ = page(client, "/sessions/conferences/2026-06-01")
    event, _ = event_of(html, "http://localhost/sessions/conferences/2026-06-01")
    assert (event["startDate"], event["endDate"]) == ("2026-06-01", "2026-06-03")
    html, _ = page(client, "/sessions/weekly/2026-04-07")
    event, _ = event_of(html, "http://localhost/sessions/weekly/2026-04-07")
    assert event["name"] == "Community Meeting"


def test_the_page_lists_link_to_session_pages_and_the_ics_route_still_works(client):
    _, elements = page(client)
    hrefs = {a["href"] for a in elements.find("a")}
    assert "http://localhost/sessions/weekly/2026-03-17" in hrefs
    assert "http://localhost/sessions/weekly/2026-02-24" in hrefs  # the archive too
    response = client.get("/sessions/weekly/2026-03-17.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    embed = Elements(client.get("/embed").data.decode())
    assert embed.find("a", href="http://localhost/sessions/weekly/2026-03-17", target="_blank")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sessions/weekly/2026-03-11", 404),
        ("/sessions/nope/2026-03-10", 404),
        ("/sessions/weekly/2026-3-10", 400),
        ("/sessions/weekly/2026-03-10.pdf", 400),
    ],
)
def test_session_page_errors(client, path, status):
    assert client.get(path).status_code == status


def test_session_page_headers(client):
    response = client.get("/sessions/weekly/2026-03-17")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "public, max-age=3600"
