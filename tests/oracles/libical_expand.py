#!/usr/bin/python3
"""Test oracle: expand an .ics file with libical 3 (Evolution's parser) through ICalGLib.

Usage: /usr/bin/python3 tests/oracles/libical_expand.py FILE.ics FROM TO
       /usr/bin/python3 tests/oracles/libical_expand.py --inspect FROM TO FILE.ics...

Run it with Debian's interpreter, not a venv: ICalGLib comes from the system packages
``python3-gi`` and ``gir1.2-ical-3.0``. FROM/TO are UTC instants (2026-01-01T00:00:00Z).
It prints the same JSON as tests/js/expand.mjs::

    {"occurrences": [{start, end, uid, summary, status, recurrence_id, alarms}, ...],
     "errors": [...]}

listing occurrences that START in [FROM, TO), sorted by (start, uid). Timed values are UTC
instants, all-day values YYYY-MM-DD; floating times count as UTC (libical's own reading).
``alarms`` are the sorted UTC instants at which the VALARMs of the component supplying the
occurrence fire (see ``alarm_instants``). ``errors`` holds libical's X-LIC-ERROR properties:
libical does not raise on bad input, it drops the bad property and leaves such a marker,
which tests must check for.

libical has no override handling of its own, so the merge is done here the way Evolution
does it: ``foreach_recurrence`` yields the master's slots (RRULE, RDATE, EXDATE applied),
and an override replaces the slot whose UTC instant equals its RECURRENCE-ID, whose TZID is
resolved through the calendar's VTIMEZONE. Overrides that match no slot are dropped.
With --inspect, many files are read in one run (a JSON list, one object per file), and each
object also has "components": every component in order with its properties as libical decodes
them (TEXT unescaped, anything else as written).
Exit status: 0 with JSON (even for a broken feed), 2 for a bad command line, 3 when
ICalGLib is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

try:
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib as I  # noqa: E741
except (ImportError, ValueError) as exc:
    sys.stderr.write(
        f"libical_expand.py: ICalGLib 3.0 is not importable by {sys.executable} ({exc}); "
        "install it with: apt-get install -y python3-gi gir1.2-ical-3.0\n"
    )
    sys.exit(3)

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UTC = I.Timezone.get_utc_timezone()
# Widens the foreach_recurrence range: it selects by overlap, and we filter by start.
MARGIN = 2 * 86400


def parse_instant(text: str) -> int:
    """Epoch seconds of a `YYYY-MM-DDTHH:MM:SSZ` command-line argument."""
    if not INSTANT.match(text):
        sys.stderr.write(f"libical_expand.py: not a UTC instant (2026-01-01T00:00:00Z): {text}\n")
        sys.exit(2)
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def children(comp, kind) -> list:
    """Snapshot of sub-components: libical's iterator is shared per parent, so never nest it."""
    out, child = [], comp.get_first_component(kind)
    while child is not None:
        out.append(child)
        child = comp.get_next_component(kind)
    return out


def properties(comp, kind) -> list:
    out, prop = [], comp.get_first_property(kind)
    while prop is not None:
        out.append(prop)
        prop = comp.get_next_property(kind)
    return out


def lic_errors(comp, path: str = "") -> list[str]:
    """All X-LIC-ERROR markers in the tree, with the component path they sit in."""
    here = f"{path}/{I.Component.kind_to_string(comp.isa())}"
    uid = comp.get_uid() if comp.isa() == I.ComponentKind.VEVENT_COMPONENT else None
    label = f"{here}[{uid}]" if uid else here
    markers = properties(comp, I.PropertyKind.XLICERROR_PROPERTY)
    found = [f"{label}: {p.get_xlicerror()}" for p in markers]
    for child in children(comp, I.ComponentKind.ANY_COMPONENT):
        found += lic_errors(child, here)
    return found


def epoch(time, zone=None) -> int:
    """Epoch seconds; a time without a zone (floating, or a date) is read as UTC."""
    return time.as_timet_with_zone(zone if zone is not None else time.get_timezone())


