"""What scripts and widgets ask for: the sessions as JSON (/sessions.json), the next one
(/next, /next.json), and /join, a stable short link to the next session's meeting."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, request

from . import http, jsonfeed, occurrences
from .pages import SHORT_SECONDS, fresh_until
from .publish import JSON, Document
from .schedule import Schedule
from .web import (
    NEXT_DAYS,
    known_series,
    local_today,
    next_or_404,
    now,
    parse_day,
    parse_limit,
    parse_tag,
    public_base,
    send,
    since_midnight,
    version,
)

bp = Blueprint("api", __name__)

MAX_SPAN_DAYS = 3 * 366  # /sessions.json: at most about three years per request
DEFAULT_SPAN_DAYS = 365
MAX_LIMIT = 500
JSON_PARAMS = ("from", "to", "series", "tag", "limit")


def parse_series(schedule: Schedule, values: list[str]) -> tuple[str, ...] | None:
    ids = [i for v in values for i in v.split(",")]
    if not ids:
        return None
    for sid in ids:
        if schedule.get(sid) is None:
            known = known_series(schedule)
            abort(400, f"series={sid!r} is not a known series; known series: {known}.")
    return tuple(dict.fromkeys(ids))


@bp.get("/sessions.json")
def sessions_json():
    """Expanded sessions as JSON; see the README for the parameters."""
    current = version()
    schedule = current.schedule
    args = request.args
    for name in args:
        if name not in JSON_PARAMS:
            abort(400, f"Unknown parameter {name!r}; use from, to, series, tag or limit.")
    today = local_today(schedule)
    first = parse_day("from", args["from"]) if "from" in args else today
    if "to" in args:
        last = parse_day("to", args["to"])
    else:
        last = first + dt.timedelta(days=DEFAULT_SPAN_DAYS)
    if last < first:
        abort(400, f"to={last} is before from={first}.")
    if (last - first).days > MAX_SPAN_DAYS:
        abort(
            400,
            f"from={first} to={last} is more than {MAX_SPAN_DAYS} days (3 years); "
            "ask for a shorter range.",
        )
    series_ids = parse_series(schedule, args.getlist("series"))
    tag = parse_tag(schedule, args.get("tag"))
    limit = parse_limit(args.get("limit"), MAX_LIMIT, MAX_LIMIT)
    base = public_base(schedule)

    def build() -> Document:
        found = occurrences.between(schedule, first, last, series_ids)
        if tag is not None:
            found = [o for o in found if tag in o.tags]
        query = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "series": list(series_ids) if series_ids else None,
            "tag": tag,
        }
        body = jsonfeed.render(schedule, found, base, query, limit)
        dated = "from" not in args  # "from" defaults to today
        modified = since_midnight(current, today) if dated else current.last_modified
        return Document(body, JSON, modified, "sessions.json")

    if not args:  # the default form is what widgets ask for; other forms vary too much
        return send(current.document(("sessions.json", today, base), build))
    return send(build())


@bp.get("/next")
@bp.get("/next.json")
def next_json():
    """The live session, or else the next one that is not cancelled: the same object as in
    /sessions.json, with ``state`` ("live", "soon" or "next") and ``live``. Caches may keep
    it until the state changes."""
    current = version()
    instant = now()
    moment = occurrences.live_or_next(current.schedule, instant, False, NEXT_DAYS)
    if moment.session is None:
        abort(404, f"No upcoming session in the next {NEXT_DAYS} days.")
    found = moment.session
    base = public_base(current.schedule)

    def build() -> Document:
        data = jsonfeed.session(current.schedule, found, base)
        data |= {"state": moment.state, "live": moment.live}
        return Document(jsonfeed.dumps(data), JSON, current.last_modified)

    document = current.document(("next.json", found.key, moment.state, base), build)
    return fresh_until(send(document, short_lived=True), instant, moment.until, SHORT_SECONDS)


@bp.get("/join")
def join():
    """A stable short link to the live or next session's join link, for chat topics and
    slides. Never stored: the redirect must change the moment a session ends, and a static
    host's copy of it (nginx.conf) must not outlive the build."""
    found = next_or_404(version(), need_join=True)
    response = redirect(found.join, code=302)
    response.headers["Cache-Control"] = http.NO_STORE
    return response
