"""Compact VTIMEZONE components: one STANDARD and one DAYLIGHT rule in RRULE form.

icalendar's ``add_missing_timezones()`` writes a list of dated transitions, which Outlook maps to
the wrong Windows zone and ical.js misreads (11:00 Pacific shown at 12:00 half the year). We
derive the yearly rule from the zone's real transitions instead: consecutive years whose
transition falls on the same month, weekday, week and local time become one sub-component with
an RRULE, so America/Los_Angeles comes out as the two rules in force since 2007.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EARLIEST_YEAR = 1970


@dataclass(frozen=True)
class Transition:
    utc: dt.datetime
    local: dt.datetime  # wall-clock time just before the change (RFC 5545: in TZOFFSETFROM)
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    dst: bool

    @property
    def rule(self) -> tuple:
        """What stays the same from year to year when a yearly rule is in force."""
        day = self.local.day
        last_day = calendar.monthrange(self.local.year, self.local.month)[1]
        week = -1 if day > last_day - 7 else (day - 1) // 7 + 1
        return (
            self.local.month,
            self.local.weekday(),
            week,
            self.local.time(),
            self.offset_from,
            self.offset_to,
            self.name,
            self.dst,
        )


def component(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for tzid, correct for every date from first_year to last_year and beyond
    (the last rule repeats without end, as the zone's current rules do)."""
    zone = zoneinfo.ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("TZID", tzid)
    groups = _groups(zone, first_year, last_year)
    continuing = {id(g): _continues(zone, g) for g in groups}
    if not groups:
        offset = zone.utcoffset(dt.datetime(first_year, 1, 1))
        standard = TimezoneStandard()
        standard.add("DTSTART", dt.datetime(EARLIEST_YEAR, 1, 1))
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("TZNAME", zone.tzname(dt.datetime(first_year, 1, 1)) or tzid)
        timezone.add_component(standard)
        return timezone
    for index, group in enumerate(groups):
        first = group[0]
        sub = TimezoneDaylight() if first.dst else TimezoneStandard()
        sub.add("DTSTART", first.local)
        continues = continuing[id(group)]
        if len(group) > 1 or continues:
            month, weekday, week = first.rule[:3]
            recur = {"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": f"{week}{DAY_CODES[weekday]}"}
            if _later_group_same_kind(groups, index) or not continues:
                recur["UNTIL"] = group[-1].utc.replace(tzinfo=dt.UTC)
            sub.add("RRULE", recur)
        sub.add("TZOFFSETFROM", first.offset_from)
        sub.add("TZOFFSETTO", first.offset_to)
        sub.add("TZNAME", first.name)
        timezone.add_component(sub)
    return timezone


def _later_group_same_kind(groups, index) -> bool:
    return any(g[0].dst == groups[index][0].dst for g in groups[index + 1 :])


def _continues(zone, group) -> bool:
    """Whether a rule seen in the last scanned year still holds the year after."""
    nxt = _transitions(zone, group[-1].local.year + 1)
    return any(t.rule == group[-1].rule for t in nxt)


@cache
def _groups(zone, first_year: int, last_year: int) -> tuple[tuple[Transition, ...], ...]:
    """Transitions from first_year to last_year grouped into runs that share one yearly rule.

    Runs in force at first_year are extended back to the year their rule began, so the
    DTSTART of each sub-component is the rule's true first use (2007 for US zones)."""
    by_kind: dict[bool, list[list[Transition]]] = {}
    for year in range(first_year, last_year + 1):
        for transition in _transitions(zone, year):
            runs = by_kind.setdefault(transition.dst, [])
            if runs and runs[-1][-1].rule == transition.rule:
                runs[-1].append(transition)
            else:
                runs.append([transition])
    for runs in by_kind.values():
        run = runs[0]
        year = run[0].local.year - 1
        while year >= EARLIEST_YEAR:
            earlier = [t for t in _transitions(zone, year) if t.rule == run[0].rule]
            if not earlier:
                break
            run.insert(0, earlier[0])
            year -= 1
    groups = [tuple(run) for runs in by_kind.values() for run in runs]
    groups.sort(key=lambda g: g[0].utc)
    return tuple(groups)


@cache
def _transitions(zone: zoneinfo.ZoneInfo, year: int) -> tuple[Transition, ...]:
    """The zone's UTC-offset changes during a year, found by scanning days then bisecting."""
    found = []
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(days=1)
    minute = dt.timedelta(minutes=1)
    here = start
    offset = here.astimezone(zone).utcoffset()
    while here < end:
        nxt = here + step
        next_offset = nxt.astimezone(zone).utcoffset()
        if next_offset != offset:
            low, high = 0, 24 * 60  # minutes after `here`; the change lies in (low, high]
            while high - low > 1:
                mid = (low + high) // 2
                if (here + mid * minute).astimezone(zone).utcoffset() == offset:
                    low = mid
                else:
                    high = mid
            high = here + high * minute
            after = high.astimezone(zone)
            found.append(
                Transition(
                    utc=high.replace(tzinfo=None),
                    local=(high + offset).replace(tzinfo=None),
                    offset_from=offset,
                    offset_to=next_offset,
                    name=after.tzname() or "",
                    dst=bool(after.dst()),
                )
            )
            offset = next_offset
        here = nxt
    return tuple(found)
