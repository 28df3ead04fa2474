"""What subscribers will see change between two versions of schedule.yaml, in plain words.

Pure: ``diff(old, new)`` takes two Schedules and returns report lines, one change per line,
ready to paste into a pull-request review::

    devops-lunch-and-learn: Tue 2022-11-22 11:00 PST: cancelled (Thanksgiving week)
    devops-lunch-and-learn: every session from 2024-01-02 on: 11:00 -> 12:00

Sessions are compared as expanded occurrences (what the feed contains) over the dates either
version mentions; a change to the series itself (its time, day, length, zone or join link) is
one summary line instead of one line per affected week. Comments and reformatting change
nothing, so they report nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import occurrences
from .occurrences import Occurrence
from .schedule import SESSION_DETAILS, AgendaItem, Report, Schedule, Series, Session, check


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing two texts: the check of each, and the change lines when both
    are valid."""

    old: Report
    new: Report
    lines: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.old.ok and self.new.ok

    @property
    def exit_code(self) -> int:
        """0: nothing subscribers see changed; 1: something did; 2: a version is invalid."""
        if not self.valid:
            return 2
        return 1 if self.lines else 0


def diff_texts(
    old_text: str | bytes, new_text: str | bytes, old_path: str = "old", new_path: str = "new"
) -> Comparison:
    """Validate both texts and compare them; invalid texts give their problems instead."""
    old, new = check(old_text, old_path), check(new_text, new_path)
    if not (old.ok and new.ok):
        return Comparison(old, new)
    return Comparison(old, new, tuple(diff(old.schedule, new.schedule)))


def diff(old: Schedule, new: Schedule) -> list[str]:
    """Every subscriber-visible change from old to new, calendar first, then series in order."""
    lines = _calendar(old, new)
    old_ids = [s.id for s in old.series]
    new_ids = [s.id for s in new.series]
    for sid in new_ids + [i for i in old_ids if i not in new_ids]:
        before, after = old.get(sid), new.get(sid)
        if before is None:
            lines.append(f"{sid}: series added: {_q(after.title)}")
            lines.extend(f"{sid}: {_when(o)}: added{_about(o)}" for o in _listed(after))
        elif after is None:
            lines.append(f"{sid}: series removed: {_q(before.title)}")
        else:
            lines.extend(f"{sid}: {line}" for line in _series(before, after))
    return lines


def _calendar(old: Schedule, new: Schedule) -> list[str]:
    lines = []
    if old.name != new.name:
        lines.append(f"calendar renamed: {_q(old.name)} -> {_q(new.name)}")
    if old.description != new.description:
        lines.append(f"calendar description: {_q(old.description)} -> {_q(new.description)}")
    if old.domain != new.domain:
        lines.append(
            f"calendar domain: {old.domain} -> {new.domain} (every event gets a new UID: "
            "subscribers will see each event twice until their app drops the old ones)"
        )
    if old.refresh != new.refresh:
        lines.append(f"refresh hint: {_span(old.refresh)} -> {_span(new.refresh)}")
    if old.tags != new.tags:
        lines.append(f"tags: {_tags(old.tags)} -> {_tags(new.tags)}")
    if old.page != new.page:
        lines.append("web page: intro, invite, links or backlog changed")
    return lines


def _series(old: Series, new: Series) -> list[str]:
    lines = []
    if old.title != new.title:
        lines.append(f"renamed: {_q(old.title)} -> {_q(new.title)}")
    if old.description != new.description:
        lines.append(f"description: {_q(old.description)} -> {_q(new.description)}")
    if old.tags != new.tags:
        lines.append(f"tags of every session: {_list(old.tags)} -> {_list(new.tags)}")
    if old.weekly != new.weekly:
        kind = ("weekly", "one-off events")
        lines.append(f"now {kind[not new.weekly]} (was {kind[not old.weekly]})")
        lines.extend(f"{_when(o)}: removed{_about(o)}" for o in _listed(old))
        lines.extend(f"{_when(o)}: added{_about(o)}" for o in _listed(new))
        return lines
    if new.weekly:
        lines.extend(_regular(old, new))
    dates = sorted({s.date for s in old.sessions} | {s.date for s in new.sessions})
    for day in dates:
        before, after = _occurrence(old, day), _occurrence(new, day)
        if before is None and after is None:
            continue
        if before is None:
            lines.append(f"{_when(after)}: added{_about(after)}")
        elif after is None:
            lines.append(f"{_when(before)}: removed{_about(before)}")
        else:
            lines.extend(f"{_when(before)}: {c}" for c in _changes(old, new, before, after))
    return lines


