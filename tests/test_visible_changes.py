"""Every change a subscriber can see reaches them: for each session field and each feed variant
that shows it, an edit changes that variant's bytes, raises the SEQUENCE of the event it
touches, moves the variant's Last-Modified, and `feed diff` names it.

Regression: a changed cancellation reason showed in `?cancelled=show`, on the page and in the
JSON, but SEQUENCE stayed and `feed diff` said "no changes subscribers will see", so
subscribers of that variant kept the old reason forever."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import SCHEDULES

from feed import ical, publish, schedule
from feed.diff import diff_texts

BEFORE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EDITED = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
SMALL = (SCHEDULES / "small.yaml").read_text()
WINDOW = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
VARIANTS = {
    "subscription": ical.Options(),
    "cancelled shown": ical.Options(show_cancelled=True),
    "tagged": ical.Options(tag="platform-engineering"),
    "expanded": ical.Options(expand=WINDOW),
    "expanded, cancelled shown": ical.Options(expand=WINDOW, show_cancelled=True),
}
SHOWN_EVERYWHERE = ("subscription", "cancelled shown", "tagged", "expanded")
CANCELLED_ONLY = ("cancelled shown", "expanded, cancelled shown")

# (what is edited, old text, new text, the variants that show it, a word feed diff must say)
EDITS = [
    ("topic", "Thin O/Ses & Thin O/S Provisioning", "Thin OS", SHOWN_EVERYWHERE, "retitled"),
    ("agenda", "[K3os, Photon,", "[K3os, Bottlerocket,", SHOWN_EVERYWHERE, "agenda"),
    ("notes", "notes: US election day", "notes: Polls close at 8", SHOWN_EVERYWHERE, "notes"),
    (
        "speaker",
        "notes: US election day",
        "notes: US election day\n        speaker: Ada",
        SHOWN_EVERYWHERE,
        "speaker",
    ),
    (
        "slides",
        "notes: US election day",
        "notes: US election day\n        slides: https://example.org/s.pdf",
        SHOWN_EVERYWHERE,
        "slides",
    ),
    (
        "join",
        "notes: US election day",
        "notes: US election day\n        join: https://meet.example.org/x",
        SHOWN_EVERYWHERE,
        "join link",
    ),
    (
        "tags",
        "tags: [platform-engineering]\n      2026-03-24",
        "tags: []\n      2026-03-24",
        ("subscription", "tagged", "expanded"),
        "tags",
    ),
    (
        "cancellation reason",
        "{cancelled: Conference week}",
        "{cancelled: Team offsite}",
        CANCELLED_ONLY,
        "cancellation reason",
    ),
    (
        "notes of a cancelled week",
        "{cancelled: Conference week}",
        "{cancelled: Conference week, notes: Back next week}",
        CANCELLED_ONLY,
        "notes",
    ),
    (
        "move",
        'moved: "2026-03-11 14:00"',
        'moved: "2026-03-11 15:00"',
        ("subscription", "cancelled shown", "expanded"),
        "moved",
    ),
]


def events(body: bytes) -> dict[str, bytes]:
    """Each VEVENT by UID (and RECURRENCE-ID), without its stamp lines."""
    found = {}
    for block in re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", body, re.S):
        unfolded = block.replace(b"\r\n ", b"")
        uid = re.search(rb"\r\nUID:(.*?)\r\n", unfolded)[1]
        rid = re.search(rb"\r\nRECURRENCE-ID[^:]*:(.*?)\r\n", unfolded)
        found[uid + (b"/" + rid[1] if rid else b"")] = unfolded
    return found


def sequence(event: bytes) -> int:
    return int(re.search(rb"\r\nSEQUENCE:(\d+)\r\n", event)[1])


@pytest.mark.parametrize(
    ("what", "old", "new", "shown_in", "said"), EDITS, ids=[e[0] for e in EDITS]
)
def test_a_visible_edit_reaches_every_variant_that_shows_it(what, old, new, shown_in, said):
    assert old in SMALL
    edited = SMALL.replace(old, new, 1)
    first = publish.new_version(schedule.load(SMALL), {}, BEFORE)
    second = publish.new_version(schedule.load(edited), first.stamps, EDITED)
    for name, options in VARIANTS.items():
        before, after = first.feed(options), second.feed(options)
        if name not in shown_in:
            continue
        assert before.body != after.body, f"{what}: {name} did not change"
        old_events, new_events = events(before.body), events(after.body)
        changed = [
            uid
            for uid in new_events
            if uid not in old_events
            or old_events[uid].split(b"DTSTAMP")[0] != new_events[uid].split(b"DTSTAMP")[0]
        ]
        removed = set(old_events) - set(new_events)
        assert changed or removed, f"{what}: no event of {name} changed"
        for uid in changed:
            if uid in old_events:
                assert sequence(new_events[uid]) > sequence(old_events[uid]), (
                    f"{what}: SEQUENCE of {uid!r} in {name} did not rise"
                )
        assert after.last_modified == EDITED, f"{what}: Last-Modified of {name} did not move"
    lines = diff_texts(SMALL, edited).lines
    assert any(said in line for line in lines), (what, lines)
