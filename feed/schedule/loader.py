"""``load()`` and ``check()``: schedule.yaml read by its declarations into the frozen model.

Reading never stops at the first mistake: a part that cannot be used is left out (with
stand-ins where later parts need it), so one run reports every problem, each with file, line,
column, key, message and hint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from . import rules
from .fields import CALENDAR, LINK, PAGE, SERIES, SERIES_KEYS, SESSION, SESSION_KEYS, TOP
from .model import DEFAULT_DURATION, DEFAULT_REFRESH, Link, Page, Schedule, Series, Session
from .problems import Report, ScheduleError, closest
from .readers import DATE, ID, WEEKDAY_SPELLINGS, date_text
from .reading import (
    Context,
    glued,
    guarded,
    mapping,
    read_mapping,
    shown,
    space_after_colon,
)
from .yamlread import Value, read


def load(text: str | bytes, path: str = "schedule.yaml") -> Schedule:
    """Validate schedule text and build the model; raise ScheduleError on any error."""
    report = check(text, path)
    if report.schedule is None:
        raise ScheduleError(report.problems)
    return report.schedule


def check(text: str | bytes, path: str = "schedule.yaml") -> Report:
    """Validate schedule text: the model (None on any error) and every problem, sorted by line."""
    ctx = Context(path, [])
    start = Value(None, 1, 1)  # where a failure of the reader itself is reported
    tree, problems = guarded(ctx, start, "", read, text, path, default=(None, ctx.problems))
    ctx = Context(path, problems)
    schedule = None if tree is None else guarded(ctx, tree, "", _schedule, ctx, tree)
    problems.sort(key=lambda p: (p.line, p.column, p.warning))
    if any(not p.warning for p in problems):
        schedule = None
    return Report(schedule, tuple(problems))


def _given(entries: dict[str, Value], name: str) -> bool:
    """The key is there with a value (`timezone:` with nothing after it is no value)."""
    node = entries.get(name)
    return node is not None and not (node.is_scalar and node.data is None)


def _schedule(ctx: Context, root: Value) -> Schedule | None:
    top, _ = read_mapping(ctx, root, "", TOP)
    if not root.is_map:
        return None
    calendar, tags = _calendar(ctx, top.get("calendar"))
    page = _page(ctx, top.get("page"))
    # Without a usable calendar, keep going with stand-ins for its time zone and domain, so the
    # series' mistakes are reported in the same run.
    zone, domain = (calendar.timezone, calendar.domain) if calendar else ("UTC", "<domain>")
    series = _all_series(ctx.within(tags=dict(tags)), top.get("series"), zone, domain)
    if calendar is None:
        return None
    return dataclasses.replace(calendar, page=page, series=tuple(series))


def _calendar(ctx: Context, node: Value | None) -> tuple[Schedule | None, tuple]:
    """The calendar (None when it is unusable) and the tags it declares."""
    if node is None:
        return None, ()
    _, values = read_mapping(ctx, node, "calendar", CALENDAR)
    tags = values.get("tags", ())
    name, zone = values.get("name"), values.get("timezone")
    if name is None or zone is None:
        return None, tags
    domain = values.get("domain") or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".feed"
    calendar = Schedule(
        name=name,
        timezone=zone,
        domain=domain,
        description=values.get("description"),
        refresh=values.get("refresh") or DEFAULT_REFRESH,
        url=values.get("url"),
        tags=tags,
    )
    return calendar, tags


def _page(ctx: Context, node: Value | None) -> Page:
    if node is None:
        return Page()
    entries, values = read_mapping(ctx, node, "page", PAGE)
    return Page(
        intro=values.get("intro"),
        invite=values.get("invite"),
        links=_links(ctx, entries.get("links")),
        backlog=values.get("backlog", ()),
    )


def _links(ctx: Context, node: Value | None) -> tuple[Link, ...]:
    if node is None:
        return ()
    if not node.is_seq:
        ctx.error(
            node,
            "page.links",
            "expected a list of links",
            "e.g. - {title: Podcast, url: https://...}",
        )
        return ()
    links = []
    for item in node.data:
        _, values = read_mapping(ctx, item, "page.links", LINK)
        if values.get("title"):
            links.append(Link(values["title"], values.get("url")))
    return tuple(links)


def _all_series(ctx: Context, node: Value | None, zone: str, domain: str) -> list[Series]:
    if node is None:
        return []
    if not node.is_map or not node.data:
        ctx.error(
            node,
            "series",
            "expected a mapping of series by id",
            "indent each series under `series:` by its id, e.g. `weekly-meeting:`",
        )
        return []
    entries = mapping(ctx, node, "series", tuple(k.text() for k, _ in node.data))
    found = []
    slots: dict[tuple, str] = {}
    ids: dict[str, tuple[Value, bool, dict[dt.date, Value]]] = {}
    for key_node, _ in node.data:
        sid = key_node.text()
        series, weekly, sessions = guarded(
            ctx,
            key_node,
            f"series.{sid}",
            _series,
            ctx,
            sid,
            key_node,
            entries[sid],
            zone,
            default=(None, None, {}),
        )
        if weekly is not None:
            ids[sid] = (key_node, weekly, sessions)
        if series is not None:
            found.append(series)
            if series.weekly:
                rules.shared_slot(ctx, key_node, series, slots)
    guarded(ctx, node, "series", rules.uid_collisions, ctx, ids, domain)
    keys = {sid: sessions for sid, (_, _, sessions) in ids.items()}
    guarded(ctx, node, "series", rules.misfiled, ctx, found, keys)
    return found


def _series(
    ctx: Context, sid: str, key_node: Value, node: Value, default_zone: str
) -> tuple[Series | None, bool | None, dict[dt.date, Value]]:
    """The series (None when unusable), whether it is weekly (None: not a series at all) and
    the keys of its sessions by date."""
    key = f"series.{sid}"
    if DATE.fullmatch(sid):
        ctx.error(
            key_node,
            key,
            f"{sid} is indented as a series, not as a session",
            "indent it like the other dates, under the `sessions:` of its series",
        )
        return None, None, {}
    if not ID.fullmatch(sid):
        ctx.error(
            key_node,
            key,
            f"{sid!r} is not a valid series id",
            "use lowercase letters, digits and hyphens, e.g. devops-lunch-and-learn; "
            "the id is part of event UIDs and URLs",
        )
        return None, None, {}
    if not node.is_map:
        ctx.error(
            node, key, f"expected the series' settings, got {shown(node)}", "give at least a title"
        )
        return None, None, {}
    entries, values = read_mapping(ctx, node, key, SERIES)
    weekly = "every" in entries or _means_every(node)
    zone = values.get("timezone") if _given(entries, "timezone") else default_zone
    if weekly:
        rules.weekly_series(ctx, node, entries, values, key)
    rules.misplaced(ctx, entries, key, SERIES, weekly, "series")
    title, weekday = values.get("title"), values.get("every")
    if (
        title is None
        or zone is None
        or (
            weekly and (weekday is None or values.get("at") is None or values.get("starts") is None)
        )
        or ("at" in entries and values.get("at") is None)  # not all-day events: a wrong time
    ):
        # Still read the sessions, so every problem is reported in one run; none of them is
        # judged by the series' slot or time, which are not known.
        _, keys = _sessions(ctx, entries.get("sessions"), key, None, weekly)
        return None, weekly, keys
    draft = Series(
        id=sid,
        title=title,
        timezone=zone,
        description=values.get("description"),
        weekday=weekday,
        at=values.get("at"),
        duration=values.get("duration") or DEFAULT_DURATION,
        starts=values.get("starts") if weekly else None,
        ends=values.get("ends") if weekly else None,
        join=values.get("join"),
        tags=values.get("tags", ()),
    )
    sessions, keys = _sessions(ctx, entries.get("sessions"), key, draft, weekly)
    series = dataclasses.replace(draft, sessions=sessions)
    if weekly:
        rules.clock_changes(ctx, entries["at"], entries["starts"], f"{key}.at", series)
    return series, weekly, keys


def _means_every(node: Value) -> bool:
    """A misspelt `every` (`evrey:`, `Every:`, `weekday: tuesday`) still makes a weekly series:
    its sessions are then not also reported as holding keys of one-off events. Misspelt as
    the unknown-key hint reads it: the key it suggests is `every`."""
    return any(
        k.text() not in SERIES_KEYS
        and (
            closest(k.text(), SERIES_KEYS) == "every"
            or (v.is_scalar and v.text().strip().lower() in WEEKDAY_SPELLINGS)
        )
        for k, v in node.data
    )


def _sessions(
    ctx: Context, node: Value | None, key: str, series: Series | None, weekly: bool
) -> tuple[tuple[Session, ...], dict[dt.date, Value]]:
    """The sessions of a series (``series`` is None when the series itself is unusable), and
    the key of each date."""
    if node is None:
        return (), {}
    key = f"{key}.sessions"
    if not node.is_map:
        ctx.error(
            node,
            key,
            f"expected sessions keyed by date, got {shown(node)}",
            "one date per line under `sessions:`, e.g. `2024-01-16: Topic of the day`",
        )
        return (), {}
    for dup, first in node.duplicates:
        ctx.error(
            dup,
            f"{key}.{dup.text()}",
            f"{dup.text()} is listed twice, first on line {first.line}",
            "YAML would silently keep only the second; merge the two entries",
        )
    result: list[Session] = []
    keys: dict[dt.date, Value] = {}
    moved_nodes: dict[dt.date, Value] = {}
    previous: dt.date | None = None
    # A date followed by a session's key indented like a date: that key says what is wrong.
    names = [k.text() for k, _ in node.data]
    stranded = {i for i in range(len(names) - 1) if names[i + 1] in SESSION_KEYS}
    for index, (key_node, value) in enumerate(node.data):
        if key_node.text() in SESSION_KEYS:
            ctx.error(
                key_node,
                f"{key}.{key_node.text()}",
                f"{key_node.text()!r} is a key of a session, not a date",
                "indent it under the date of its session, deeper than the dates",
            )
            continue
        near = previous or (series.starts if series is not None else None)
        date = date_text(ctx, key_node, f"{key}.{key_node.text()}", key_node.text(), near)
        if date is None:
            continue
        skey = f"{key}.{date}"
        if date in keys:
            ctx.error(
                key_node,
                skey,
                f"{date} is listed twice, first on line {keys[date].line}",
                "merge the two entries",
            )
            continue
        if previous and date < previous:
            later = next(d for d in keys if d > date)  # the first one listed: it goes before
            ctx.warn(
                key_node,
                skey,
                f"{date} comes after {previous} (line {keys[previous].line})",
                f"it belongs before {'' if later == previous else f'{later} on '}line "
                f"{keys[later].line}: keep sessions in date order",
            )
        keys[date] = key_node
        previous = date
        if index in stranded and value.is_scalar and value.data is None:
            continue
        session = guarded(
            ctx,
            key_node,
            skey,
            _session,
            ctx,
            key_node,
            value,
            date,
            skey,
            series,
            weekly,
            moved_nodes,
        )
        if session is not None:
            result.append(session)
    if series is not None and weekly:
        guarded(ctx, node, key, rules.moves, ctx, series, result, moved_nodes)
    return tuple(sorted(result, key=lambda s: s.date)), keys


def _session(
    ctx: Context,
    key_node: Value,
    node: Value,
    date: dt.date,
    key: str,
    series: Series | None,
    weekly: bool,
    moved_nodes: dict[dt.date, Value],
) -> Session | None:
    """One session; where its `moved:` is written goes to ``moved_nodes``, for the rule that
    compares moves."""
    if node.is_scalar:  # the shorthand `2024-01-16: Topic`
        topic = None if node.data is None else str(node.data).strip() or None
        if topic is None:
            ctx.error(
                node if node.data is not None else key_node,
                key,
                f"{date} has no topic",
                "write a topic, `{cancelled: yes}`, or delete the line",
            )
            return None
        if not node.quoted and (found := glued(topic, SESSION_KEYS)):
            ctx.error(
                node,
                key,
                f"{shown(node)} is read as a topic, not as the key {found[0]!r} and its value",
                space_after_colon(*found) + "; quote it if it is the topic",
            )
            return None
        entries: dict[str, Value] = {}
        values: dict = {"topic": topic}
    else:
        # Keys of the other kind of series are not read (rules.misplaced reports them), nor is
        # `moved` when the series has no usable slot to move from.
        skip = [f.name for f in SESSION if f.applies_to not in (None, rules.kind(weekly))]
        if series is None:
            skip.append("moved")
        here = ctx.within(series=series, date=date)
        entries, values = read_mapping(here, node, key, SESSION, skip)
        if not node.is_map:
            return None
    values.setdefault("cancelled", (False, None))
    if weekly and series is not None:
        rules.slot(ctx, key_node, date, key, series, "moved" in entries)
    if values["cancelled"][0]:
        rules.cancelled(ctx, entries, key, date, SESSION)
    rules.misplaced(ctx, entries, key, SESSION, weekly, "session")
    if not weekly:
        rules.one_off_span(ctx, entries, values, date, key, series)
    if not node.is_scalar:
        rules.topic(ctx, node, entries, values, date, key, weekly)
    (cancelled, reason), moved_to = values.pop("cancelled"), values.pop("moved", None)
    if moved_to is not None:
        moved_nodes[date] = entries["moved"]
        rules.clock_time(ctx, entries["moved"], f"{key}.moved", series.timezone, moved_to, True)
    start = values.get("at") or (series.at if series is not None else None)
    if not weekly and series is not None and start is not None:
        local = dt.datetime.combine(date, start)
        node_at = entries.get("at", key_node)
        rules.clock_time(ctx, node_at, f"{key}.at", series.timezone, local, False)
    return Session(date=date, cancelled=cancelled, reason=reason, moved_to=moved_to, **values)