def _regular(old: Series, new: Series) -> list[str]:
    """Summary lines for what changes every regular week."""
    lines = []
    since = f"every session from {max(old.starts, new.starts)} on"
    day_old, day_new = _weekday(old), _weekday(new)
    if (old.weekday, old.at, old.timezone) != (new.weekday, new.at, new.timezone):
        same_day = day_old == day_new
        was = f"{'' if same_day else day_old + ' '}{old.at:%H:%M}"
        now = f"{'' if same_day else day_new + ' '}{new.at:%H:%M}"
        if old.timezone != new.timezone:
            was, now = f"{was} {old.timezone}", f"{now} {new.timezone}"
        lines.append(f"{since}: {was} -> {now}")
    if old.duration != new.duration:
        lines.append(f"{since}: {_span(old.duration)} -> {_span(new.duration)} long")
    if old.join != new.join:
        lines.append(f"{since}: join link {old.join or 'none'} -> {new.join or 'none'}")
    if old.starts != new.starts and old.weekday == new.weekday:
        early, late = sorted((old.starts, new.starts))
        last = late - occurrences.WEEK
        span = f"{early}" if early == last else f"{early} to {last}"
        verb = "added" if new.starts < old.starts else "removed"
        lines.append(f"first session now {new.starts} (was {old.starts}): {span} {verb}")
    if old.ends != new.ends:
        if new.ends is None or (old.ends is not None and new.ends > old.ends):
            lines.append(f"sessions after {old.ends} added (now {_ends(new)})")
        else:
            lines.append(f"sessions after {new.ends} removed (was {_ends(old)})")
    return lines


def _ends(series: Series) -> str:
    return f"ends {series.ends}" if series.ends else "no end date"


def _occurrence(series: Series, day: dt.date) -> Occurrence | None:
    """The occurrence of a dated entry as the feed shows it, or None when there is none."""
    if not series.weekly:
        session = series.session(day)
        return occurrences.one_off(series, session) if session else None
    if day.weekday() != series.weekday or day < series.starts:
        return None
    if series.ends and day > series.ends:
        return None
    return occurrences.weekly(series, day)


def _listed(series: Series) -> list[Occurrence]:
    found = [_occurrence(series, s.date) for s in series.sessions]
    return [o for o in found if o is not None]


def _changes(old: Series, new: Series, a: Occurrence, b: Occurrence) -> list[str]:
    """What changed for one dated entry, leaving out what the series-level lines explain."""
    sa, sb = a.session, b.session
    lines = []
    if a.cancelled != b.cancelled:
        if b.cancelled:
            reason = sb.reason
            return [f"cancelled ({reason})" if reason else "cancelled"]
        lines.append("no longer cancelled")
    elif b.cancelled and sa.reason != sb.reason:
        # Shown by ?cancelled=show feeds, the page and the JSON: a visible change too.
        lines.append(f"cancellation reason: {_q(sa.reason)} -> {_q(sb.reason)}")
    if not _explained_time(old, new, a, b):
        if a.start != b.start:
            lines.append(f"moved to {_at(b)}" if b.moved or not new.weekly else f"back to {_at(b)}")
        elif a.end != b.end:
            lines.append(f"now ends {_end(b)} (was {_end(a)})")
    if a.topic != b.topic:
        if a.topic is None:
            lines.append(f"topic added: {_q(b.topic)}")
        elif b.topic is None:
            lines.append(f"topic removed: {_q(a.topic)}")
        else:
            lines.append(f"retitled: {_q(a.topic)} -> {_q(b.topic)}")
    lines.extend(_field_changes(sa, sb))
    tags_a, tags_b = (sa.tags if sa else ()), (sb.tags if sb else ())
    if tags_a != tags_b:
        lines.append(f"tags: {_list(tags_a)} -> {_list(tags_b)}")
    own_join = (sa and sa.join) or (sb and sb.join)
    if own_join and a.join != b.join:
        lines.append(f"join link: {a.join or 'none'} -> {b.join or 'none'}")
    return lines


