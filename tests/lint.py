"""A structural lint of a feed: the rules real clients need (evidence: docs/clients.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import icalendar
from dateutil.rrule import rrulestr


def lint(body: bytes) -> list[str]:
    """Every rule the feed breaks, as readable sentences; empty when the feed is clean."""
    problems = []
    if not body.endswith(b"\r\n"):
        problems.append("the feed does not end with CRLF")
    if re.search(rb"(?<!\r)\n", body):
        problems.append("a line ends in a bare LF")
    for number, line in enumerate(body.split(b"\r\n"), 1):
        if len(line) > 75:
            problems.append(f"line {number} is {len(line)} octets long")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {number} is not valid UTF-8 on its own (split character)")
    if body.count(b"BEGIN:VCALENDAR") != 1:
        problems.append("there must be exactly one VCALENDAR")
    cal = icalendar.Calendar.from_ical(body)
    for component in cal.walk():
        for error in getattr(component, "errors", []):
            problems.append(f"icalendar could not parse {component.name}: {error}")
    if cal.get("METHOD") not in (None, "PUBLISH"):
        problems.append(f"METHOD is {cal.get('METHOD')}")
    for key in ("PRODID", "VERSION"):
        if key not in cal:
            problems.append(f"{key} is missing")
    for key in ("NAME", "X-WR-CALNAME"):
        if re.search(r"[,;\\]", str(cal.get(key, ""))):
            problems.append(f"{key} contains , ; or \\")
    zones = Counter(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE"))
    problems += [f"{tzid} has {n} VTIMEZONEs" for tzid, n in zones.items() if n > 1]
    for tz in cal.walk("VTIMEZONE"):
        kinds = Counter(c.name for c in tz.subcomponents)
        if kinds["STANDARD"] > 1 or kinds["DAYLIGHT"] > 1:
            problems.append(f"{tz['TZID']} is not compact: {dict(kinds)}")
        if any("RDATE" in c for c in tz.subcomponents):
            problems.append(f"{tz['TZID']} lists RDATEs instead of a yearly rule")
    masters: dict[str, icalendar.Event] = {}
    seen = set()
    events = list(cal.walk("VEVENT"))
    for event in events:
        uid = str(event.get("UID", ""))
        if not uid:
            problems.append("a VEVENT has no UID")
        if "DTSTAMP" not in event or not _is_utc(event["DTSTAMP"].dt):
            problems.append(f"{uid}: DTSTAMP missing or not UTC")
        if "ATTENDEE" in event:
            problems.append(f"{uid}: has an ATTENDEE")
        for prop in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            value = event.get(prop)
            if value is not None and "TZID" in value.params and value.params["TZID"] not in zones:
                problems.append(f"{uid}: {prop} TZID {value.params['TZID']} has no VTIMEZONE")
        rid = event.get("RECURRENCE-ID")
        key = (uid, rid.to_ical() if rid is not None else None)
        if key in seen:
            problems.append(f"{uid}: two VEVENTs for {key[1]}")
        seen.add(key)
        if rid is None:
            masters[uid] = event
    for event in events:
        rid = event.get("RECURRENCE-ID")
        if rid is None:
            continue
        uid = str(event["UID"])
        master = masters.get(uid)
        if master is None:
            problems.append(f"{uid}: override {rid.to_ical()} has no master")
            continue
        if events.index(master) > events.index(event):
            problems.append(f"{uid}: override written before its master")
        start = master["DTSTART"]
        if rid.params.get("TZID") != start.params.get("TZID") or type(rid.dt) is not type(start.dt):
            problems.append(f"{uid}: RECURRENCE-ID {rid.to_ical()} not written like DTSTART")
        excluded = {e.dt for x in _list(master.get("EXDATE")) for e in x.dts}
        if rid.dt in excluded:
            problems.append(f"{uid}: {rid.dt} is both excluded and overridden")
        if not _instance_of(master, rid.dt):
            problems.append(f"{uid}: RECURRENCE-ID {rid.dt} is not an instance of its master")
    for master in masters.values():
        start = master["DTSTART"]
        for exdate in _list(master.get("EXDATE")):
            if exdate.params.get("TZID") != start.params.get("TZID"):
                problems.append(f"{master['UID']}: EXDATE not written like DTSTART")
            for value in exdate.dts:
                if type(value.dt) is not type(start.dt):
                    problems.append(f"{master['UID']}: EXDATE value type differs from DTSTART")
    return problems


def _is_utc(value) -> bool:
    return isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0)


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _instance_of(master, when) -> bool:
    start = master["DTSTART"].dt
    if type(when) is not type(start):
        return False
    if when == start:
        return True
    if any(when == r.dt for x in _list(master.get("RDATE")) for r in x.dts):
        return True
    if "RRULE" not in master:
        return False
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    return when in rule.between(
        when - dt.timedelta(minutes=1), when + dt.timedelta(minutes=1), inc=True
    )
