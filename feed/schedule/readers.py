"""Readers of single values: each takes a positioned YAML value and reports what is wrong with it.

A reader is called as ``read(ctx, node, key)`` with the value (never None: absent keys are not
read), the dotted key it sits at, and the :class:`Context` that collects problems. It returns
the value for the model, or None (or an empty tuple) after reporting why it cannot.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from functools import cache
from urllib.parse import urlsplit

import ada_url
import pytz

from .model import FIRST_YEAR, LAST_YEAR, WEEKDAYS, AgendaItem
from .problems import did_you_mean, one_of
from .reading import Context, mapping, quoted, shown
from .yamlread import Value

# Numbers are ASCII digits only (\d would take any script's digits, and int() would read them).
DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_SHORT_YEAR = re.compile(r"([0-9]{1,3}|[0-9]{5,})(-[0-9]{1,2}-[0-9]{1,2})")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
DURATION = re.compile(r"(?:([0-9]+)\s*h)?\s*(?:([0-9]+)\s*m(?:in)?)?", re.ASCII)
ISO_DURATION = re.compile(r"PT(?:([0-9]+)H)?(?:([0-9]+)M)?")
ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?$")
NAME_FORBIDDEN = re.compile(r"[,;\\]")
NAME_ONE_LINE = re.compile(r"[\t\n]")
_TRUE = ("yes", "true", "on", "y")
_FALSE = ("no", "false", "off", "n")
# Every accepted spelling of a weekday (compared in lower case): "tuesday", "tue", "tues",
# "tuesdays"; "thur" for Thursday.
WEEKDAY_SPELLINGS = {
    spelling: index
    for index, day in enumerate(WEEKDAYS)
    for spelling in (day, day + "s", day[:3], day[:4] if day != "thursday" else "thur")
}


# -- text ----------------------------------------------------------------------------------


def text(ctx: Context, node: Value, key: str) -> str | None:
    """One line of text; an empty value is no value."""
    if not node.is_scalar:
        ctx.error(
            node,
            key,
            f"expected text, got {shown(node)}",
            'write it on one line; put text with [ ] { } or ": " in quotes',
        )
        return None
    if node.data is None:
        return None
    if not str(node.data).strip():
        name = key.rsplit(".", 1)[-1]
        ctx.error(node, key, f"the {name} is empty", "write some text or remove the key")
        return None
    return str(node.data).strip()


def topic(ctx: Context, node: Value, key: str) -> str | None:
    """A session's topic: unlike other text, `topic:` with nothing after it is a mistake."""
    value = text(ctx, node, key)
    if value is None and node.is_scalar and node.data is None:
        ctx.error(node, key, "the topic is empty", "write the topic or remove the key")
    return value


def calendar_name(ctx: Context, node: Value, key: str) -> str | None:
    name = text(ctx, node, key)
    if name and NAME_FORBIDDEN.search(name):
        ctx.error(
            node,
            key,
            f"{quoted(name)} contains a comma, semicolon or backslash",
            "calendar clients disagree on escaping these in calendar names; reword without them",
        )
    elif name and NAME_ONE_LINE.search(name):
        ctx.error(
            node,
            key,
            f"{quoted(name)} holds a line break or a tab",
            "a calendar name is one line; write it without them",
        )
    return name


def domain(ctx: Context, node: Value, key: str) -> str | None:
    value = text(ctx, node, key)
    if value and not DOMAIN.fullmatch(value):
        ctx.error(
            node,
            key,
            f"{quoted(value)} is not a domain name",
            "e.g. cloud2030.org; it makes event UIDs globally unique",
        )
        return None
    return value