def _explained_time(old: Series, new: Series, a: Occurrence, b: Occurrence) -> bool:
    """True when the time change is the series' own (already summarized), not this session's."""
    if not new.weekly or (a.start == b.start and a.end == b.end):
        return False
    if a.moved or b.moved:
        # A move by date only keeps the series' time, so it follows a change of `at`.
        same_day = a.start.date() == b.start.date() or (
            a.slot.date() - a.start.date() == b.slot.date() - b.start.date()
        )
        return same_day and a.start.time() == old.at and b.start.time() == new.at
    return True


def _field_changes(a: Session | None, b: Session | None) -> list[str]:
    """Agenda, notes and each detail shown with a session (speaker, links ...)."""
    lines = []
    agenda_a = _flat(a.agenda) if a else []
    agenda_b = _flat(b.agenda) if b else []
    if agenda_a != agenda_b:
        added = [i for i in agenda_b if i not in agenda_a]
        removed = [i for i in agenda_a if i not in agenda_b]
        parts = []
        if added:
            parts.append("added " + ", ".join(_q(i) for i in added))
        if removed:
            parts.append("removed " + ", ".join(_q(i) for i in removed))
        lines.append("agenda " + ("; ".join(parts) if parts else "reordered"))
    named = [("notes", "notes"), *((d.name, d.diff_name) for d in SESSION_DETAILS)]
    for name, label in named:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        va, vb = (va or None), (vb or None)
        if va != vb:
            lines.append(f"{label}: {_value(va)} -> {_value(vb)}")
    return lines


def _flat(items: tuple[AgendaItem, ...]) -> list[str]:
    result = []
    for item in items:
        result.append(item.text)
        result.extend(_flat(item.children))
    return result


def _value(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return _q("; ".join(value))
    return value if value.startswith("https://") else _q(value)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]" if values else "none"


def _tags(tags: tuple[tuple[str, str], ...]) -> str:
    return _list(tuple(name for name, _ in tags))


def _q(text: str | None) -> str:
    return "none" if text is None else '"' + text.replace('"', '\\"') + '"'


def _about(o: Occurrence) -> str:
    if o.cancelled:
        return f" (cancelled: {o.session.reason})" if o.session.reason else " (cancelled)"
    return f": {_q(o.topic)}" if o.topic else ""


def _weekday(series: Series) -> str:
    return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[series.weekday]


def _when(o: Occurrence) -> str:
    """The regular slot (or event) a line is about, in the series' own time zone."""
    if o.all_day:
        return f"{o.start:%a %Y-%m-%d} (all day)"
    start = o.slot.replace(tzinfo=o.series.zone) if o.slot else o.start
    return f"{start:%a %Y-%m-%d %H:%M %Z}"


def _at(o: Occurrence) -> str:
    if o.all_day:
        return f"{o.start:%a %Y-%m-%d} (all day)"
    return f"{o.start:%a %Y-%m-%d %H:%M %Z}"


def _end(o: Occurrence) -> str:
    if o.all_day:
        return f"{o.end - dt.timedelta(days=1):%a %Y-%m-%d}"
    return f"{o.end:%H:%M}" if o.end.date() == o.start.date() else f"{o.end:%a %Y-%m-%d %H:%M}"


def _span(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") or "0m"
