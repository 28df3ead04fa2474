"""The keys of schedule.yaml, declared once: for each mapping, its fields in order.

Each :class:`Field` says how its value is read (a reader from readers.py), whether it is
required, what it is for (``help``, shown in docs/schedule-format.md and the JSON Schema) and
the JSON Schema of its value. Unknown-key hints, the loader, the JSON Schema and the key reference
in the docs all come from these declarations. A session field shown with the session (in the
feed's DESCRIPTION, on the page, by ``feed diff``) also carries its :class:`Detail`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import readers
from .readers import DOMAIN, ID, WEEKDAY_SPELLINGS


@dataclass(frozen=True)
class Detail:
    """How a session field is shown: ``Label: value`` in the feed, a link on the page."""

    name: str  # the session key and the Session attribute, e.g. "slides"
    label: str  # DESCRIPTION line "Label: value": "Speaker", "More", "Recording", "Slides"
    link_text: str | None  # for URLs: the page's link text; None for plain text
    diff_name: str  # what `feed diff` calls it: "speaker", "link", "recording", "slides"


@dataclass(frozen=True)
class Field:
    name: str
    read: Callable | None  # read(ctx, node, key) -> value; None: the loader reads it
    schema: dict = field(hash=False)  # JSON Schema of the value
    help: str = ""
    required: bool = False
    missing: str | None = None  # the hint when a required key is absent
    empty: str | None = None  # the hint when a required key is there without a value
    applies_to: str | None = None  # "weekly" or "one-off": only in that kind of series
    not_when_cancelled: bool = False  # a cancelled session cannot have it
    needs: tuple[str, ...] = ()  # other keys of the mapping that must be there with this one
    detail: Detail | None = None


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


# Text holds no control character but tab and line break (see feed/schedule/text.py).
_CONTROLS = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029"
TEXT = {"type": "string", "pattern": f"^[^{_CONTROLS}]*$"}
URL = {"type": "string", "pattern": r"^https://\S+$"}
DATE_TEXT = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
TIME_TEXT = {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}
DURATION_TEXT = {
    "type": "string",
    "pattern": r"^(?=.*\d)(\d+\s*h)?\s*(\d+\s*m(in)?)?$|^[Pp][Tt](?=\d)(\d+[Hh])?(\d+[Mm])?$",
}
ZONE = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"}
STRINGS = {"anyOf": [TEXT, {"type": "array", "items": TEXT}]}

TOP = (
    Field(
        "calendar",
        None,
        _ref("calendar"),
        "The calendar as a whole: its name, time zone and the domain of event UIDs.",
        required=True,
        missing="add a calendar: section with name and timezone",
    ),
    Field("page", None, _ref("page"), "Texts and links for the web page; they are not events."),
    Field(
        "series",
        None,
        {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": ID.pattern},
            "additionalProperties": _ref("series"),
        },
        "Each series by its id: lowercase letters, digits and hyphens. The id is part of event "
        "UIDs and URLs: never change it once published.",
        required=True,
        missing="add at least one series",
    ),
)

CALENDAR = (
    Field(
        "name",
        readers.calendar_name,
        {"type": "string", "pattern": f"^[^,;\\\\\\t\\n{_CONTROLS}]+$"},
        "The calendar's name, shown by calendar apps, on one line. No commas, semicolons or "
        "backslashes: clients disagree on escaping them.",
        required=True,
        empty="write the calendar's name after the colon, e.g. name: DevOps Lunch and Learn",
    ),
    Field("description", readers.text, TEXT, "What the calendar is about, for calendar apps."),
    Field(
        "timezone",
        readers.timezone,
        ZONE,
        "An IANA time zone name, e.g. America/Los_Angeles: the time zone of every series that "
        "names none.",
        required=True,
        missing="e.g. timezone: America/Los_Angeles",
        empty="write an IANA time zone name after the colon, e.g. timezone: America/Los_Angeles "
        "or Europe/Berlin",
    ),
    Field(
        "domain",
        readers.domain,
        {"type": "string", "pattern": DOMAIN.pattern},
        "Part of every event's UID (`<series>@<domain>`), so never change it once published. "
        "Default: made from the name.",
    ),
    Field(
        "refresh",
        readers.refresh,
        DURATION_TEXT,
        "How often calendar apps should look for changes (REFRESH-INTERVAL), e.g. 6h. Default 6h.",
    ),
    Field(
        "url",
        readers.url,
        URL,
        "The public https address the page and feeds are served from, e.g. "
        "https://cloud2030.org. Links are built from it; without it, from each request's host.",
    ),
    Field(
        "tags",
        readers.tag_declarations,
        {
            "type": "object",
            "propertyNames": {"pattern": ID.pattern},
            "additionalProperties": TEXT,
        },
        "The tags series and sessions may carry, one `tag: description` per line; a tag is "
        "lowercase letters, digits and hyphens.",
    ),
)

PAGE = (
    Field("intro", readers.text, TEXT, "A line at the top of the page."),
    Field("invite", readers.text, TEXT, "An invitation to present, shown on the page."),
    Field(
        "links",
        None,
        {"type": "array", "items": _ref("link")},
        "Links shown on the page, each `{title: ..., url: https://...}`.",
    ),
    Field(
        "backlog",
        readers.items,
        _ref("items"),
        "Undated future topics: a list of strings; a nested list holds sub-items of the item "
        "before it.",
    ),
)

LINK = (
    Field(
        "title",
        readers.text,
        TEXT,
        "The link's text.",
        required=True,
        empty="write the link's text after the colon, e.g. title: Podcast",
    ),
    Field("url", readers.url, URL, "Its https address; without one, the title is plain text."),
)

SERIES = (
    Field(
        "title",
        readers.text,
        TEXT,
        "The series' name; each event is titled `<title>: <topic>`.",
        required=True,
        empty="write the series' name after the colon, e.g. title: DevOps Lunch and Learn",
    ),
    Field("description", readers.text, TEXT, "What the series is about, in each of its events."),
    Field(
        "every",
        readers.weekday,
        {
            "type": "string",
            "enum": sorted({*WEEKDAY_SPELLINGS, *map(str.title, WEEKDAY_SPELLINGS)}),
        },
        "The weekday of a weekly series, e.g. tuesday (or tue, Tuesdays). Without it, the series "
        "is a list of one-off events.",
        needs=("at", "starts"),
    ),
    Field(
        "at",
        readers.time,
        TIME_TEXT,
        'The start time, 24-hour "HH:MM" in quotes, e.g. "11:00". Required with `every`; in a '
        "list of one-off events, the start of every event that gives none.",
    ),
    Field(
        "duration",
        readers.duration,
        DURATION_TEXT,
        "How long a session lasts: 1h, 90m, 1h30m or PT1H30M. Default 1h.",
    ),
    Field(
        "timezone",
        readers.timezone,
        ZONE,
        "The series' IANA time zone. Default: calendar.timezone.",
    ),
    Field(
        "starts",
        readers.date,
        DATE_TEXT,
        "The date of the first session, on the series' weekday. Required with `every`.",
        applies_to="weekly",
    ),
    Field(
        "ends",
        readers.date,
        DATE_TEXT,
        "The last date a session can be on (inclusive).",
        applies_to="weekly",
    ),
    Field("join", readers.url, URL, "The https link to join a session (Zoom, Meet ...)."),
    Field("tags", readers.tags, STRINGS, "Tags of every session of the series."),
    Field(
        "sessions",
        None,
        _ref("sessions"),
        "What happens on each date, keyed by the date of the regular slot (YYYY-MM-DD): a topic, "
        "or the session's keys.",
    ),
)

SESSION = (
    Field(
        "topic",
        readers.topic,
        TEXT,
        "What the session is about. `2024-01-16: eBPF` is short for `2024-01-16: {topic: eBPF}`.",
        not_when_cancelled=True,
    ),
    Field(
        "agenda",
        readers.items,
        _ref("items"),
        "A list of strings; a nested list holds sub-items of the item before it.",
        not_when_cancelled=True,
    ),
    Field("notes", readers.strings, STRINGS, "A note, or a list of notes."),
    Field("tags", readers.tags, STRINGS, "Tags of this session, besides the series' tags."),
    Field(
        "speaker",
        readers.text,
        TEXT,
        "Who presents.",
        not_when_cancelled=True,
        detail=Detail("speaker", "Speaker", None, "speaker"),
    ),
    Field(
        "url",
        readers.url,
        URL,
        "An https link to more about the session.",
        detail=Detail("url", "More", "More information", "link"),
    ),
    Field(
        "recording",
        readers.url,
        URL,
        "An https link to the session's recording.",
        not_when_cancelled=True,
        detail=Detail("recording", "Recording", "Recording", "recording"),
    ),
    Field(
        "slides",
        readers.url,
        URL,
        "An https link to the session's slides.",
        not_when_cancelled=True,
        detail=Detail("slides", "Slides", "Slides", "slides"),
    ),
    Field("join", readers.url, URL, "The https link to join this session, instead of the series'."),
    Field(
        "cancelled",
        readers.flag_or_text,
        {"type": ["boolean", "string", "null"]},
        "`yes`, or the reason (`cancelled: Thanksgiving week`): no session that day. A cancelled "
        "session has no topic, agenda, speaker, recording, slides or move.",
    ),
    Field(
        "moved",
        readers.moved,
        {
            "type": "string",
            "pattern": r"^(\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2} +\d{1,2}:\d{2})$",
        },
        'Where a weekly session really happens: a date, "HH:MM" or "YYYY-MM-DD HH:MM" (quote '
        "times). The session stays keyed by its regular date.",
        applies_to="weekly",
        not_when_cancelled=True,
    ),
    Field("duration", readers.duration, DURATION_TEXT, "How long this session lasts."),
    Field(
        "at",
        readers.time,
        TIME_TEXT,
        'The start time of a one-off event, "HH:MM" in quotes; without it (and without the '
        "series' `at`) the event lasts all day.",
        applies_to="one-off",
    ),
    Field(
        "ends",
        readers.date,
        DATE_TEXT,
        "The last day (inclusive) of an all-day event over several days.",
        applies_to="one-off",
    ),
)

# Each declared mapping by the name the JSON Schema gives it, with where it is in the file.
MAPPINGS = {
    "schedule": ("Top level", TOP),
    "calendar": ("`calendar`", CALENDAR),
    "page": ("`page`", PAGE),
    "link": ("`page.links`: each link", LINK),
    "series": ("`series.<id>`", SERIES),
    "session": ("`series.<id>.sessions.<date>`", SESSION),
}

TOP_KEYS = tuple(f.name for f in TOP)
CALENDAR_KEYS = tuple(f.name for f in CALENDAR)
PAGE_KEYS = tuple(f.name for f in PAGE)
LINK_KEYS = tuple(f.name for f in LINK)
SERIES_KEYS = tuple(f.name for f in SERIES)
SESSION_KEYS = tuple(f.name for f in SESSION)
SESSION_DETAILS: tuple[Detail, ...] = tuple(f.detail for f in SESSION if f.detail is not None)