def url(ctx: Context, node: Value, key: str) -> str | None:
    """An https link, read once the way browsers read it (the WHATWG URL standard) and kept in
    that normalised form: what the page links to, the feed and JSON show and /join redirects to
    is one and the same address. A link that other URL readers (RFC 3986: Python, many
    calendar clients) would send to another host is refused, and so is one with a user name."""
    value = text(ctx, node, key)
    if value is None:
        return None
    space = next((c for c in value if c.isspace()), None)
    if space is not None and value[:8].lower() == "https://":
        name = _SPACES.get(space, "a space")
        code = "".join(f"%{byte:02X}" for byte in space.encode())
        ctx.error(
            node,
            key,
            f"{quoted(value)} contains {name}",
            f"remove it, or write it as {code}: a link holds no spaces, and calendar clients "
            "cut it at the first one",
        )
        return None
    parsed = whatwg_url(value)
    if (
        parsed is None
        or parsed.protocol != "https:"
        or not parsed.hostname
        or any(c.isspace() for c in value)
    ):
        ctx.error(
            node,
            key,
            f"{quoted(value)} is not an https URL",
            "write the whole link, starting with https://; "
            "calendar clients and browsers block other links",
        )
        return None
    if parsed.username or parsed.password:
        ctx.error(
            node,
            key,
            f"{quoted(value)} has a user name before its host {parsed.hostname!r}",
            "remove the part up to @: links need none, and it makes a link look like it "
            "goes to another site",
        )
        return None
    other = _rfc3986_host(value)
    if other != parsed.hostname:
        elsewhere = f"to {other!r}" if other else "nowhere"
        ctx.error(
            node,
            key,
            f"{quoted(value)} leads browsers to {parsed.hostname!r} but other programs {elsewhere}",
            f"write the link plainly, e.g. {quoted(parsed.href)}, "
            "without backslashes or extra slashes",
        )
        return None
    return parsed.href


_SPACES = {"\t": "a tab", "\n": "a line break"}


def whatwg_url(value: str) -> ada_url.URL | None:
    """The URL as browsers parse it, or None when they cannot."""
    try:
        return ada_url.URL(value)
    except ValueError:
        return None


def _rfc3986_host(value: str) -> str | None:
    """The host an RFC 3986 reader finds, in the browsers' normal form (IDNA, lower case)."""
    try:
        host = urlsplit(value).hostname
    except ValueError:  # e.g. "https://[" (an unclosed IPv6 address)
        return None
    if not host:
        return None
    found = whatwg_url(f"https://[{host}]/" if ":" in host else f"https://{host}/")
    return found.hostname if found is not None else None


def strings(ctx: Context, node: Value, key: str) -> tuple[str, ...]:
    """A string or a list of strings."""
    items = node.data if node.is_seq else [node]
    return tuple(value for item in items if (value := text(ctx, item, key)) is not None)