def stamp_epoch(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(time, zone=None) -> str:
    if time.is_date():
        return f"{time.get_year():04d}-{time.get_month():02d}-{time.get_day():02d}"
    return stamp_epoch(epoch(time, zone))


def prop_text(comp, kind) -> str:
    prop = comp.get_first_property(kind)
    if prop is None:
        return ""
    # The typed getters (get_status) raise on unknown or absent values; the string never does.
    return prop.get_value_as_string() or ""


def describe(comp) -> dict:
    """uid/summary/status of the component that supplies an occurrence (no inheritance)."""
    return {
        "uid": comp.get_uid() or "",
        "summary": comp.get_summary() or "",
        "status": prop_text(comp, I.PropertyKind.STATUS_PROPERTY).upper(),
    }


def alarm_instants(comp, span: tuple[str, str]) -> list[str]:
    """When each VALARM of ``comp`` fires for an occurrence spanning ``span``, sorted.

    libical parses TRIGGER into an ICalGLib.Trigger: a time (VALUE=DATE-TIME) or a duration,
    added in exact seconds to the occurrence's start, or end for RELATED=END (an all-day
    date counting as 00:00 UTC), as Evolution does. Unreadable triggers are left out.
    """
    found = []
    for valarm in children(comp, I.ComponentKind.VALARM_COMPONENT):
        prop = valarm.get_first_property(I.PropertyKind.TRIGGER_PROPERTY)
        if prop is None:
            continue
        trigger = prop.get_trigger()
        if trigger.is_bad_trigger():
            continue
        moment = trigger.get_time()
        if not moment.is_null_time():
            found.append(stamp(moment))
            continue
        related = prop.get_first_parameter(I.ParameterKind.RELATED_PARAMETER)
        at_end = related is not None and related.get_related() == I.ParameterRelated.END
        anchor = window_epoch(span[1] if at_end else span[0])
        found.append(stamp_epoch(anchor + trigger.get_duration().as_int()))
    return sorted(found)


def row(comp, span: tuple[str, str], recurrence_id: str) -> dict:
    """One output occurrence; text fields and alarms come from ``comp`` only (no inheritance)."""
    return {
        "start": span[0],
        "end": span[1],
        **describe(comp),
        "recurrence_id": recurrence_id,
        "alarms": alarm_instants(comp, span),
    }


def start_end(comp) -> tuple[str, str] | None:
    """The component's own DTSTART/DTEND; a missing end defaults as RFC 5545 §3.6.1 says."""
    start = comp.get_dtstart()
    if start.is_null_time():
        return None
    end = comp.get_dtend()
    if end.is_null_time():
        end = start.clone()
        if start.is_date():
            end.adjust(1, 0, 0, 0)
    return stamp(start), stamp(end)


def recurrence_id_epoch(cal, comp) -> int | None:
    """UTC instant of RECURRENCE-ID, its TZID resolved through the calendar's VTIMEZONE."""
    prop = comp.get_first_property(I.PropertyKind.RECURRENCEID_PROPERTY)
    if prop is None:
        return None
    value = prop.get_recurrenceid()  # carries no zone of its own
    tzid = prop.get_parameter_as_string("TZID")
    zone = cal.get_timezone(tzid) if tzid else None
    if tzid and zone is None:
        # No VTIMEZONE: fall back the way libical resolves DTSTART (built-in zones).
        value = prop.get_datetime_with_component(cal)
        zone = value.get_timezone()
    if value.is_utc():
        zone = UTC
    return epoch(value, zone)


def is_recurring(comp) -> bool:
    return any(
        comp.get_first_property(kind) is not None
        for kind in (I.PropertyKind.RRULE_PROPERTY, I.PropertyKind.RDATE_PROPERTY)
    )


def expand_calendar(cal, start: int, end: int) -> list[dict]:
    events = children(cal, I.ComponentKind.VEVENT_COMPONENT)
    rid_kind = I.PropertyKind.RECURRENCEID_PROPERTY
    masters = [e for e in events if e.get_first_property(rid_kind) is None]
    overrides: dict[tuple[str, int], object] = {}
    for event in events:
        rid = recurrence_id_epoch(cal, event)
        if rid is not None:
            overrides.setdefault((event.get_uid() or "", rid), event)

    found = []
    for master in masters:
        uid = master.get_uid() or ""
        if not is_recurring(master):
            span = start_end(master)
            if span is not None:
                found.append(row(master, span, ""))
            continue
        dtstart = master.get_dtstart()
        if dtstart.is_null_time():
            continue  # libical already left an X-LIC-ERROR for the unusable DTSTART
        # Reach every slot an override might have moved into the window from.
        rids = [rid for (o_uid, rid) in overrides if o_uid == uid]
        lo = min([start, *rids]) - MARGIN
        hi = max([end, *rids]) + MARGIN
        slots: list[tuple[int, int]] = []
        master.foreach_recurrence(
            I.Time.new_from_timet_with_zone(lo, 0, UTC),
            I.Time.new_from_timet_with_zone(hi, 0, UTC),
            lambda _comp, span, found_slots: found_slots.append((span.get_start(), span.get_end())),
            slots,
        )
        all_day = dtstart.is_date()
        length_days = 1
        if all_day and not master.get_dtend().is_null_time():
            length_days = (epoch(master.get_dtend()) - epoch(dtstart)) // 86400
        for slot_start, slot_end in sorted(slots):
            if all_day:
                day = dt.datetime.fromtimestamp(slot_start, dt.UTC).date()
                rid_text = day.isoformat()
                span = (rid_text, (day + dt.timedelta(days=length_days)).isoformat())
            else:
                rid_text = stamp_epoch(slot_start)
                span = (rid_text, stamp_epoch(slot_end))
            source = overrides.get((uid, slot_start), master)
            if source is not master:
                span = start_end(source)
            if span is not None:
                found.append(row(source, span, rid_text))
    return [o for o in found if start <= window_epoch(o["start"]) < end]


def window_epoch(value: str) -> int:
    """Epoch seconds of an output value; an all-day date counts from 00:00 UTC."""
    if len(value) == 10:
        return int(dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).timestamp())
    return int(dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def property_values(prop) -> list[str]:
    """A property's value as libical decodes it: TEXT unescaped, anything else as written.
    (Kinds newer than the GObject binding's enums raise on isa(): those count as written.)"""
    value = prop.get_value()
    try:
        text = value is not None and value.isa() == I.ValueKind.TEXT_VALUE
    except ValueError:
        text = False
    if text:
        return [value.get_text() or ""]
    return [prop.get_value_as_string() or ""]


def property_name(prop) -> str:
    return prop.get_property_name() or "?"


def inspect_components(comp) -> list:
    """Every component in order, with its properties as libical decodes them."""
    found = [
        [
            I.Component.kind_to_string(comp.isa()),
            [
                [property_name(p), property_values(p)]
                for p in properties(comp, I.PropertyKind.ANY_PROPERTY)
            ],
        ]
    ]
    for child in children(comp, I.ComponentKind.ANY_COMPONENT):
        found += inspect_components(child)
    return found


def main(argv: list[str]) -> int:
    # --inspect FROM TO FILE...: many files in one run, each with its components too.
    if argv[:1] == ["--inspect"] and len(argv) >= 3:
        start, end = parse_instant(argv[1]), parse_instant(argv[2])
        results = [expand_file(path, start, end, inspect=True) for path in argv[3:]]
        json.dump(results, sys.stdout)
        sys.stdout.write("\n")
        return 0
    if len(argv) != 3:
        sys.stderr.write("usage: libical_expand.py FILE.ics FROM TO\n")
        return 2
    path, start, end = argv[0], parse_instant(argv[1]), parse_instant(argv[2])
    json.dump(expand_file(path, start, end), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def expand_file(path: str, start: int, end: int, inspect: bool = False) -> dict:
    with open(path, "rb") as handle:
        raw = handle.read()
    errors: list[str] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(f"not valid UTF-8: {exc}")
        text = raw.decode("utf-8", errors="replace")
    occurrences: list[dict] = []
    components: list = []
    root = I.Component.new_from_string(text)
    if root is None:
        errors.append("libical could not parse the file at all")
    else:
        errors += lic_errors(root)
        if inspect:
            components = inspect_components(root)
        if root.isa() == I.ComponentKind.VCALENDAR_COMPONENT:
            calendars = [root]
        else:
            calendars = children(root, I.ComponentKind.VCALENDAR_COMPONENT)
            errors.append(
                f"expected one VCALENDAR, found {len(calendars)} under "
                f"{I.Component.kind_to_string(root.isa())}"
            )
        for cal in calendars:
            occurrences += expand_calendar(cal, start, end)
    occurrences.sort(key=lambda o: (o["start"], o["uid"]))
    result = {"occurrences": occurrences, "errors": errors}
    if inspect:
        result["components"] = components
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
