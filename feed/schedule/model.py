"""The frozen model of schedule.yaml: what the loader builds and everything else reads."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import cache

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_DURATION = dt.timedelta(hours=1)
DEFAULT_REFRESH = dt.timedelta(hours=6)
FIRST_YEAR, LAST_YEAR = 1970, 2200  # the years a schedule may name


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
    url: str | None = None
    recording: str | None = None
    slides: str | None = None
    join: str | None = None
    cancelled: bool = False
    reason: str | None = None
    moved_to: dt.datetime | None = None
    at: dt.time | None = None
    duration: dt.timedelta | None = None
    ends: dt.date | None = None


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
