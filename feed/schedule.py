"""The schedule: a frozen model of schedule.yaml, and the loader that validates it.

``load(text, path)`` returns a :class:`Schedule` or raises :class:`ScheduleError` listing every
problem found (not just the first), each with file, line, column, key, value and a hint.
``check(text, path)`` returns the problems (errors and warnings) without raising.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import zoneinfo
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import pytz

from .errors import Problem, ScheduleError, did_you_mean, one_of
from .yamltree import Value, read

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_DURATION = dt.timedelta(hours=1)
DEFAULT_REFRESH = dt.timedelta(hours=6)


@dataclass(frozen=True)
class AgendaItem:
    """One agenda bullet and its sub-bullets."""

    text: str
    children: tuple[AgendaItem, ...] = ()


@dataclass(frozen=True)
class Link:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Page:
    """Texts and links for the web page; they are not events."""

    intro: str | None = None
    invite: str | None = None
    links: tuple[Link, ...] = ()
    backlog: tuple[AgendaItem, ...] = ()


@dataclass(frozen=True)
class Session:
    """What the organizers wrote for one date of a series.

    For a weekly series ``date`` is the regular slot; ``moved_to`` is where it really happens.
    For one-off events ``date`` is the (first) day of the event.
    """

    date: dt.date
    topic: str | None = None
    agenda: tuple[AgendaItem, ...] = ()
    notes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    speaker: str | None = None
    recording: str | None = None
    url: str | None = None
    join: str | None = None
    cancelled: bool = False
    reason: str | None = None
    moved_to: dt.datetime | None = None
    at: dt.time | None = None
    duration: dt.timedelta | None = None
    ends: dt.date | None = None
    line: int = 0


@dataclass(frozen=True)
class Series:
    """A weekly meeting (``weekday`` set) or a list of one-off events (``weekday`` None)."""

    id: str
    title: str
    timezone: str
    description: str | None = None
    weekday: int | None = None
    at: dt.time | None = None
    duration: dt.timedelta = DEFAULT_DURATION
    starts: dt.date | None = None
    ends: dt.date | None = None
    join: str | None = None
    tags: tuple[str, ...] = ()
    sessions: tuple[Session, ...] = ()

    @property
    def weekly(self) -> bool:
        return self.weekday is not None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return _zone(self.timezone)

    _by_date: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_date", {s.date: s for s in self.sessions})

    def session(self, date: dt.date) -> Session | None:
        """What the organizers wrote for this date (the regular slot), if anything."""
        return self._by_date.get(date)


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    domain: str
    description: str | None = None
    refresh: dt.timedelta = DEFAULT_REFRESH
    url: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    page: Page = field(default_factory=Page)
    series: tuple[Series, ...] = ()

    def get(self, series_id: str) -> Series | None:
        return next((s for s in self.series if s.id == series_id), None)

    @property
    def tag_names(self) -> dict[str, str]:
        return dict(self.tags)


def load(text: str | bytes, path: str = "schedule.yaml") -> Schedule:
    """Validate schedule text and build the model; raise ScheduleError on any error."""
    schedule, problems = _build(text, path)
    if schedule is None or any(not p.warning for p in problems):
        raise ScheduleError(problems)
    return schedule


def check(text: str | bytes, path: str = "schedule.yaml") -> tuple[Schedule | None, list[Problem]]:
    """Validate schedule text: the model (None when invalid) and every problem, sorted by line."""
    schedule, problems = _build(text, path)
    if any(not p.warning for p in problems):
        schedule = None
    return schedule, problems


def _build(text, path):
    tree, problems = read(text, path)
    if tree is None:
        return None, problems
    v = _Validator(path, problems)
    schedule = v.schedule(tree)
    problems.sort(key=lambda p: (p.line, p.column, p.warning))
    return schedule, problems


# Keys each mapping accepts; anything else is reported with a "did you mean" hint.
CALENDAR_KEYS = ("name", "description", "timezone", "domain", "refresh", "url", "tags")
PAGE_KEYS = ("intro", "invite", "links", "backlog")
LINK_KEYS = ("title", "url")
SERIES_KEYS = (
    "title",
    "description",
    "every",
    "at",
    "duration",
    "timezone",
    "starts",
    "ends",
    "join",
    "tags",
    "sessions",
)
SESSION_KEYS = (
    "topic",
    "agenda",
    "notes",
    "tags",
    "speaker",
    "recording",
    "url",
    "join",
    "cancelled",
    "moved",
    "duration",
    "at",
    "ends",
)
ONE_OFF_ONLY = ("at", "ends")
TOP_KEYS = ("calendar", "page", "series")

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SHORT_YEAR = re.compile(r"^(\d{1,3}|\d{5,})-\d{1,2}-\d{1,2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?$")
_TRUE = ("yes", "true", "on", "y")
_FALSE = ("no", "false", "off", "n")


class _Validator:
    """Walks the positioned YAML tree once, collecting every problem it meets."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems
        # Where each weekly session's `moved:` value is, for the checks that compare sessions.
        self.moved_nodes: dict[tuple[str, dt.date], Value] = {}

    # -- reporting -------------------------------------------------------------------------

    def error(
        self, at: Value, key: str, message: str, hint: str | None = None, warning: bool = False
    ) -> None:
        value = at.text() if at.is_scalar else None
        self.problems.append(
            Problem(self.path, at.line, at.column, key, message, value, hint, warning)
        )

    def warn(self, at: Value, key: str, message: str, hint: str | None = None) -> None:
        self.error(at, key, message, hint, warning=True)

    # -- generic shapes --------------------------------------------------------------------

    def mapping(self, node: Value, key: str, allowed: tuple[str, ...]) -> dict[str, Value]:
        """The mapping's entries by name; unknown and duplicate keys are reported."""
        if not node.is_map:
            self.error(
                node, key, f"expected a mapping of keys, got {_shown(node)}", one_of(allowed)
            )
            return {}
        for dup, first in node.duplicates:
            self.error(
                dup,
                f"{key}.{dup.text()}" if key else dup.text(),
                f"{dup.text()!r} is given twice, first on line {first.line}",
                "YAML keeps only the last one; merge the two entries",
            )
        entries = {}
        for k, v in node.data:
            name = k.text()
            if name not in allowed:
                hint = did_you_mean(name, allowed) or one_of(allowed)
                self.error(k, f"{key}.{name}" if key else name, f"unknown key {name!r}", hint)
                continue
            entries[name] = v
        return entries

    def text(
        self, node: Value | None, key: str, required: bool = False, parent: Value | None = None
    ) -> str | None:
        if node is None:
            if required:
                name = key.rsplit(".", 1)[-1]
                self.error(parent, key, f"{name!r} is required", f"add `{name}:` here")
            return None
        if not node.is_scalar:
            self.error(
                node,
                key,
                f"expected text, got {_shown(node)}",
                'write it on one line; put text with [ ] { } or ": " in quotes',
            )
            return None
        if node.data is None or not str(node.data).strip():
            if required or node.data is not None:
                name = key.rsplit(".", 1)[-1]
                self.error(node, key, f"the {name} is empty", "write some text or remove the key")
            return None
        return str(node.data).strip()

    def url(self, node: Value | None, key: str) -> str | None:
        value = self.text(node, key)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:  # e.g. "https://[" (an unclosed IPv6 address)
            parts, host = None, None
        if (
            parts is None
            or parts.scheme != "https"
            or not host
            or any(c.isspace() or ord(c) < 32 for c in value)
        ):
            self.error(
                node,
                key,
                f"{value!r} is not an https URL",
                "write the whole link, starting with https://; "
                "calendar clients and browsers block other links",
            )
            return None
        return value

    def date(self, node: Value | None, key: str) -> dt.date | None:
        if node is None:
            return None
        return self._date_text(node, key, node.text())

    def _date_text(self, node: Value, key: str, raw: str) -> dt.date | None:
        match = _DATE.match(raw.strip())
        if not match and (short := _SHORT_YEAR.match(raw.strip())):
            self.error(
                node,
                key,
                f"{raw!r} has the year {short[1]}",
                "write the full four-digit year, e.g. 2022",
            )
            return None
        if not match:
            self.error(
                node, key, f"{raw!r} is not a date", "write dates as YYYY-MM-DD, e.g. 2024-01-16"
            )
            return None
        year, month, day = (int(g) for g in match.groups())
        if not 1970 <= year <= 2200:
            self.error(
                node,
                key,
                f"{raw!r} has the year {year}",
                "write the full four-digit year, e.g. 2022",
            )
            return None
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            self.error(node, key, f"{raw!r} is not a valid date: {exc}", "check the month and day")
            return None

    def time(self, node: Value | None, key: str) -> dt.time | None:
        if node is None:
            return None
        return self._time_text(node, key, node.text())

    def _time_text(self, node, key, raw) -> dt.time | None:
        match = _TIME.match(raw.strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            self.error(
                node,
                key,
                f"{raw!r} is not a time of day",
                'write 24-hour time as "HH:MM" in quotes, e.g. "11:00" or "14:30"',
            )
            return None
        return dt.time(int(match[1]), int(match[2]))

    def duration(
        self,
        node: Value | None,
        key: str,
        too_long: str = "a session longer than a day should be a one-off event with `ends`",
    ) -> dt.timedelta | None:
        if node is None:
            return None
        raw = node.text().strip()
        match = _DURATION.match(raw) if raw else None
        if not (match and any(match.groups())):
            match = _ISO_DURATION.match(raw.upper())
        if not (match and any(match.groups())):
            hint = "write e.g. 1h, 90m, 1h30m or PT1H30M"
            if raw.isdigit():
                hint = f"add a unit: {raw}m for minutes or {raw}h for hours"
            self.error(node, key, f"{raw!r} is not a duration", hint)
            return None
        # Cap the numbers before timedelta sees them: "99999999999h" would overflow it.
        hours, minutes = (min(int(g or 0), 100_000) for g in match.groups())
        value = dt.timedelta(hours=hours, minutes=minutes)
        if not dt.timedelta(0) < value <= dt.timedelta(hours=24):
            self.error(node, key, f"{raw!r} is not between 1 minute and 24 hours", too_long)
            return None
        return value

    def timezone(self, node: Value | None, key: str) -> str | None:
        name = self.text(node, key)
        if name is None:
            return None
        if name not in _timezone_names():
            hint = _zone_hint(name)
            self.error(node, key, f"{name!r} is not a known time zone", hint)
            return None
        return name

    def flag_or_text(self, node: Value, key: str) -> tuple[bool, str | None]:
        """`cancelled: yes`, `cancelled: no` or `cancelled: <reason>`."""
        if not node.is_scalar:
            self.error(
                node,
                key,
                f"expected yes or a reason, got {_shown(node)}",
                "write `cancelled: yes` or `cancelled: Thanksgiving week`",
            )
            return True, None
        raw = node.text().strip()
        if node.data is None or not raw:
            return True, None
        if not node.quoted and raw.lower() in _TRUE:
            return True, None
        if not node.quoted and raw.lower() in _FALSE:
            return False, None
        return True, raw

    def strings(self, node: Value | None, key: str) -> tuple[str, ...]:
        """A string or a list of strings."""
        if node is None:
            return ()
        items = node.data if node.is_seq else [node]
        result = []
        for item in items:
            value = self.text(item, key)
            if value is not None:
                result.append(value)
        return tuple(result)

    def items(self, node: Value | None, key: str) -> tuple[AgendaItem, ...]:
        """Agenda-style nested lists: a list right after a string holds its sub-items."""
        if node is None:
            return ()
        if node.is_scalar:
            text = self.text(node, key)
            return (AgendaItem(text),) if text else ()
        if not node.is_seq:
            self.error(
                node,
                key,
                f"expected a list, got {_shown(node)}",
                "write items as a YAML list: - first item",
            )
            return ()
        result: list[AgendaItem] = []
        for item in node.data:
            if item.is_seq:
                children = self.items(item, key)
                if not result:
                    self.error(
                        item,
                        key,
                        "a nested list must follow the item it belongs to",
                        "put the parent item on the line above",
                    )
                    result.extend(children)
                else:
                    last = result[-1]
                    result[-1] = AgendaItem(last.text, last.children + children)
            elif item.is_map:
                self.error(
                    item,
                    key,
                    "expected an agenda item, got a mapping",
                    "a colon followed by a space makes a mapping; quote the item",
                )
            else:
                text = self.text(item, key)
                if text is not None:
                    result.append(AgendaItem(text))
        return tuple(result)

    # -- the document ----------------------------------------------------------------------

    def schedule(self, root: Value) -> Schedule | None:
        top = self.mapping(root, "", TOP_KEYS)
        if not root.is_map:
            return None
        if "calendar" not in top:
            self.error(
                root,
                "calendar",
                "'calendar' is required",
                "add a calendar: section with name and timezone",
            )
        if "series" not in top:
            self.error(root, "series", "'series' is required", "add at least one series")
        calendar = self.calendar(top.get("calendar"))
        page = self.page(top.get("page"))
        valid = calendar is not None
        if calendar is None:
            # Keep going with stand-ins, so the series' mistakes are reported in the same run.
            calendar = Schedule(name="", timezone="UTC", domain="invalid")
        tags = dict(calendar.tags)
        series = []
        node = top.get("series")
        if node is not None:
            if not node.is_map or not node.data:
                self.error(
                    node,
                    "series",
                    "expected a mapping of series by id",
                    "indent each series under `series:` by its id, e.g. `weekly-meeting:`",
                )
            else:
                entries = self.mapping(node, "series", tuple(k.text() for k, _ in node.data))
                slots: dict[tuple, str] = {}
                for key_node, _ in node.data:
                    sid = key_node.text()
                    item = self.series(sid, key_node, entries[sid], calendar.timezone, tags)
                    if item is not None:
                        series.append(item)
                        if item.weekly:
                            self.check_shared_slot(key_node, item, slots)
        if not valid:
            return None
        return Schedule(
            name=calendar.name,
            timezone=calendar.timezone,
            domain=calendar.domain,
            description=calendar.description,
            refresh=calendar.refresh,
            url=calendar.url,
            tags=calendar.tags,
            page=page,
            series=tuple(series),
        )

    def calendar(self, node: Value | None):
        if node is None:
            return None
        entries = self.mapping(node, "calendar", CALENDAR_KEYS)
        if not node.is_map:
            return None
        name = self.text(entries.get("name"), "calendar.name", required=True, parent=node)
        if name and re.search(r"[,;\\\n]", name):
            self.error(
                entries["name"],
                "calendar.name",
                f"{name!r} contains a comma, semicolon or backslash",
                "calendar clients disagree on escaping these in calendar names; "
                "reword without them",
            )
        zone = self.timezone(entries.get("timezone"), "calendar.timezone")
        if "timezone" not in entries:
            self.error(
                node,
                "calendar.timezone",
                "'timezone' is required",
                "e.g. timezone: America/Los_Angeles",
            )
        domain = self.text(entries.get("domain"), "calendar.domain")
        if domain and not _DOMAIN.match(domain):
            self.error(
                entries["domain"],
                "calendar.domain",
                f"{domain!r} is not a domain name",
                "e.g. cloud2030.org; it makes event UIDs globally unique",
            )
            domain = None
        refresh = (
            self.duration(
                entries.get("refresh"),
                "calendar.refresh",
                "calendar clients check for changes every few hours; e.g. refresh: 6h",
            )
            or DEFAULT_REFRESH
        )
        url = self.url(entries.get("url"), "calendar.url")
        tags = []
        tag_node = entries.get("tags")
        if tag_node is not None:
            if not tag_node.is_map:
                self.error(
                    tag_node,
                    "calendar.tags",
                    "expected a mapping of tag: description",
                    "one tag per line under `tags:`, e.g. `ops: Technical Ops Series`",
                )
            else:
                names = tuple(k.text() for k, _ in tag_node.data)
                described = self.mapping(tag_node, "calendar.tags", names)
                for key_node, _ in tag_node.data:
                    tag = key_node.text()
                    if not _ID.match(tag):
                        self.error(
                            key_node,
                            "calendar.tags",
                            f"{tag!r} is not a valid tag",
                            "use lowercase letters, digits and hyphens, e.g. platform-engineering",
                        )
                        continue
                    label = self.text(described[tag], f"calendar.tags.{tag}") or tag
                    tags.append((tag, label))
        if name is None or zone is None:
            return None
        if domain is None:
            domain = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".feed"
        return Schedule(
            name=name,
            timezone=zone,
            domain=domain,
            description=self.text(entries.get("description"), "calendar.description"),
            refresh=refresh,
            url=url,
            tags=tuple(tags),
        )

    def page(self, node: Value | None) -> Page:
        if node is None:
            return Page()
        entries = self.mapping(node, "page", PAGE_KEYS)
        links = []
        link_nodes = entries.get("links")
        if link_nodes is not None:
            if not link_nodes.is_seq:
                self.error(
                    link_nodes,
                    "page.links",
                    "expected a list of links",
                    "e.g. - {title: Podcast, url: https://...}",
                )
            else:
                for item in link_nodes.data:
                    fields = self.mapping(item, "page.links", LINK_KEYS)
                    title = self.text(
                        fields.get("title"), "page.links.title", required=True, parent=item
                    )
                    if title:
                        links.append(Link(title, self.url(fields.get("url"), "page.links.url")))
        return Page(
            intro=self.text(entries.get("intro"), "page.intro"),
            invite=self.text(entries.get("invite"), "page.invite"),
            links=tuple(links),
            backlog=self.items(entries.get("backlog"), "page.backlog"),
        )

    def series(
        self, sid: str, key_node: Value, node: Value, default_zone: str, tags: dict[str, str]
    ) -> Series | None:
        key = f"series.{sid}"
        if not _ID.match(sid):
            self.error(
                key_node,
                key,
                f"{sid!r} is not a valid series id",
                "use lowercase letters, digits and hyphens, e.g. devops-lunch-and-learn; "
                "the id is part of event UIDs and URLs",
            )
            return None
        if not node.is_map:
            self.error(
                node,
                key,
                f"expected the series' settings, got {_shown(node)}",
                "give at least a title",
            )
            return None
        entries = self.mapping(node, key, SERIES_KEYS)
        title = self.text(entries.get("title"), f"{key}.title", required=True, parent=node)
        zone = default_zone
        if "timezone" in entries:
            zone = self.timezone(entries["timezone"], f"{key}.timezone")
        weekday = None
        if "every" in entries:
            weekday = self.weekday(entries["every"], f"{key}.every")
        weekly = "every" in entries
        at = self.time(entries.get("at"), f"{key}.at")
        duration = self.duration(entries.get("duration"), f"{key}.duration") or DEFAULT_DURATION
        starts = self.date(entries.get("starts"), f"{key}.starts")
        ends = self.date(entries.get("ends"), f"{key}.ends")
        if weekly:
            if "at" not in entries:
                self.error(
                    node,
                    f"{key}.at",
                    "a weekly series needs 'at'",
                    'the start time, e.g. at: "11:00"',
                )
            if "starts" not in entries:
                self.error(
                    node,
                    f"{key}.starts",
                    "a weekly series needs 'starts'",
                    "the date of the first session, e.g. starts: 2021-05-18",
                )
            if starts and weekday is not None and starts.weekday() != weekday:
                first = _next_weekday(starts, weekday)
                self.error(
                    entries["starts"],
                    f"{key}.starts",
                    f"{starts} is a {WEEKDAYS[starts.weekday()].title()}, but the series "
                    f"meets on {WEEKDAYS[weekday].title()}s",
                    f"did you mean {first}?",
                )
                starts = None
            if starts and ends and ends < starts:
                self.error(
                    entries["ends"],
                    f"{key}.ends",
                    f"ends on {ends}, before it starts on {starts}",
                    "the end date must be on or after the start date",
                )
                ends = None
        else:
            for name in ("starts", "ends"):
                if name in entries:
                    self.error(
                        entries[name],
                        f"{key}.{name}",
                        f"{name!r} applies to weekly series only",
                        "add `every:` for a weekly series, or give each one-off event "
                        "its own date under sessions",
                    )
        join = self.url(entries.get("join"), f"{key}.join")
        series_tags = self.tags(entries.get("tags"), f"{key}.tags", tags)
        if (
            title is None
            or zone is None
            or (weekly and (weekday is None or at is None or starts is None))
        ):
            # Still validate the sessions, so every problem is reported in one run.
            self.sessions(entries.get("sessions"), key, None, tags)
            return None
        draft = Series(
            id=sid,
            title=title,
            timezone=zone,
            description=self.text(entries.get("description"), f"{key}.description"),
            weekday=weekday,
            at=at,
            duration=duration,
            starts=starts,
            ends=ends,
            join=join,
            tags=series_tags,
        )
        sessions = self.sessions(entries.get("sessions"), key, draft, tags)
        return dataclasses.replace(draft, sessions=sessions)

    def check_shared_slot(self, key_node: Value, series: Series, slots: dict) -> None:
        """ical.js (FullCalendar, many web widgets) relates an override to any series that has
        an occurrence at the same local time, whatever its UID: two weekly series meeting on
        the same day at the same time would swap topics there."""
        slot = (series.weekday, series.at)
        other = slots.setdefault(slot, series.id)
        if other != series.id:
            self.warn(
                key_node,
                f"series.{series.id}",
                f"{series.id} meets on {WEEKDAYS[series.weekday].title()}s at "
                f"{series.at:%H:%M}, like {other}",
                "web widgets built on ical.js, such as FullCalendar, may show one series' topics "
                "in the other; point them at /series/<id>.ics or ?expand=utc",
            )

    def weekday(self, node: Value, key: str) -> int | None:
        raw = node.text().strip().lower()
        name = raw[:-1] if raw.endswith("s") and raw[:-1] in WEEKDAYS else raw
        for index, day in enumerate(WEEKDAYS):
            if name in (day, day[:3], day[:4] if day != "thursday" else "thur"):
                return index
        self.error(
            node,
            key,
            f"{node.text()!r} is not a weekday",
            did_you_mean(raw, WEEKDAYS) or one_of(WEEKDAYS),
        )
        return None

    def tags(self, node: Value | None, key: str, declared: dict[str, str]) -> tuple[str, ...]:
        result = []
        for value, item in zip(self.strings(node, key), _scalars(node), strict=False):
            if value not in declared:
                hint = did_you_mean(value, declared) or (
                    "declare it under calendar.tags"
                    if not declared
                    else one_of(declared) + ", or declare it under calendar.tags"
                )
                self.error(item, key, f"unknown tag {value!r}", hint)
                continue
            result.append(value)
        return tuple(result)

    def sessions(
        self, node: Value | None, key: str, series: Series | None, tags: dict[str, str]
    ) -> tuple[Session, ...]:
        if node is None:
            return ()
        key = f"{key}.sessions"
        if not node.is_map:
            self.error(
                node,
                key,
                f"expected sessions keyed by date, got {_shown(node)}",
                "one date per line under `sessions:`, e.g. `2024-01-16: Topic of the day`",
            )
            return ()
        for dup, first in node.duplicates:
            self.error(
                dup,
                f"{key}.{dup.text()}",
                f"{dup.text()} is listed twice, first on line {first.line}",
                "YAML would silently keep only the second; merge the two entries",
            )
        result: list[Session] = []
        seen_dates: dict[dt.date, Value] = {}
        previous: dt.date | None = None
        for key_node, value in node.data:
            date = self._date_text(key_node, f"{key}.{key_node.text()}", key_node.text())
            if date is None:
                continue
            skey = f"{key}.{date}"
            if date in seen_dates:
                self.error(
                    key_node,
                    skey,
                    f"{date} is listed twice, first on line {seen_dates[date].line}",
                    "merge the two entries",
                )
                continue
            seen_dates[date] = key_node
            if previous and date < previous:
                self.warn(
                    key_node,
                    skey,
                    f"{date} is listed after {previous}",
                    "keep sessions in date order so the file stays easy to read",
                )
            previous = date
            session = self.session(key_node, value, date, skey, series, tags)
            if session is not None:
                result.append(session)
        if series is not None and series.weekly:
            self.check_moves(series, result, node)
        return tuple(sorted(result, key=lambda s: s.date))

    def session(
        self,
        key_node: Value,
        node: Value,
        date: dt.date,
        key: str,
        series: Series | None,
        tags: dict[str, str],
    ) -> Session | None:
        weekly = series is not None and series.weekly
        if node.is_scalar:
            topic = None if node.data is None else str(node.data).strip() or None
            if topic is None:
                self.error(
                    node if node.data is not None else key_node,
                    key,
                    f"{date} has no topic",
                    "write a topic, `{cancelled: yes}`, or delete the line",
                )
                return None
            entries = {}
        else:
            entries = self.mapping(node, key, SESSION_KEYS)
            if not node.is_map:
                return None
            topic = None
        if series is not None and weekly:
            self.check_slot(key_node, date, key, series, "moved" in entries)
        if "topic" in entries:
            topic = self.text(entries["topic"], f"{key}.topic")
            if topic is None and entries["topic"].data is None:
                self.error(
                    entries["topic"],
                    f"{key}.topic",
                    "the topic is empty",
                    "write the topic or remove the key",
                )
        cancelled, reason = False, None
        if "cancelled" in entries:
            cancelled, reason = self.flag_or_text(entries["cancelled"], f"{key}.cancelled")
            if cancelled:
                for name in ("topic", "agenda", "moved", "speaker", "recording"):
                    if name in entries:
                        self.error(
                            entries[name],
                            f"{key}.{name}",
                            f"a cancelled session cannot have a {name}, "
                            f"but {date} has {_shown(entries[name])}",
                            f"remove `cancelled`, or move the {name} to another date",
                        )
        moved_to = None
        if "moved" in entries:
            if not weekly:
                self.error(
                    entries["moved"],
                    f"{key}.moved",
                    "'moved' applies to sessions of weekly series",
                    "for a one-off event, change its date instead",
                )
            elif series is not None:
                moved_to = self.moved(entries["moved"], f"{key}.moved", date, series)
                self.moved_nodes[series.id, date] = entries["moved"]
        for name in ONE_OFF_ONLY:
            if name in entries and weekly:
                self.error(
                    entries[name],
                    f"{key}.{name}",
                    f"{name!r} applies to one-off events only",
                    "to change a weekly session's date or time, use `moved`",
                )
        at = self.time(entries.get("at"), f"{key}.at") if not weekly else None
        ends = self.date(entries.get("ends"), f"{key}.ends") if not weekly else None
        if ends is not None and ends < date:
            self.error(
                entries["ends"],
                f"{key}.ends",
                f"ends on {ends}, before it starts on {date}",
                "the last day must be on or after the first",
            )
            ends = None
        start_time = at or (series.at if series is not None else None)
        if ends is not None and ends > date and start_time is not None:
            # The feed would silently drop `ends`: a timed event lasts `duration`.
            self.error(
                entries["ends"],
                f"{key}.ends",
                f"a timed event cannot end on another day, but {date} starts at "
                f"{start_time:%H:%M} and ends on {ends}",
                "remove `at` for an all-day event over several days, "
                "or give a `duration` instead of `ends`",
            )
            ends = None
        duration = self.duration(entries.get("duration"), f"{key}.duration")
        if not weekly and series is not None and duration and start_time is None:
            self.error(
                entries["duration"],
                f"{key}.duration",
                f"an all-day event cannot have a duration, but {date} has "
                f"{_shown(entries['duration'])}",
                'give a start time with at: "HH:MM", or use `ends` for several days',
            )
        if not entries and node.is_scalar:
            pass
        elif topic is None and not cancelled and "topic" not in entries:
            if not weekly or not (
                entries.get("agenda") or entries.get("moved") or entries.get("notes")
            ):
                self.error(
                    node,
                    key,
                    f"{date} has no topic",
                    "write `topic:`, or `cancelled: yes` for a week without a meeting",
                )
        return Session(
            date=date,
            topic=topic,
            agenda=self.items(entries.get("agenda"), f"{key}.agenda"),
            notes=self.strings(entries.get("notes"), f"{key}.notes"),
            tags=self.tags(entries.get("tags"), f"{key}.tags", tags),
            speaker=self.text(entries.get("speaker"), f"{key}.speaker"),
            recording=self.url(entries.get("recording"), f"{key}.recording"),
            url=self.url(entries.get("url"), f"{key}.url"),
            join=self.url(entries.get("join"), f"{key}.join"),
            cancelled=cancelled,
            reason=reason,
            moved_to=moved_to,
            at=at,
            duration=duration,
            ends=ends,
            line=key_node.line,
        )

    def check_slot(
        self, key_node: Value, date: dt.date, key: str, series: Series, moved: bool
    ) -> None:
        """A weekly session is keyed by a date the series really meets on."""
        day = WEEKDAYS[series.weekday].title()
        if date.weekday() != series.weekday:
            nearest = _nearest_weekday(date, series.weekday)
            self.error(
                key_node,
                key,
                f"{date} is a {WEEKDAYS[date.weekday()].title()}, but the series meets on {day}s",
                f"did you mean {nearest}? If the session was moved to {date}, key it by "
                f"its regular date and add `moved: {date}`"
                if not moved
                else f"did you mean {nearest}? Key a moved session by its regular date",
            )
        elif date < series.starts:
            self.error(
                key_node,
                key,
                f"{date} is before the series starts on {series.starts}",
                "change the date, or move `starts` earlier",
            )
        elif series.ends and date > series.ends:
            self.error(
                key_node,
                key,
                f"{date} is after the series ends on {series.ends}",
                "change the date, or move `ends` later",
            )

    def moved(self, node: Value, key: str, date: dt.date, series: Series) -> dt.datetime | None:
        if not node.is_scalar or node.data is None:
            self.error(
                node,
                key,
                f"expected a date or time, got {_shown(node)}",
                'write `moved: 2024-01-15`, `moved: "10:00"` or `moved: "2024-01-15 10:00"`',
            )
            return None
        raw = node.text().strip()
        parts = raw.split()
        new_date, new_time = date, series.at
        if len(parts) == 2 and parts[0][:1].isdigit() and parts[1][:1].isdigit():
            new_date = self._date_text(node, key, parts[0])
            new_time = self._time_text(node, key, parts[1])
        elif len(parts) == 1 and ":" in raw:
            new_time = self._time_text(node, key, raw)
        elif len(parts) == 1 and raw[:1].isdigit():
            new_date = self._date_text(node, key, raw)
        else:
            self.error(
                node,
                key,
                f"{raw!r} is not a date or time",
                'write `moved: 2024-01-15`, `moved: "10:00"` or `moved: "2024-01-15 10:00"`',
            )
            return None
        if new_date is None or new_time is None:
            return None
        target = dt.datetime.combine(new_date, new_time)
        if target == dt.datetime.combine(date, series.at):
            self.warn(
                node,
                key,
                f"{raw!r} is the session's own regular time",
                "remove `moved`, or give the new date or time",
            )
            return None
        if abs(new_date - date) > dt.timedelta(days=180):
            self.error(
                node,
                key,
                f"{raw!r} moves the session by more than half a year",
                "check the year; add a separate one-off event for a distant date",
            )
            return None
        return target

    def check_moves(self, series: Series, sessions: list[Session], node: Value) -> None:
        """A session cannot be moved onto another session's regular, uncancelled slot."""
        by_date = {s.date: s for s in sessions}
        taken: dict[dt.datetime, Session] = {}
        for session in sessions:
            if session.moved_to is None:
                continue
            other = by_date.get(session.moved_to.date())
            clash = (
                session.moved_to.date().weekday() == series.weekday
                and session.moved_to.time() == series.at
                and series.starts <= session.moved_to.date()
                and (series.ends is None or session.moved_to.date() <= series.ends)
                and not (other and (other.cancelled or other.moved_to))
            )
            at = self.moved_nodes.get((series.id, session.date)) or Value(None, session.line, 1)
            target = f"{session.moved_to:%Y-%m-%d %H:%M}"
            if clash:
                self.error(
                    at,
                    f"series.{series.id}.sessions.{session.date}.moved",
                    f"{target} is the regular time of the {session.moved_to.date()} session",
                    "cancel or move that session first, or pick another time",
                )
            elif session.moved_to in taken:
                self.error(
                    at,
                    f"series.{series.id}.sessions.{session.date}.moved",
                    f"{target} is already taken by the {taken[session.moved_to].date} session, "
                    "moved there too",
                    "pick another time",
                )
            taken[session.moved_to] = session


def _shown(node: Value) -> str:
    return repr(node.text()) if node.is_scalar else node.text()


def _scalars(node: Value | None) -> list[Value]:
    if node is None:
        return []
    items = node.data if node.is_seq else [node]
    return [i for i in items if i.is_scalar and i.data is not None and str(i.data).strip()]


def _next_weekday(date: dt.date, weekday: int) -> dt.date:
    return date + dt.timedelta(days=(weekday - date.weekday()) % 7)


def _nearest_weekday(date: dt.date, weekday: int) -> dt.date:
    after = _next_weekday(date, weekday)
    before = after - dt.timedelta(days=7)
    return before if date - before < after - date else after


@cache
def _timezone_names() -> frozenset[str]:
    # pytz ships its own list of IANA names, free of zoneinfo's "posixrules"-style files.
    return frozenset(pytz.all_timezones) & frozenset(zoneinfo.available_timezones())


def _zone_hint(name: str) -> str:
    names = sorted(_timezone_names())
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return f"did you mean {lowered[name.lower()]!r}? Names are case-sensitive"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "use an IANA name such as 'America/Los_Angeles' or 'Europe/Berlin'"
