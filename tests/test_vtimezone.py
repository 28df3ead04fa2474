"""The VTIMEZONE we write must give the zone's real UTC offset at every instant of the feed.

The offsets are computed from the VTIMEZONE text alone, the way a client without a time-zone
database does (Outlook, ical.js in web widgets), and compared with the IANA database.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo

import pytest
from dateutil.rrule import rrulestr

from feed import vtimezone

ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "America/Sao_Paulo",  # abolished DST in 2019: rules with an end
    "Asia/Tokyo",  # no DST at all
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30
]


def offsets_from_vtimezone(component) -> list[tuple[dt.datetime, dt.timedelta]]:
    """(UTC onset, offset from then on), expanded from DTSTART/RRULE like a client does."""
    onsets = []
    first_from = None
    for sub in component.subcomponents:
        start = sub["DTSTART"].dt
        before, after = sub["TZOFFSETFROM"].td, sub["TZOFFSETTO"].td
        if first_from is None or start < first_from[0]:
            first_from = (start, before)
        if "RRULE" in sub:
            text = sub["RRULE"].to_ical().decode()
            locals_ = list(
                rrulestr(text, dtstart=start, ignoretz=False).between(
                    start, dt.datetime(2045, 1, 1), inc=True
                )
            )
        else:
            locals_ = [start]
        onsets += [((local - before).replace(tzinfo=dt.UTC), after) for local in locals_]
    onsets.sort()
    return [(dt.datetime(1900, 1, 1, tzinfo=dt.UTC), first_from[1]), *onsets]


@pytest.mark.parametrize("name", ZONES)
def test_offsets_match_the_iana_database_every_hour(name):
    component = vtimezone.component(name, 2021, 2027)
    table = offsets_from_vtimezone(component)
    onsets = [onset for onset, _ in table]
    zone = zoneinfo.ZoneInfo(name)
    instant = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    wrong = []
    while instant < dt.datetime(2031, 1, 1, tzinfo=dt.UTC):
        expected = table[max(bisect.bisect_right(onsets, instant) - 1, 0)][1]
        if expected != instant.astimezone(zone).utcoffset():
            wrong.append(instant)
        instant += dt.timedelta(hours=1)
    assert wrong == []


@pytest.mark.parametrize("name", ZONES)
def test_compact_one_rule_of_each_kind_where_the_rules_are_stable(name):
    component = vtimezone.component(name, 2021, 2027)
    kinds = [sub.name for sub in component.subcomponents]
    if name == "America/Sao_Paulo":
        return  # its rules changed in 2019, inside the range asked for
    assert kinds.count("STANDARD") <= 1 and kinds.count("DAYLIGHT") <= 1
    assert all("RDATE" not in sub for sub in component.subcomponents)


def test_los_angeles_is_the_two_us_rules_since_2007():
    text = vtimezone.component("America/Los_Angeles", 2021, 2024).to_ical().decode()
    assert text.replace("\r\n", "\n") == (
        "BEGIN:VTIMEZONE\n"
        "TZID:America/Los_Angeles\n"
        "BEGIN:DAYLIGHT\n"
        "DTSTART:20070311T020000\n"
        "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\n"
        "TZNAME:PDT\n"
        "TZOFFSETFROM:-0800\n"
        "TZOFFSETTO:-0700\n"
        "END:DAYLIGHT\n"
        "BEGIN:STANDARD\n"
        "DTSTART:20071104T020000\n"
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\n"
        "TZNAME:PST\n"
        "TZOFFSETFROM:-0700\n"
        "TZOFFSETTO:-0800\n"
        "END:STANDARD\n"
        "END:VTIMEZONE\n"
    )