def items(ctx: Context, node: Value, key: str) -> tuple[AgendaItem, ...]:
    """Agenda-style nested lists: a list right after a string holds its sub-items."""
    if node.is_scalar:
        value = text(ctx, node, key)
        return (AgendaItem(value),) if value else ()
    if not node.is_seq:
        ctx.error(
            node,
            key,
            f"expected a list, got {shown(node)}",
            "write items as a YAML list: - first item",
        )
        return ()
    result: list[AgendaItem] = []
    for item in node.data:
        if item.is_seq:
            children = items(ctx, item, key)
            if not result:
                ctx.error(
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
            ctx.error(
                item,
                key,
                "expected an agenda item, got a mapping",
                "a colon followed by a space makes a mapping; quote the item",
            )
        elif (value := text(ctx, item, key)) is not None:
            result.append(AgendaItem(value))
    return tuple(result)


def flag_or_text(ctx: Context, node: Value, key: str) -> tuple[bool, str | None]:
    """`cancelled: yes`, `cancelled: no` or `cancelled: <reason>`: (cancelled, reason)."""
    if not node.is_scalar:
        ctx.error(
            node,
            key,
            f"expected yes or a reason, got {shown(node)}",
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


# -- tags ----------------------------------------------------------------------------------


def tags(ctx: Context, node: Value, key: str) -> tuple[str, ...]:
    """Tags of a series or session: each one declared under calendar.tags."""
    declared = ctx.tags
    result = []
    for value, item in zip(strings(ctx, node, key), _scalars(node), strict=False):
        if value not in declared:
            hint = did_you_mean(value, declared) or (
                "declare it under calendar.tags"
                if not declared
                else one_of(declared) + ", or declare it under calendar.tags"
            )
            ctx.error(item, key, f"unknown tag {quoted(value)}", hint)
            continue
        result.append(value)
    return tuple(result)


def tag_declarations(ctx: Context, node: Value, key: str) -> tuple[tuple[str, str], ...]:
    """calendar.tags: `tag: description` lines."""
    if not node.is_map:
        ctx.error(
            node,
            key,
            "expected a mapping of tag: description",
            "one tag per line under `tags:`, e.g. `ops: Technical Ops Series`",
        )
        return ()
    described = mapping(ctx, node, key, tuple(k.text() for k, _ in node.data))
    declared = []
    for key_node, _ in node.data:
        tag = key_node.text()
        if not ID.fullmatch(tag):
            ctx.error(
                key_node,
                key,
                f"{quoted(tag)} is not a valid tag",
                "use lowercase letters, digits and hyphens, e.g. platform-engineering",
            )
            continue
        declared.append((tag, text(ctx, described[tag], f"{key}.{tag}") or tag))
    return tuple(declared)


def _scalars(node: Value) -> list[Value]:
    items = node.data if node.is_seq else [node]
    return [i for i in items if i.is_scalar and i.data is not None and str(i.data).strip()]


# -- dates and times -----------------------------------------------------------------------


def date(ctx: Context, node: Value, key: str) -> dt.date | None:
    return date_text(ctx, node, key, node.text())


def date_text(
    ctx: Context, node: Value, key: str, raw: str, near: dt.date | None = None
) -> dt.date | None:
    """A date written as raw (a session's key, or part of `moved`), reported at node. ``near``
    (else the date of the session being read) is a date the file has nearby: a mistyped year
    close to it is suggested."""
    match = DATE.fullmatch(raw.strip())
    short = None if match else _SHORT_YEAR.fullmatch(raw.strip())
    if short and len(short[1]) < 4:
        ctx.error(
            node,
            key,
            f"{quoted(raw)} has the year {short[1]}",
            "write the full four-digit year, e.g. 2022",
        )
        return None
    if not (match or short):
        ctx.error(
            node, key, f"{quoted(raw)} is not a date", "write dates as YYYY-MM-DD, e.g. 2024-01-16"
        )
        return None
    digits = (match or short)[1]
    if short or not FIRST_YEAR <= int(digits) <= LAST_YEAR:
        meant = _meant_year(digits, near or ctx.date)
        rest = raw.strip()[len(digits) :]
        shown_year = digits if len(digits) <= 8 else quoted(digits, 20)
        ctx.error(
            node,
            key,
            f"{quoted(raw)} has the year {shown_year}, outside the years a schedule may name "
            f"({FIRST_YEAR} to {LAST_YEAR})",
            f"did you mean {meant}{rest}?" if meant else "check the year",
        )
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        ctx.error(node, key, f"{quoted(raw)} is not a valid date: {exc}", "check the month and day")
        return None


def _meant_year(digits: str, near: dt.date | None) -> int | None:
    """The year a mistyped one most likely means: one typing slip away (two digits swapped,
    one digit wrong, one too many), in range, and the closest to ``near`` within two years;
    without ``near``, the only year two swapped digits give."""
    if len(digits) > 6:  # no slip makes a year of that
        return None
    swapped = {
        digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] for i in range(len(digits) - 1)
    }
    slips = {
        *swapped,
        *(digits[:i] + c + digits[i + 1 :] for i in range(len(digits)) for c in "0123456789"),
        *(digits[:i] + digits[i + 1 :] for i in range(len(digits))),
    }
    years = {int(y) for y in (slips if near else swapped) if len(y) == 4 and y[0] != "0"}
    years = sorted(y for y in years if FIRST_YEAR <= y <= LAST_YEAR)
    if near is None:
        return years[0] if len(years) == 1 else None
    close = sorted((abs(y - near.year), y) for y in years if abs(y - near.year) <= 2)
    return close[0][1] if close and (len(close) == 1 or close[0][0] < close[1][0]) else None


def time(ctx: Context, node: Value, key: str) -> dt.time | None:
    return time_text(ctx, node, key, node.text())


def time_text(ctx: Context, node: Value, key: str, raw: str) -> dt.time | None:
    match = _TIME.fullmatch(raw.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        ctx.error(
            node,
            key,
            f"{quoted(raw)} is not a time of day",
            'write 24-hour time as "HH:MM" in quotes, e.g. "11:00" or "14:30"',
        )
        return None
    return dt.time(int(match[1]), int(match[2]))


def duration_reader(too_long: str):
    """A reader of durations from 1 minute to 24 hours; ``too_long`` is the hint beyond."""

    def duration(ctx: Context, node: Value, key: str) -> dt.timedelta | None:
        raw = node.text().strip()
        match = DURATION.fullmatch(raw) if raw else None
        if not (match and any(match.groups())):
            match = ISO_DURATION.fullmatch(raw.upper())
        if not (match and any(match.groups())):
            hint = "write e.g. 1h, 90m, 1h30m or PT1H30M"
            if raw.isascii() and raw.isdigit() and len(raw) <= 6:
                hint = f"add a unit: {raw}m for minutes or {raw}h for hours"
            ctx.error(node, key, f"{quoted(raw)} is not a duration", hint)
            return None
        # Capped before conversion: int() refuses over 4,300 digits, timedelta overflows sooner.
        hours, minutes = (number(g or "0", 100_000) for g in match.groups())
        value = dt.timedelta(hours=hours, minutes=minutes)
        if not dt.timedelta(0) < value <= dt.timedelta(hours=24):
            ctx.error(node, key, f"{quoted(raw)} is not between 1 minute and 24 hours", too_long)
            return None
        return value

    return duration


duration = duration_reader("a session longer than a day should be a one-off event with `ends`")
refresh = duration_reader("calendar clients check for changes every few hours; e.g. refresh: 6h")


def number(digits: str, cap: int) -> int:
    """The value of a string of ASCII digits, or ``cap`` when it is larger: the digits are
    counted before anything converts them."""
    digits = digits.lstrip("0") or "0"
    return cap if len(digits) > len(str(cap)) else min(int(digits), cap)


def weekday(ctx: Context, node: Value, key: str) -> int | None:
    raw = node.text().strip().lower()
    if raw in WEEKDAY_SPELLINGS:
        return WEEKDAY_SPELLINGS[raw]
    ctx.error(
        node,
        key,
        f"{shown(node)} is not a weekday" if raw else "no weekday is given",
        did_you_mean(raw, WEEKDAYS) or one_of(WEEKDAYS),
    )
    return None


def moved(ctx: Context, node: Value, key: str) -> dt.datetime | None:
    """Where a weekly session really happens: a date, a time, or both (``ctx.series``, ``ctx.date``
    say which session of which series)."""
    series, date = ctx.series, ctx.date
    example = 'write `moved: 2024-01-15`, `moved: "10:00"` or `moved: "2024-01-15 10:00"`'
    if not node.is_scalar or node.data is None:
        ctx.error(node, key, f"expected a date or time, got {shown(node)}", example)
        return None
    raw = node.text().strip()
    parts = raw.split()
    new_date, new_time = date, series.at
    if len(parts) == 2 and parts[0][:1].isdigit() and parts[1][:1].isdigit():
        new_date = date_text(ctx, node, key, parts[0])
        new_time = time_text(ctx, node, key, parts[1])
    elif len(parts) == 1 and ":" in raw:
        new_time = time_text(ctx, node, key, raw)
    elif len(parts) == 1 and raw[:1].isdigit():
        new_date = date_text(ctx, node, key, raw)
    else:
        ctx.error(node, key, f"{quoted(raw)} is not a date or time", example)
        return None
    if new_date is None or new_time is None:
        return None
    target = dt.datetime.combine(new_date, new_time)
    if target == dt.datetime.combine(date, series.at):
        ctx.warn(
            node,
            key,
            f"{quoted(raw)} is the session's own regular time",
            "remove `moved`, or give the new date or time",
        )
        return None
    if abs(new_date - date) > dt.timedelta(days=180):
        ctx.error(
            node,
            key,
            f"{quoted(raw)} moves the session by more than half a year",
            "check the year; add a separate one-off event for a distant date",
        )
        return None
    return target


def timezone(ctx: Context, node: Value, key: str) -> str | None:
    name = text(ctx, node, key)
    if name is None:
        return None
    if name not in _timezone_names():
        ctx.error(node, key, f"{quoted(name)} is not a known time zone", _zone_hint(name))
        return None
    return name


@cache
def _timezone_names() -> frozenset[str]:
    # pytz ships its own list of IANA names, free of zoneinfo's "posixrules"-style files.
    return frozenset(pytz.all_timezones) & frozenset(zoneinfo.available_timezones())


def _zone_hint(name: str) -> str:
    names = sorted(_timezone_names())
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return f"did you mean {lowered[name.lower()]!r}? Names are case-sensitive"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6) if len(name) <= 100 else []
    if close:
        return f"did you mean {close[0]!r}?"
    return "use an IANA name such as 'America/Los_Angeles' or 'Europe/Berlin'"
