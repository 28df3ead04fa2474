"""Every address the site gives out: the feed variants as paths (the same on the app and on a
static export), the public address every link starts from (:class:`Site`), and the links that
subscribe to a feed or add one session in each calendar client. Pure: no request, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from . import ical
from .occurrences import Occurrence
from .plan import ALARMS, alarm_words
from .schedule import Schedule

EMBED_DEFAULT = 5  # sessions the widget shows unless asked for another number
GOOGLE_DETAILS_MAX = 1500  # long URLs fail in some browsers; the .ics link has everything

# Feed variants as paths, the same on the app and on a static export (whose host ignores query
# strings): /tags/<tag>.ics is ?tag=<tag>, /with-cancelled/... is ?cancelled=show,
# /expanded/... is ?expand=utc and /alarm-15m/... is ?alarm=15m. Series ids and tags are
# lowercase letters, digits and hyphens, so these names cannot clash with them.
WITH_CANCELLED = "/with-cancelled"
EXPANDED = "/expanded"
ALARM = "/alarm-"


@dataclass(frozen=True)
class FeedVariant:
    """One feed: every series, one series or one tag; cancelled weeks shown; expanded in UTC;
    with a reminder (a key of :data:`feed.plan.ALARMS`)."""

    series: str | None = None
    tag: str | None = None
    cancelled: bool = False
    expanded: bool = False
    alarm: str | None = None

    @property
    def path(self) -> str:
        if self.series is not None:
            name = f"/series/{self.series}.ics"
        elif self.tag is not None:
            name = f"/tags/{self.tag}.ics"
        else:
            name = "/calendar.ics"
        return (
            (ALARM + self.alarm if self.alarm else "")
            + (EXPANDED if self.expanded else "")
            + (WITH_CANCELLED if self.cancelled else "")
            + name
        )

    @classmethod
    def from_path(cls, path: str) -> FeedVariant | None:
        """The variant a path names (the inverse of :attr:`path`), or None."""
        alarm = None
        if path.startswith(ALARM):
            alarm, _, rest = path[len(ALARM) :].partition("/")
            if alarm not in ALARMS:
                return None
            path = "/" + rest
        expanded = path.startswith(EXPANDED + "/")
        path = path[len(EXPANDED) :] if expanded else path
        cancelled = path.startswith(WITH_CANCELLED + "/")
        path = path[len(WITH_CANCELLED) :] if cancelled else path
        flags = {"cancelled": cancelled, "expanded": expanded, "alarm": alarm}
        if path == "/calendar.ics":
            return cls(**flags)
        for prefix, field in (("/series/", "series"), ("/tags/", "tag")):
            name = path[len(prefix) : -len(".ics")]
            if path.startswith(prefix) and path.endswith(".ics") and name and "/" not in name:
                return cls(**{field: name}, **flags)
        return None


def feed_variants(schedule: Schedule) -> list[FeedVariant]:
    """Every feed a static export holds: each of every series, each series and each declared
    tag, plain, with cancelled weeks, expanded, and both; each without a reminder and with
    each of them."""
    bases = [FeedVariant()]
    bases += [FeedVariant(series=s.id) for s in schedule.series]
    bases += [FeedVariant(tag=tag) for tag in schedule.tag_names]
    return [
        FeedVariant(b.series, b.tag, cancelled, expanded, alarm)
        for alarm in (None, *ALARMS)
        for b in bases
        for expanded in (False, True)
        for cancelled in (False, True)
    ]


@dataclass(frozen=True)
class Site:
    """Where links point.

    ``base`` is the public address without a trailing slash (https://cloud2030.org,
    https://owner.github.io/repo), the address a loopback request was sent to (development), or
    only the app's mount path ("" at the root) when no address is known: links are then relative
    and nothing that needs an absolute address (subscribe buttons, the QR code) is offered.
    ``static``: a static export, whose pages link to its files (embed.html, join.html) rather
    than to the app's routes, and compute what depends on the clock in the browser.
    """

    base: str
    static: bool = False

    @property
    def absolute(self) -> bool:
        return "://" in self.base

    @property
    def root(self) -> str:
        """The path of the site ("" or "/repo"), for its own assets and pages: they then load
        from whatever host name the page was opened with."""
        return urlsplit(self.base).path if self.absolute else self.base

    def url(self, path: str) -> str:
        """The address of a path of the site (path starts with "/"), to share or subscribe to."""
        return self.base + path

    def local(self, path: str) -> str:
        return self.root + path

    def page(self) -> str:
        return self.url("/")

    def feed(self, variant: FeedVariant | None = None) -> str:
        return self.url((variant or FeedVariant()).path)

    def embed(self, limit: int = EMBED_DEFAULT) -> str:
        return self.url(("/embed.html" if self.static else "/embed") + f"?limit={limit}")

    def join(self) -> str:
        return self.url("/join.html" if self.static else "/join")

    def session(self, occurrence: Occurrence) -> str:
        """The page of one session, /sessions/<series>/<date of its regular slot>; a file of
        that name with .html on a static export (hosts serve files by their names)."""
        return self.url(session_page_path(occurrence.key, self.static))


def session_page_path(key: str, static: bool = False) -> str:
    return f"/sessions/{key}" + (".html" if static else "")


def webcal(feed: str) -> str:
    """The address that subscribes where https:// would download a file to import once."""
    return "webcal://" + feed.split("://", 1)[1]


def subscribe_links(name: str, feed: str) -> dict[str, str]:
    """Subscribe addresses per client (docs/clients.md R26). Google wants webcal:// in cid."""
    subscribe = webcal(feed)
    add_from_web = urlencode({"url": feed, "name": name}, quote_via=quote)
    return {
        "webcal": subscribe,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(subscribe, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?" + add_from_web,
        "office": "https://outlook.office.com/calendar/0/addfromweb?" + add_from_web,
        "https": feed,
    }


def google_add_link(occurrence: Occurrence) -> str:
    """Google Calendar's "add this event" template link, times in UTC."""
    if occurrence.all_day:
        dates = f"{occurrence.start:%Y%m%d}/{occurrence.end:%Y%m%d}"
    else:
        start, end = (t.astimezone(dt.UTC) for t in (occurrence.start, occurrence.end))
        dates = f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    params = {"action": "TEMPLATE", "text": occurrence.title, "dates": dates}
    details = ical.description(occurrence)
    if len(details) > GOOGLE_DETAILS_MAX:
        details = details[: GOOGLE_DETAILS_MAX - 1] + "…"
    params["details"] = details
    if occurrence.join:
        params["location"] = occurrence.join
    # safe="/" keeps dates as start/end, the form Google documents; other values have none.
    query = urlencode(params, safe="/", quote_via=quote)
    return "https://calendar.google.com/calendar/render?" + query


def outlook_add_link(occurrence: Occurrence) -> str:
    """Outlook.com's "add this event" link (undocumented, like its subscribe link: R26)."""
    if occurrence.all_day:
        start, end = occurrence.start.isoformat(), occurrence.end.isoformat()
    else:
        start, end = (
            t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for t in (occurrence.start, occurrence.end)
        )
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": occurrence.title,
        "startdt": start,
        "enddt": end,
        "body": ical.description(occurrence)[:GOOGLE_DETAILS_MAX],
    }
    if occurrence.all_day:
        params["allday"] = "true"
    if occurrence.join:
        params["location"] = occurrence.join
    query = urlencode(params, safe="/:", quote_via=quote)
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + query


def feed_list(schedule: Schedule, site: Site) -> list[tuple[str, str, str]]:
    """(label, address, address with cancelled weeks shown) of every feed the page offers."""
    found = [("Everything", FeedVariant())]
    found += [(f"{s.title} only", FeedVariant(series=s.id)) for s in schedule.series]
    found += [(f"{label} sessions", FeedVariant(tag=tag)) for tag, label in schedule.tags]
    return [
        (label, site.feed(v), site.feed(FeedVariant(v.series, v.tag, cancelled=True)))
        for label, v in found
    ]


def reminder_links(site: Site) -> list[tuple[str, str]]:
    """(words, webcal address) of the feed with each reminder: for the clients that honour a
    subscription's reminders (docs/clients.md R39), all of which open webcal:// links."""
    return [(alarm_words(a), webcal(site.feed(FeedVariant(alarm=a)))) for a in ALARMS]
