"""Rules across fields, sessions and series: what no single value's reader can see.

Each rule reports its problems on the context and, where a value cannot be used, returns what
remains usable.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Sequence

from . import clock
from .fields import SERIES, Field
from .model import WEEKDAYS, Series, Session
from .reading import Context, shown
from .yamlread import Value

# -- keys that belong to the other kind of series ------------------------------------------

_MISPLACED = {  # (mapping, kind of the series) -> (message, hint) for a key of the other kind
    ("series", "one-off"): (
        "{name!r} applies to weekly series only",
        "add `every:` for a weekly series, or give each one-off event its own date under sessions",
    ),
    ("session", "one-off"): (
        "{name!r} applies to sessions of weekly series",
        "for a one-off event, change its date instead",
    ),
    ("session", "weekly"): (
        "{name!r} applies to one-off events only",
        "to change a weekly session's date or time, use `moved`",
    ),
}


def kind(weekly: bool) -> str:
    return "weekly" if weekly else "one-off"


def misplaced(
    ctx: Context,
    entries: dict[str, Value],
    key: str,
    fields: Sequence[Field],
    weekly: bool,
    mapping: str,
) -> None:
    """Keys given in the wrong kind of series, e.g. `starts` without `every`; ``mapping`` is
    "series" or "session"."""
    for spec in fields:
        if spec.applies_to not in (None, kind(weekly)) and spec.name in entries:
            message, hint = _MISPLACED[mapping, kind(weekly)]
            ctx.error(
                entries[spec.name], f"{key}.{spec.name}", message.format(name=spec.name), hint
            )


# -- a series ------------------------------------------------------------------------------

_NEEDED = {  # hints for the keys `every` needs
    "at": 'the start time, e.g. at: "11:00"',
    "starts": "the date of the first session, e.g. starts: 2021-05-18",
}


def weekly_series(
    ctx: Context, node: Value, entries: dict[str, Value], values: dict, key: str
) -> None:
    """A weekly series has a time and a first session on its weekday, and ends after it starts.

    A `starts` or `ends` that cannot be used is set to None in ``values``.
    """
    for name in next(f.needs for f in SERIES if f.name == "every"):
        if name not in entries:
            ctx.error(node, f"{key}.{name}", f"a weekly series needs {name!r}", _NEEDED[name])
    starts, ends, weekday = values.get("starts"), values.get("ends"), values.get("every")
    if starts and weekday is not None and starts.weekday() != weekday:
        ctx.error(
            entries["starts"],
            f"{key}.starts",
            f"{starts} is a {WEEKDAYS[starts.weekday()].title()}, but the series "
            f"meets on {WEEKDAYS[weekday].title()}s",
            f"did you mean {_next_weekday(starts, weekday)}?",
        )
        values["starts"] = starts = None
    if starts and ends and ends < starts:
        ctx.error(
            entries["ends"],
            f"{key}.ends",
            f"ends on {ends}, before it starts on {starts}",
            "the end date must be on or after the start date",
        )
        values["ends"] = None


# -- a session -----------------------------------------------------------------------------


def slot(ctx: Context, key_node: Value, date: dt.date, key: str, series: Series, moved: bool):
    """A weekly session is keyed by a date the series really meets on."""
    day = WEEKDAYS[series.weekday].title()
    if date.weekday() != series.weekday:
        nearest = _nearest_weekday(date, series.weekday)
        ctx.error(
            key_node,
            key,
            f"{date} is a {WEEKDAYS[date.weekday()].title()}, but the series meets on {day}s",
            f"did you mean {nearest}? If the session was moved to {date}, key it by "
            f"its regular date and add `moved: {date}`"
            if not moved
            else f"did you mean {nearest}? Key a moved session by its regular date",
        )
    elif date < series.starts:
        ctx.error(
            key_node,
            key,
            f"{date} is before the series starts on {series.starts}",
            "change the date, or move `starts` earlier",
        )
    elif series.ends and date > series.ends:
        ctx.error(
            key_node,
            key,
            f"{date} is after the series ends on {series.ends}",
            "change the date, or move `ends` later",
        )


def cancelled(
    ctx: Context, entries: dict[str, Value], key: str, date: dt.date, fields: Sequence[Field]
) -> None:
    """A cancelled session says why, and nothing about a meeting that does not take place."""
    for spec in fields:
        if spec.not_when_cancelled and spec.name in entries:
            name = spec.name  # "a topic", "an agenda", "slides"
            what = name if name.endswith("s") else ("an " if name[0] in "aeiou" else "a ") + name
            ctx.error(
                entries[spec.name],
                f"{key}.{spec.name}",
                f"a cancelled session cannot have {what}, "
                f"but {date} has {shown(entries[spec.name])}",
                f"remove `cancelled`, or move the {spec.name} to another date",
            )


def one_off_span(
    ctx: Context,
    entries: dict[str, Value],
    values: dict,
    date: dt.date,
    key: str,
    series: Series | None,
) -> None:
    """A one-off event ends after it starts; only an all-day event spans days, and only a timed
    one has a duration. An `ends` that cannot be used is set to None in ``values``.
    ``series`` is None when the series is unusable (its default time is then unknown)."""
    ends = values.get("ends")
    if ends is not None and ends < date:
        ctx.error(
            entries["ends"],
            f"{key}.ends",
            f"ends on {ends}, before it starts on {date}",
            "the last day must be on or after the first",
        )
        values["ends"] = ends = None
    start = values.get("at") or (series.at if series is not None else None)
    if ends is not None and ends > date and start is not None:
        # The feed would silently drop `ends`: a timed event lasts `duration`.
        ctx.error(
            entries["ends"],
            f"{key}.ends",
            f"a timed event cannot end on another day, but {date} starts at "
            f"{start:%H:%M} and ends on {ends}",
            "remove `at` for an all-day event over several days, "
            "or give a `duration` instead of `ends`",
        )
        values["ends"] = None
    if values.get("duration") and start is None and series is not None:
        ctx.error(
            entries["duration"],
            f"{key}.duration",
            f"an all-day event cannot have a duration, but {date} has {shown(entries['duration'])}",
            'give a start time with at: "HH:MM", or use `ends` for several days',
        )


def topic(
    ctx: Context, node: Value, entries: dict[str, Value], values: dict, date, key, weekly: bool
) -> None:
    """A session has a topic, unless it is cancelled or (weekly) only adds agenda, notes or a
    move."""
    if values.get("topic") is not None or "topic" in entries or values["cancelled"][0]:
        return
    if weekly and any(name in entries for name in ("agenda", "moved", "notes")):
        return
    ctx.error(
        node,
        key,
        f"{date} has no topic",
        "write `topic:`, or `cancelled: yes` for a week without a meeting",
    )


def moves(
    ctx: Context, series: Series, sessions: list[Session], moved_nodes: dict[dt.date, Value]
) -> None:
    """A session cannot be moved onto another session's regular, uncancelled slot, nor onto the
    time another session was moved to."""
    by_date = {s.date: s for s in sessions}
    taken: dict[dt.datetime, Session] = {}
    for session in sessions:
        if session.moved_to is None:
            continue
        target = session.moved_to
        other = by_date.get(target.date())
        clash = (
            target.date().weekday() == series.weekday
            and target.time() == series.at
            and series.starts <= target.date()
            and (series.ends is None or target.date() <= series.ends)
            and not (other and (other.cancelled or other.moved_to))
        )
        at = moved_nodes[session.date]
        key = f"series.{series.id}.sessions.{session.date}.moved"
        if clash:
            ctx.error(
                at,
                key,
                f"{target:%Y-%m-%d %H:%M} is the regular time of the {target.date()} session",
                "cancel or move that session first, or pick another time",
            )
        elif target in taken:
            ctx.error(
                at,
                key,
                f"{target:%Y-%m-%d %H:%M} is already taken by the {taken[target].date} session, "
                "moved there too",
                "pick another time",
            )
        taken[target] = session


# -- series side by side -------------------------------------------------------------------


def shared_slot(ctx: Context, key_node: Value, series: Series, slots: dict) -> None:
    """ical.js (FullCalendar, many web widgets) relates an override to any series that has
    an occurrence at the same local time, whatever its UID: two weekly series meeting on
    the same day at the same time would swap topics there."""
    other = slots.setdefault((series.weekday, series.at), series.id)
    if other != series.id:
        ctx.warn(
            key_node,
            f"series.{series.id}",
            f"{series.id} meets on {WEEKDAYS[series.weekday].title()}s at "
            f"{series.at:%H:%M}, like {other}",
            "web widgets built on ical.js, such as FullCalendar, may show one series' topics "
            "in the other; point them at /series/<id>.ics or ?expand=utc",
        )


def misfiled(ctx: Context, series: list[Series], keys: dict[str, dict[dt.date, Value]]) -> None:
    """An entry of a list of one-off events that looks like a session of a weekly series,
    filed under the wrong series (appended at the end of the file, say): a warning naming the
    series it belongs to and where.

    It looks like a session when it starts at the series' slot, or when it is a one-day,
    all-day event on the series' weekday, in a week the series has no entry for, within two
    weeks of one it has: the next session, appended. An event over several days is never one
    (conferences span the meeting's weekday), nor a one-day event away from the written
    sessions (a summit in a month with no topics yet). ``keys`` holds each series' entries by
    date.
    """
    weekly = [s for s in series if s.weekly]
    for events in series:
        if events.weekly:
            continue
        for session in events.sessions:
            for meeting in weekly:
                found = _looks_like_a_session(events, session, meeting, keys.get(meeting.id, {}))
                if found is not None:
                    at = keys[events.id][session.date]
                    ctx.warn(at, f"series.{events.id}.sessions.{session.date}", *found)
                    break


# How near a weekly series' session a one-day event on its weekday looks like one of them:
# the next session appended, perhaps after a week without one.
_NEAR = dt.timedelta(weeks=2)


def _looks_like_a_session(
    events: Series, session: Session, meeting: Series, written: dict[dt.date, Value]
) -> tuple[str, str] | None:
    """(message, hint) when the one-off ``session`` of ``events`` looks like a session of the
    weekly series ``meeting``, whose entries are ``written``."""
    day = WEEKDAYS[meeting.weekday].title()
    slot = f"{day}s at {meeting.at:%H:%M}"
    mean = f"did you mean series {meeting.id}?"
    start = session.at or events.at
    if start is not None:
        instant = dt.datetime.combine(session.date, start, tzinfo=events.zone)
        local = instant.astimezone(meeting.zone).replace(tzinfo=None)
        date = local.date()
        other = meeting.session(date)
        if (
            local.time() != meeting.at
            or not _meets(meeting, date)
            or (other is not None and (other.cancelled or other.moved_to))
        ):
            return None
        message = f"{session.date} at {start:%H:%M} is a slot of {meeting.id} ({slot})"
        if date in written:
            where = f"merge it into its entry for {date} (line {written[date].line})"
        else:
            where = _where(meeting, date, written)
        return message, f"{mean} Then {where}"
    near = [(abs((d - session.date).days), d > session.date, d) for d in written]
    near = sorted(n for n in near if n[0] <= _NEAR.days)
    if (
        session.ends not in (None, session.date)
        or not _meets(meeting, session.date)
        or session.date in written
        or not near
    ):
        return None
    days, later, other = near[0]
    weeks = "a week" if days <= 7 else f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"
    message = (
        f"{session.date} is an all-day event on a {day}, {weeks} {'before' if later else 'after'}"
        f" the {other} session of {meeting.id}, which has no entry for {session.date}"
    )
    hint = (
        f"{mean} Then {_where(meeting, session.date, written)}; an event of its own that day "
        f"is fine once {meeting.id} has an entry for it"
    )
    return message, hint


def _meets(series: Series, date: dt.date) -> bool:
    """The weekly series has a regular slot on date."""
    return (
        date.weekday() == series.weekday
        and series.starts <= date
        and (series.ends is None or date <= series.ends)
    )


def _where(series: Series, date: dt.date, written: dict[dt.date, Value]) -> str:
    """Where an entry for date goes among the series' entries, in date order."""
    key = f"`series.{series.id}.sessions`"
    before = [d for d in written if d < date]
    after = [d for d in written if d > date]
    if before:
        last = max(before)
        return f"move the entry under {key}, after {last} (line {written[last].line})"
    if after:
        first = min(after)
        return f"move the entry under {key}, before {first} (line {written[first].line})"
    return f"move the entry under {key}"


_DATED_ID = re.compile(r"^(.+)-(\d{4})(\d{2})(\d{2})$")


def uid_collisions(
    ctx: Context, ids: dict[str, tuple[Value, bool, dict[dt.date, Value]]], domain: str
) -> None:
    """Event UIDs are <series>@<domain>, and <series>-<YYYYMMDD>@<domain> for a one-off event
    (or one occurrence taken out of a weekly series): a series id that is another series' id
    and a date gives its events the UID of that series' event on that date.

    ``ids`` maps each valid series id to its key, whether it is weekly, and its sessions' keys.
    """
    for sid, (key_node, _, _) in ids.items():
        match = _DATED_ID.match(sid)
        if not match or match[1] not in ids:
            continue
        try:
            date = dt.date(int(match[2]), int(match[3]), int(match[4]))
        except ValueError:
            continue  # no event is ever dated so: no collision
        other, (other_node, weekly, sessions) = match[1], ids[match[1]]
        session = None if weekly else sessions.get(date)
        uid = f"its events get the UID {sid}@{domain}, which is also the UID of"
        ctx.error(
            key_node,
            f"series.{sid}",
            f"{uid} the {date} session of {other!r} (series on line {other_node.line}, "
            f"session on line {session.line})"
            if session is not None
            else f"{uid} an event of {other!r} on {date} (series on line {other_node.line})",
            "rename one of the two series: an event's UID is <series>@<domain>, or "
            "<series>-<YYYYMMDD>@<domain> for a single event",
        )


def _next_weekday(date: dt.date, weekday: int) -> dt.date:
    return date + dt.timedelta(days=(weekday - date.weekday()) % 7)


def _nearest_weekday(date: dt.date, weekday: int) -> dt.date:
    after = _next_weekday(date, weekday)
    before = after - dt.timedelta(days=7)
    return before if date - before < after - date else after


# -- clock changes -------------------------------------------------------------------------


def _dates(days: list[dt.date]) -> str:
    """'2027-03-14', '2027-03-14 and 2028-03-12', or the first three and how many more."""
    shown = [str(d) for d in days[:3]]
    if len(days) > 3:
        return f"{', '.join(shown)} and {len(days) - 3} later dates"
    return " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else shown[0]


def _clocks(change: clock.Change) -> str:
    if change.kind == clock.GAP:
        return f"clocks skip from {change.start:%H:%M} to {change.end:%H:%M}"
    return f"clocks go back from {change.end:%H:%M} to {change.start:%H:%M}"


def _reading(zone, local: dt.datetime, change: clock.Change) -> str:
    start = clock.meant(zone, local)
    if change.kind == clock.GAP:
        return f"read as {start:%H:%M} {start.tzname()}, as RFC 5545 says"
    return f"read as the first {local:%H:%M}, {start.tzname()}, as RFC 5545 says"


def clock_changes(
    ctx: Context, at_node: Value, starts_node: Value, key: str, series: Series
) -> None:
    """A weekly slot that falls into a gap or an overlap on some dates: a warning naming them
    and the instant meant (the feed and the page use that instant). Cancelled and moved
    sessions are not at the slot, so they do not count.

    The first session (the first one not cancelled, or ``starts``, where the feed that shows
    cancelled weeks begins) must exist: calendar apps repeat a series from it, and libical
    (Evolution) then places every later session an hour late."""
    cancelled = {s.date for s in series.sessions if s.cancelled}
    first = series.starts
    while first in cancelled:
        first += dt.timedelta(days=7)
    for day in dict.fromkeys((series.starts, first)):
        local = dt.datetime.combine(day, series.at)
        change = clock.change_at(series.zone, local)
        if (
            change is not None
            and change.kind == clock.GAP
            and (series.ends is None or day <= series.ends)
        ):
            ctx.error(
                starts_node,
                f"{key.rsplit('.', 1)[0]}.starts",
                f"the series starts with a session at {local:%Y-%m-%d %H:%M}, which does not "
                f"exist in {series.timezone} ({_clocks(change)} that day)",
                "start it a week earlier or later: calendar apps repeat a series from its "
                "first session, and some would place every session an hour late",
            )
            return
    elsewhere = {s.date for s in series.sessions if s.cancelled or s.moved_to}
    by_kind: dict[str, list[tuple[dt.date, clock.Change]]] = {}
    for day, change in clock.weekly_slots(series):
        if day not in elsewhere:
            by_kind.setdefault(change.kind, []).append((day, change))
    for kind_name, found in by_kind.items():
        day, change = found[0]
        local = dt.datetime.combine(day, series.at)
        what = "does not exist" if kind_name == clock.GAP else "happens twice"
        ctx.warn(
            at_node,
            key,
            f"{series.at:%H:%M} {what} on {_dates([d for d, _ in found])} in {series.timezone} "
            f"({_clocks(change)}); those sessions are {_reading(series.zone, local, change)}",
            f"to meet at the same time every week, pick a time outside "
            f"{change.start:%H:%M}-{change.end:%H:%M}",
        )


def clock_time(
    ctx: Context, node: Value, key: str, zone_name: str, local: dt.datetime, with_date: bool
) -> bool:
    """A one-off or moved session's start: an error in a gap (with the next time that exists,
    written with its date when ``with_date``), a warning in an overlap. False when the time
    cannot be used."""
    zone = zoneinfo.ZoneInfo(zone_name)
    change = clock.change_at(zone, local)
    if change is None:
        return True
    if change.kind == clock.GAP:
        later = f"{change.end:%Y-%m-%d %H:%M}" if with_date else f"{change.end:%H:%M}"
        ctx.error(
            node,
            key,
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone_name} ({_clocks(change)} that day)",
            f'the next time that exists is "{later}"',
        )
        return False
    ctx.warn(
        node,
        key,
        f"{local:%Y-%m-%d %H:%M} happens twice in {zone_name} ({_clocks(change)} that day); "
        f"the session is {_reading(zone, local, change)}",
        "pick another time to leave no doubt",
    )
    return True
