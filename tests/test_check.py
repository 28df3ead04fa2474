"""`feed check`: every mistake in schedule.yaml is reported in one run, with where and what to do.

Each rule has one small file in tests/schedules/invalid/ named after it; the exact lines an
organizer sees are pinned below, through the library and through the real command.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
import tracemalloc

import pytest
from click.testing import CliRunner
from conftest import SCHEDULES

from feed.cli import cli
from feed.schedule import Report, ScheduleError, check, load, yamlread

INVALID = SCHEDULES / "invalid"

EXPECTED = {  # file in tests/schedules/invalid/ -> the lines `feed check` prints
    "shared_weekly_slot": [
        (
            "schedule.yaml:8:3: warning: series.second: second meets on Tuesdays at 11:00, like "
            "first (web widgets built on ical.js, such as FullCalendar, may show one series' "
            "topics in the other; point them at /series/<id>.ics or ?expand=utc)"
        ),
    ],
    "agenda_item_mapping": [
        (
            "schedule.yaml:18:13: series.weekly.sessions.2024-01-09.agenda: expected an agenda "
            "item, got a mapping (a colon followed by a space makes a mapping; quote the item)"
        ),
    ],
    "agenda_not_a_list": [
        (
            "schedule.yaml:17:17: series.weekly.sessions.2024-01-09.agenda: expected a list, got "
            "a mapping (write items as a YAML list: - first item)"
        ),
    ],
    "alias_bomb": [
        (
            "schedule.yaml:6:45: the document expands to more than 100000 values (YAML aliases "
            "(*name) repeat whole values, and these repeat each other; write the values out)"
        ),
    ],
    "all_day_with_duration": [
        (
            "schedule.yaml:12:43: series.events.sessions.2024-06-03.duration: an all-day event "
            "cannot have a duration, but 2024-06-03 has '2h' (give a start time with at: "
            '"HH:MM", or use `ends` for several days)'
        ),
    ],
    "bad_date": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.2024-02-30: '2024-02-30' is not a valid "
            "date: day is out of range for month (check the month and day)"
        ),
    ],
    "bad_domain": [
        (
            "schedule.yaml:5:11: calendar.domain: 'https://example.org/' is not a domain name "
            "(e.g. cloud2030.org; it makes event UIDs globally unique)"
        ),
    ],
    "bad_duration": [
        (
            "schedule.yaml:14:15: series.weekly.duration: '60' is not a duration (add a unit: "
            "60m for minutes or 60h for hours)"
        ),
    ],
    "bad_time": [
        (
            "schedule.yaml:12:9: series.weekly.at: '25:00' is not a time of day (write 24-hour "
            'time as "HH:MM" in quotes, e.g. "11:00" or "14:30")'
        ),
    ],
    "calendar_name_punctuation": [
        (
            "schedule.yaml:3:9: calendar.name: 'Example, Meeting' contains a comma, semicolon or "
            "backslash (calendar clients disagree on escaping these in calendar names; reword "
            "without them)"
        ),
    ],
    "cancelled_not_text": [
        (
            "schedule.yaml:16:20: series.weekly.sessions.2024-01-09.cancelled: expected yes or a "
            "reason, got a list (write `cancelled: yes` or `cancelled: Thanksgiving week`)"
        ),
    ],
    "cancelled_with_topic": [
        (
            "schedule.yaml:15:47: series.weekly.sessions.2024-01-09.topic: a cancelled session "
            "cannot have a topic, but 2024-01-09 has 'GitOps' (remove `cancelled`, or move the "
            "topic to another date)"
        ),
    ],
    "control_character": [
        (
            "schedule.yaml:15:22: the control character U+0007 is not allowed (delete it; it is "
            "invisible in most editors, so retype the line if unsure)"
        ),
    ],
    "duplicate_date": [
        (
            "schedule.yaml:17:7: series.weekly.sessions.2024-01-09: 2024-01-09 is listed twice, "
            "first on line 15 (YAML would silently keep only the second; merge the two entries)"
        ),
    ],
    "duplicate_date_spelling": [
        (
            "schedule.yaml:16:7: series.weekly.sessions.2024-01-09: 2024-01-09 is listed twice, "
            "first on line 15 (merge the two entries)"
        ),
    ],
    "duplicate_key": [
        (
            "schedule.yaml:14:5: series.weekly.at: 'at' is given twice, first on line 12 (YAML "
            "keeps only the last one; merge the two entries)"
        ),
    ],
    # Regression: crashed the checker with OverflowError (timedelta of 10**14 hours).
    "duration_overflow": [
        (
            "schedule.yaml:14:15: series.weekly.duration: '99999999999999h' is not between 1 "
            "minute and 24 hours (a session longer than a day should be a one-off event with "
            "`ends`)"
        ),
    ],
    "duration_too_long": [
        (
            "schedule.yaml:14:15: series.weekly.duration: '26h' is not between 1 minute and 24 "
            "hours (a session longer than a day should be a one-off event with `ends`)"
        ),
    ],
    "empty_file": [
        ("schedule.yaml:1:1: the file is empty (start with a `calendar:` and a `series:` section)"),
    ],
    "empty_topic": [
        (
            "schedule.yaml:16:15: series.weekly.sessions.2024-01-09.topic: the topic is empty "
            "(write the topic or remove the key)"
        ),
    ],
    "event_ends_before_start": [
        (
            "schedule.yaml:12:39: series.events.sessions.2024-06-03.ends: ends on 2024-06-01, "
            "before it starts on 2024-06-03 (the last day must be on or after the first)"
        ),
    ],
    "invalid_series_id": [
        (
            "schedule.yaml:9:3: series.Weekly Meeting: 'Weekly Meeting' is not a valid series id "
            "(use lowercase letters, digits and hyphens, e.g. devops-lunch-and-learn; the id is "
            "part of event UIDs and URLs)"
        ),
    ],
    "invalid_tag_name": [
        (
            "schedule.yaml:7:5: calendar.tags: 'Platform Engineering' is not a valid tag (use "
            "lowercase letters, digits and hyphens, e.g. platform-engineering)"
        ),
    ],
    "invalid_utf8": [
        "schedule.yaml:15:22: byte 0xe9 is not UTF-8 (save the file as UTF-8)",
    ],
    "join_not_a_link": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'zoom meeting 861 2629 5721' is not an "
            "https URL (write the whole link, starting with https://; calendar clients and "
            "browsers block other links)"
        ),
    ],
    "join_not_https": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'http://zoom.example.org/j/123' is not an "
            "https URL (write the whole link, starting with https://; calendar clients and "
            "browsers block other links)"
        ),
    ],
    "merge_key": [
        "schedule.yaml:13:5: merge keys (<<) are not supported (write the keys out)",
    ],
    "missing_name": [
        "schedule.yaml:3:3: calendar.name: 'name' is required (add `name:` here)",
    ],
    "missing_series": [
        "schedule.yaml:2:1: series: 'series' is required (add at least one series)",
    ],
    "missing_timezone": [
        (
            "schedule.yaml:3:3: calendar.timezone: 'timezone' is required (e.g. timezone: "
            "America/Los_Angeles)"
        ),
    ],
    "missing_title": [
        "schedule.yaml:10:5: series.weekly.title: 'title' is required (add `title:` here)",
    ],
    "moved_far": [
        (
            "schedule.yaml:15:42: series.weekly.sessions.2024-01-09.moved: '2025-01-10' moves "
            "the session by more than half a year (check the year; add a separate one-off event "
            "for a distant date)"
        ),
    ],
    "moved_in_one_off": [
        (
            "schedule.yaml:12:40: series.events.sessions.2024-06-03.moved: 'moved' applies to "
            "sessions of weekly series (for a one-off event, change its date instead)"
        ),
    ],
    "moved_not_a_date": [
        (
            "schedule.yaml:15:42: series.weekly.sessions.2024-01-09.moved: 'next week' is not a "
            'date or time (write `moved: 2024-01-15`, `moved: "10:00"` or `moved: "2024-01-15 '
            '10:00"`)'
        ),
    ],
    "moved_onto_session": [
        (
            "schedule.yaml:15:42: series.weekly.sessions.2024-01-09.moved: 2024-01-16 11:00 is "
            "the regular time of the 2024-01-16 session (cancel or move that session first, or "
            "pick another time)"
        ),
    ],
    "moved_same_time": [
        (
            "schedule.yaml:16:40: series.weekly.sessions.2024-01-16.moved: 2024-01-10 11:00 is "
            "already taken by the 2024-01-09 session, moved there too (pick another time)"
        ),
    ],
    "nesting_too_deep": [
        (
            "schedule.yaml:9:74: the document nests deeper than 64 levels (keep nesting under 64 "
            "levels)"
        ),
    ],
    "no_topic": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.2024-01-09: 2024-01-09 has no topic "
            "(write a topic, `{cancelled: yes}`, or delete the line)"
        ),
    ],
    "not_a_date": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.Jan 9: 'Jan 9' is not a date (write "
            "dates as YYYY-MM-DD, e.g. 2024-01-16)"
        ),
    ],
    "one_off_key_in_weekly": [
        (
            "schedule.yaml:15:39: series.weekly.sessions.2024-01-09.at: 'at' applies to one-off "
            "events only (to change a weekly session's date or time, use `moved`)"
        ),
    ],
    "python_tag": [
        (
            "schedule.yaml:14:18: the tag '!!python/object/apply:os.system' is not allowed "
            "(schedule.yaml holds plain text, lists and mappings only)"
        ),
    ],
    "series_ends_before_starts": [
        (
            "schedule.yaml:14:11: series.weekly.ends: ends on 2023-12-26, before it starts on "
            "2024-01-02 (the end date must be on or after the start date)"
        ),
    ],
    "session_after_end": [
        (
            "schedule.yaml:16:7: series.weekly.sessions.2024-07-02: 2024-07-02 is after the "
            "series ends on 2024-06-25 (change the date, or move `ends` later)"
        ),
    ],
    "session_before_start": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.2023-12-26: 2023-12-26 is before the "
            "series starts on 2024-01-02 (change the date, or move `starts` earlier)"
        ),
    ],
    "sessions_not_a_mapping": [
        (
            "schedule.yaml:15:7: series.weekly.sessions: expected sessions keyed by date, got a "
            "list (one date per line under `sessions:`, e.g. `2024-01-16: Topic of the day`)"
        ),
    ],
    "several_mistakes": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'http://zoom.example.org/j/123' is not an "
            "https URL (write the whole link, starting with https://; calendar clients and "
            "browsers block other links)"
        ),
        (
            "schedule.yaml:16:7: series.weekly.sessions.2024-01-08: 2024-01-08 is a Monday, but "
            "the series meets on Tuesdays (did you mean 2024-01-09? If the session was moved to "
            "2024-01-08, key it by its regular date and add `moved: 2024-01-08`)"
        ),
        (
            "schedule.yaml:17:47: series.weekly.sessions.2024-01-16.topic: a cancelled session "
            "cannot have a topic, but 2024-01-16 has 'GitOps' (remove `cancelled`, or move the "
            "topic to another date)"
        ),
        (
            "schedule.yaml:18:40: series.weekly.sessions.2024-01-23.tags: unknown tag "
            "'platform-engeneering' (did you mean 'platform-engineering'?)"
        ),
        (
            "schedule.yaml:19:41: series.weekly.sessions.2024-01-30.moved: '25:00' is not a time "
            'of day (write 24-hour time as "HH:MM" in quotes, e.g. "11:00" or "14:30")'
        ),
        (
            "schedule.yaml:20:36: series.weekly.sessions.2024-02-06.speakr: unknown key 'speakr' "
            "(did you mean 'speaker'?)"
        ),
        (
            "schedule.yaml:21:7: series.weekly.sessions.2024-02-06: 2024-02-06 is listed twice, "
            "first on line 20 (YAML would silently keep only the second; merge the two entries)"
        ),
        (
            "schedule.yaml:22:7: series.weekly.sessions.200-02-13: '200-02-13' has the year 200 "
            "(write the full four-digit year, e.g. 2022)"
        ),
    ],
    "short_year": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.202-01-09: '202-01-09' has the year 202 "
            "(write the full four-digit year, e.g. 2022)"
        ),
    ],
    "starts_in_one_off_series": [
        (
            "schedule.yaml:11:13: series.events.starts: 'starts' applies to weekly series only "
            "(add `every:` for a weekly series, or give each one-off event its own date under "
            "sessions)"
        ),
    ],
    "starts_not_on_weekday": [
        (
            "schedule.yaml:13:13: series.weekly.starts: 2024-01-03 is a Wednesday, but the "
            "series meets on Tuesdays (did you mean 2024-01-09?)"
        ),
    ],
    "text_expected": [
        (
            "schedule.yaml:16:16: series.weekly.sessions.2024-01-09.topic: expected text, got a "
            'list (write it on one line; put text with [ ] { } or ": " in quotes)'
        ),
    ],
    "timed_event_with_ends": [
        (
            "schedule.yaml:12:52: series.events.sessions.2024-06-03.ends: a timed event cannot "
            "end on another day, but 2024-06-03 starts at 09:00 and ends on 2024-06-05 (remove "
            "`at` for an all-day event over several days, or give a `duration` instead of `ends`)"
        ),
    ],
    "timezone_case": [
        (
            "schedule.yaml:4:13: calendar.timezone: 'america/los_angeles' is not a known time "
            "zone (did you mean 'America/Los_Angeles'? Names are case-sensitive)"
        ),
    ],
    "two_documents": [
        (
            "schedule.yaml:14:1: YAML syntax error: a second document starts here (a schedule is "
            "one document; remove the `---` line)"
        ),
    ],
    "uid_collision": [
        (
            "schedule.yaml:11:3: series.events-20240101: its events get the UID "
            "events-20240101@example.org, which is also the UID of the 2024-01-01 session of "
            "'events' (series on line 7, session on line 10) (rename one of the two series: an "
            "event's UID is <series>@<domain>, or <series>-<YYYYMMDD>@<domain> for a single "
            "event)"
        ),
    ],
    "unknown_key": [
        (
            "schedule.yaml:15:35: series.weekly.sessions.2024-01-09.speakr: unknown key 'speakr' "
            "(did you mean 'speaker'?)"
        ),
    ],
    "unknown_tag": [
        (
            "schedule.yaml:15:42: series.weekly.sessions.2024-01-09.tags: unknown tag "
            "'platform-engineerng' (did you mean 'platform-engineering'?)"
        ),
    ],
    "unknown_timezone": [
        (
            "schedule.yaml:4:13: calendar.timezone: 'America/Los_Angles' is not a known time "
            "zone (did you mean 'America/Los_Angeles'?)"
        ),
    ],
    "unknown_weekday": [
        (
            "schedule.yaml:11:12: series.weekly.every: 'tusday' is not a weekday (did you mean "
            "'tuesday'?)"
        ),
    ],
    # Regression: crashed the checker with ValueError from urlsplit (found by fuzzing).
    "url_bad_ipv6": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'https://[zoom.example.org/j/1' is not an "
            "https URL (write the whole link, starting with https://; calendar clients and "
            "browsers block other links)"
        ),
    ],
    "warning_moved_to_own_time": [
        (
            "schedule.yaml:13:42: warning: series.weekly.sessions.2024-01-09.moved: '11:00' is "
            "the session's own regular time (remove `moved`, or give the new date or time)"
        ),
    ],
    "warning_out_of_order": [
        (
            "schedule.yaml:15:7: warning: series.weekly.sessions.2024-01-16: 2024-01-16 comes "
            "after 2024-01-23 (line 14) (it belongs before line 14: keep sessions in date order)"
        ),
    ],
    "weekday_mismatch": [
        (
            "schedule.yaml:15:7: series.weekly.sessions.2024-01-08: 2024-01-08 is a Monday, but "
            "the series meets on Tuesdays (did you mean 2024-01-09? If the session was moved to "
            "2024-01-08, key it by its regular date and add `moved: 2024-01-08`)"
        ),
    ],
    "weekly_needs_at": [
        (
            "schedule.yaml:10:5: series.weekly.at: a weekly series needs 'at' (the start time, "
            'e.g. at: "11:00")'
        ),
    ],
    "weekly_needs_starts": [
        (
            "schedule.yaml:10:5: series.weekly.starts: a weekly series needs 'starts' (the date "
            "of the first session, e.g. starts: 2021-05-18)"
        ),
    ],
    "yaml_syntax": [
        (
            "schedule.yaml:15:26: YAML syntax error: mapping values are not allowed in this "
            'context (put text that holds ": " in quotes, e.g. "Storage: LinStor")'
        ),
    ],
    # Hostile input (issue 13): text, links, numbers and clock changes.
    "weekly_starts_in_clock_gap": [
        (
            "schedule.yaml:13:13: series.weekly.starts: the series starts with a session at "
            "2027-03-14 02:30, which does not exist in America/Los_Angeles (clocks skip from "
            "02:00 to 03:00 that day) (start it a week earlier or later: calendar apps repeat a "
            "series from its first session, and some would place every session an hour late)"
        ),
    ],
    "text_control_escape": [
        (
            "schedule.yaml:15:19: series.weekly.sessions.2024-01-09: the control character U+001B"
            " (ESC) is not allowed in text (delete it, or the escape \\e that writes it in quotes;"
            " text may hold line breaks and tabs, nothing else invisible)"
        ),
    ],
    "text_line_separator": [
        (
            "schedule.yaml:14:18: series.weekly.description: the invisible line break U+2028 "
            "(LINE SEPARATOR) is not allowed in text (delete it, or the escape \\L that writes it "
            "in quotes; text may hold line breaks and tabs, nothing else invisible)"
        ),
    ],
    "text_lone_surrogate": [
        (
            "schedule.yaml:15:58: YAML syntax error: found invalid Unicode character escape code "
            "(while parsing a quoted scalar) (check indentation, colons and quotes on this line "
            "or the one above)"
        ),
    ],
    "url_ambiguous_host": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'https://evil.example\\\\@good.example/j/1' "
            "leads browsers to 'evil.example' but other programs to 'good.example' (write the "
            "link plainly, e.g. 'https://evil.example/@good.example/j/1', without backslashes or "
            "extra slashes)"
        ),
    ],
    "url_user_name": [
        (
            "schedule.yaml:14:11: series.weekly.join: 'https://zoom.example.org@evil.example/j/1'"
            " has a user name before its host 'evil.example' (remove the part up to @: links need"
            " none, and it makes a link look like it goes to another site)"
        ),
    ],
    "series_id_with_line_break": [
        (
            "schedule.yaml:9:3: series.weekly\\n: 'weekly\\n' is not a valid series id (use "
            "lowercase letters, digits and hyphens, e.g. devops-lunch-and-learn; the id is part "
            "of event UIDs and URLs)"
        ),
    ],
    "moved_into_clock_gap": [
        (
            "schedule.yaml:15:41: series.weekly.sessions.2027-03-07.moved: 2027-03-14 02:30 does "
            "not exist in America/Los_Angeles (clocks skip from 02:00 to 03:00 that day) (the "
            'next time that exists is "2027-03-14 03:00")'
        ),
    ],
    "one_off_in_clock_gap": [
        (
            "schedule.yaml:12:43: series.events.sessions.2027-03-14.at: 2027-03-14 02:15 does not"
            " exist in America/Los_Angeles (clocks skip from 02:00 to 03:00 that day) (the next "
            'time that exists is "03:00")'
        ),
    ],
    "warning_one_off_in_clock_overlap": [
        (
            "schedule.yaml:12:43: warning: series.events.sessions.2027-11-07.at: 2027-11-07 01:30"
            " happens twice in America/Los_Angeles (clocks go back from 02:00 to 01:00 that day);"
            " the session is read as the first 01:30, PDT, as RFC 5545 says (pick another time to"
            " leave no doubt)"
        ),
    ],
    "warning_weekly_slot_in_clock_gap": [
        (
            "schedule.yaml:12:9: warning: series.weekly.at: 02:30 does not exist on 2027-03-14 "
            "and 2029-03-11 in America/Los_Angeles (clocks skip from 02:00 to 03:00); those "
            "sessions are read as 03:30 PDT, as RFC 5545 says (to meet at the same time every "
            "week, pick a time outside 02:00-03:00)"
        ),
    ],
    "warning_weekly_slot_in_clock_overlap": [
        (
            "schedule.yaml:12:9: warning: series.weekly.at: 01:30 happens twice on 2027-11-07, "
            "2028-11-05, 2029-11-04 and 171 later dates in America/Los_Angeles (clocks go back "
            "from 02:00 to 01:00); those sessions are read as the first 01:30, PDT, as RFC 5545 "
            "says (to meet at the same time every week, pick a time outside 01:00-02:00)"
        ),
    ],
    "duration_huge_number": [
        (
            "schedule.yaml:14:15: series.weekly.duration: '99999999999999999999999999999999999999"
            "99999999[...]999999999999999999999999999999999999999999999h' is not between 1 minute"
            " and 24 hours (a session longer than a day should be a one-off event with `ends`)"
        ),
    ],
    # Organizers: edits that cannot be misfiled. A session appended at the end of the file lands
    # under the last series; a slip of indentation or of a colon is reported where it is made.
    "warning_misfiled_at_weekly_slot": [
        (
            "schedule.yaml:20:7: warning: series.events.sessions.2024-01-23: 2024-01-23 at 11:00 "
            "is a slot of weekly (Tuesdays at 11:00) (did you mean series weekly? Then move the "
            "entry under `series.weekly.sessions`, after 2024-01-16 (line 15))"
        ),
    ],
    "warning_misfiled_all_day": [
        (
            "schedule.yaml:22:7: warning: series.events.sessions.2024-01-23: 2024-01-23 is an "
            "all-day event on a Tuesday, a week after the 2024-01-16 session of weekly, which has "
            "no entry for 2024-01-23 (did you mean series weekly? Then move the entry under "
            "`series.weekly.sessions`, after 2024-01-16 (line 17); an event of its own that day "
            "is fine once weekly has an entry for it)"
        ),
    ],
    "moved_after_misspelt_every": [
        "schedule.yaml:10:5: series.weekly.evrey: unknown key 'evrey' (did you mean 'every'?)",
    ],
    "empty_timezone": [
        (
            "schedule.yaml:4:12: calendar.timezone: the timezone is empty (write an IANA time "
            "zone name after the colon, e.g. timezone: America/Los_Angeles or Europe/Berlin)"
        ),
    ],
    "empty_name": [
        (
            "schedule.yaml:3:8: calendar.name: the name is empty (write the calendar's name after "
            "the colon, e.g. name: DevOps Lunch and Learn)"
        ),
    ],
    "no_space_after_colon": [
        (
            "schedule.yaml:15:9: YAML syntax error: `topic:GitOps` has no space after the colon, "
            "so it is read as text, not as a key and its value (put a space after the colon: "
            "`topic: GitOps`)"
        ),
    ],
    "no_space_after_colon_shorthand": [
        (
            "schedule.yaml:15:9: series.weekly.sessions.2024-01-09: 'topic:GitOps' is read as a "
            "topic, not as the key 'topic' and its value (put a space after the colon: `topic: "
            "GitOps`; quote it if it is the topic)"
        ),
    ],
    "dedented_session": [
        (
            "schedule.yaml:19:5: YAML syntax error: `2024-01-16` is indented 4 spaces, unlike the "
            "lines around it (indent it with 6 spaces, like line 14; a line indented less than "
            "the lines above ends the list or mapping they are in)"
        ),
    ],
    "url_with_space": [
        (
            "schedule.yaml:12:11: series.weekly.join: 'https://zoom.us/j/123 456' contains a "
            "space (remove it, or write it as %20: a link holds no spaces, and calendar clients "
            "cut it at the first one)"
        ),
    ],
    "year_out_of_range": [
        (
            "schedule.yaml:14:7: series.weekly.sessions.2207-01-05: '2207-01-05' has the year "
            "2207, outside the years a schedule may name (1970 to 2200) (did you mean "
            "2027-01-05?)"
        ),
    ],
}


def run_check(tmp_path, monkeypatch, name: str):
    """Run `feed check schedule.yaml` on a copy of the named file, as an organizer would."""
    shutil.copy(INVALID / f"{name}.yaml", tmp_path / "schedule.yaml")
    monkeypatch.chdir(tmp_path)
    # A deployment's public address, so the only lines are the file's problems (without one,
    # a valid file also gets a note saying links cannot be absolute).
    monkeypatch.setenv("FEED_PUBLIC_URL", "https://example.org")
    return CliRunner().invoke(cli, ["check", "schedule.yaml"])


def test_every_file_is_pinned():
    """A new rule file without expected output (or a stale entry) fails here."""
    assert sorted(p.stem for p in INVALID.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_library_reports_exactly(name):
    """check() returns the problems with exact line, column, value and hint."""
    report = check((INVALID / f"{name}.yaml").read_bytes(), "schedule.yaml")
    assert [str(p) for p in report.problems] == EXPECTED[name]
    assert report.ok == (report.schedule is not None) == (not report.errors)
    assert report.errors + report.warnings == tuple(
        sorted(report.problems, key=lambda p: p.warning)
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_command_prints_every_problem(tmp_path, monkeypatch, name):
    """`feed check` prints each problem on its own line and exits 1 on errors, 0 on warnings."""
    result = run_check(tmp_path, monkeypatch, name)
    errors = [line for line in EXPECTED[name] if ": warning: " not in line]
    if errors:
        summary = f"schedule.yaml: {len(errors)} error{'s' if len(errors) != 1 else ''}"
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [*EXPECTED[name], summary]
        assert result.stdout == ""
    else:
        assert result.exit_code == 0
        assert result.stderr.splitlines() == EXPECTED[name]
        assert re.match(r"schedule\.yaml: OK \(\d series, ", result.stdout)


def test_several_mistakes_are_reported_in_one_run(tmp_path, monkeypatch):
    """An organizer in a hurry fixes everything after one run, not one mistake per run."""
    result = run_check(tmp_path, monkeypatch, "several_mistakes")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "schedule.yaml: 8 errors"
    messages = " ".join(lines)
    for mistake in (
        "is not an https URL",
        "is a Monday, but the series meets on Tuesdays",
        "a cancelled session cannot have a topic",
        "unknown tag 'platform-engeneering'",
        "'25:00' is not a time of day",
        "unknown key 'speakr'",
        "is listed twice",
        "has the year 200",
    ):
        assert mistake in messages


def test_valid_file_passes(tmp_path, monkeypatch):
    shutil.copy(SCHEDULES / "small.yaml", tmp_path / "schedule.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "schedule.yaml"])
    assert result.exit_code == 0
    assert result.stdout == "schedule.yaml: OK (2 series, 8 dated entries)\n"


def test_missing_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "nowhere.yaml"])
    assert result.exit_code == 1
    assert result.output == "Error: nowhere.yaml: No such file or directory\n"


MINIMAL = """\
calendar: {name: Example, timezone: America/Los_Angeles, domain: example.org}
series:
  weekly:
    title: Weekly
    every: tuesday
    at: {at}
    starts: 2024-01-02
"""


@pytest.mark.parametrize(
    ("written", "expected"),
    [("11:00", dt.time(11)), ('"11:00"', dt.time(11)), ("9:30", dt.time(9, 30))],
)
def test_unquoted_time_works(written, expected):
    """YAML 1.1 reads `at: 11:00` as the number 660; we read the text the organizer typed."""
    schedule = load(MINIMAL.replace("{at}", written))
    assert schedule.series[0].at == expected


def test_python_tags_never_run(tmp_path):
    """An unsafe loader would run os.system here; we refuse the tag and run nothing."""
    marker = tmp_path / "hacked"
    text = MINIMAL.replace("{at}", '"11:00"') + (
        f"    description: !!python/object/apply:os.system [touch {marker}]\n"
    )
    report = check(text)
    assert report.schedule is None
    assert [str(p) for p in report.problems] == [
        "schedule.yaml:8:18: the tag '!!python/object/apply:os.system' is not allowed "
        "(schedule.yaml holds plain text, lists and mappings only)"
    ]
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly_in_bounded_memory():
    """9 levels of 10 aliases would be 10**9 values; we stop counting at the limit."""
    source = (INVALID / "alias_bomb.yaml").read_bytes()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        report = check(source)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.schedule is None
    assert [str(p) for p in report.problems] == EXPECTED["alias_bomb"]
    assert elapsed < 3
    assert peak < 50 * 1024 * 1024


def test_deep_nesting_is_refused_quickly():
    """Regression: 100,000 "[" took PyYAML's pure-Python scanner 37 s (quadratic)."""
    started = time.perf_counter()
    report = check(b"[" * 100_000)
    assert time.perf_counter() - started < 3
    assert [p.message for p in report.problems] == ["YAML nesting is too deep"]


def test_file_over_the_size_limit_is_refused():
    source = b"# padding\n" * (yamlread.MAX_BYTES // 10 + 1)
    report = check(source)
    assert report.schedule is None
    assert [str(p) for p in report.problems] == [
        f"schedule.yaml:1:1: the file is {len(source)} bytes "
        f"(the limit is {yamlread.MAX_BYTES} bytes; split or trim the schedule)"
    ]


def test_text_that_cannot_be_utf8_is_reported_with_its_line():
    """A str with a lone surrogate (it cannot be saved as UTF-8) is a problem, not a crash."""
    report = check("calendar:\n  name: Caf\udce9\n")
    assert [str(p) for p in report.problems] == [
        "schedule.yaml:2:12: the character U+DCE9 is not allowed "
        "(remove it; save the file as UTF-8)"
    ]


def test_pure_python_parser_gives_the_same_result(monkeypatch):
    """Without libyaml, PyYAML's own parser is used, bounded the same way."""
    real = (SCHEDULES / "small.yaml").read_bytes()
    with_libyaml = check(real)
    monkeypatch.setattr(yamlread, "_LOADER", yamlread._PyLoader)
    assert check(real) == with_libyaml
    started = time.perf_counter()
    report = check(b"[" * 100_000)
    assert time.perf_counter() - started < 3
    assert [p.message for p in report.problems] == ["YAML nesting is too deep"]


def test_line_breaks_in_keys_stay_on_one_line():
    """Regression: a key holding a line break split its problem over two output lines."""
    report = check('calendar: {name: Example, timezone: UTC}\nseries: {}\n"a\\nb": 1\n')
    assert [str(p) for p in report.problems] == [
        "schedule.yaml:2:9: series: expected a mapping of series by id (indent each series under "
        "`series:` by its id, e.g. `weekly-meeting:`)",
        "schedule.yaml:3:1: a\\nb: unknown key 'a\\nb' (expected one of 'calendar', 'page', "
        "'series')",
    ]


WEEKLY = """\
calendar:
  name: Example
  timezone: America/Los_Angeles
  domain: example.org
  tags: {ops: Technical Ops}
series:
  weekly:
    title: Weekly
    every: tuesday
    at: "11:00"
    starts: 2024-01-02
    sessions:
"""


def test_report_says_whether_the_schedule_can_be_published():
    """Warnings alone publish; load() gives the Schedule, or raises with every problem."""
    text = WEEKLY + "      2024-01-16: Second\n      2024-01-09: First\n"
    report = check(text)
    assert isinstance(report, Report)
    assert report.ok and report.schedule == load(text)
    assert report.errors == ()
    assert [p.message for p in report.warnings] == ["2024-01-09 comes after 2024-01-16 (line 13)"]

    broken = text + "      2024-01-22: A Monday\n"
    report = check(broken)
    assert not report.ok and report.schedule is None
    assert [p.line for p in report.problems] == [14, 15]  # sorted by line
    assert [p.warning for p in report.problems] == [True, False]
    with pytest.raises(ScheduleError) as caught:
        load(broken)
    assert caught.value.problems == report.problems
    assert str(caught.value) == str(report.errors[0])


def test_slides_are_an_https_link_of_a_session_that_takes_place():
    text = WEEKLY + (
        "      2024-01-09: {topic: eBPF, slides: https://example.org/ebpf.pdf}\n"
        "      2024-01-16: {topic: GitOps, slides: example.org/gitops.pdf}\n"
        "      2024-01-23: {cancelled: Holiday, slides: https://example.org/x.pdf}\n"
    )
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:14:43: series.weekly.sessions.2024-01-16.slides: 'example.org/gitops.pdf' "
        "is not an https URL (write the whole link, starting with https://; calendar clients "
        "and browsers block other links)",
        "schedule.yaml:15:48: series.weekly.sessions.2024-01-23.slides: a cancelled session "
        "cannot have slides, but 2024-01-23 has 'https://example.org/x.pdf' (remove "
        "`cancelled`, or move the slides to another date)",
    ]
    first = WEEKLY + "      2024-01-09: {topic: eBPF, slides: https://example.org/ebpf.pdf}\n"
    session = load(first).series[0].session(dt.date(2024, 1, 9))
    assert session.slides == "https://example.org/ebpf.pdf"


def test_uid_collision_with_a_weekly_series_names_the_date():
    """A session of a weekly series taken out on its own (a per-session .ics file) has the UID
    <series>-<YYYYMMDD>@<domain> too."""
    text = WEEKLY + (
        "      2024-01-09: First\n"
        "  weekly-20240116:\n"
        "    title: Something else\n"
        "    sessions: {2024-03-01: Launch}\n"
    )
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:14:3: series.weekly-20240116: its events get the UID "
        "weekly-20240116@example.org, which is also the UID of an event of 'weekly' on "
        "2024-01-16 (series on line 7) (rename one of the two series: an event's UID is "
        "<series>@<domain>, or <series>-<YYYYMMDD>@<domain> for a single event)"
    ]


def test_an_id_ending_in_digits_that_are_no_date_collides_with_nothing():
    text = WEEKLY + "      2024-01-09: First\n  weekly-20241399:\n    title: Other\n"
    assert check(text).ok


def test_an_empty_calendar_timezone_is_reported():
    """Regression: `timezone:` with nothing after it made the file unpublishable, silently."""
    text = WEEKLY.replace("timezone: America/Los_Angeles", "timezone:") + "      2024-01-09: A\n"
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:3:12: calendar.timezone: the timezone is empty (write an IANA time zone "
        "name after the colon, e.g. timezone: America/Los_Angeles or Europe/Berlin)"
    ]


def test_an_empty_series_timezone_is_the_calendars():
    text = WEEKLY.replace('at: "11:00"', 'at: "11:00"\n    timezone:') + "      2024-01-09: A\n"
    assert load(text).series[0].timezone == "America/Los_Angeles"


def test_sessions_of_a_broken_weekly_series_are_still_read_as_weekly():
    """Regression: a weekly series missing `starts` had its moved sessions called one-off."""
    text = WEEKLY.replace("    starts: 2024-01-02\n", "") + (
        "      2024-01-09: {topic: First, moved: 2024-01-10}\n"
        "      2024-01-16: {agenda: [Intro], tags: [ops]}\n"
    )
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:8:5: series.weekly.starts: a weekly series needs 'starts' (the date of "
        "the first session, e.g. starts: 2021-05-18)"
    ]


def test_a_broken_calendar_still_declares_its_tags():
    """The series' tags are checked against calendar.tags even when the calendar has a mistake."""
    text = WEEKLY.replace("domain: example.org", "domain: https://example.org/")
    text += "      2024-01-09: {topic: First, tags: [ops, opps]}\n"
    assert [p.message for p in check(text).problems] == [
        "'https://example.org/' is not a domain name",
        "unknown tag 'opps'",
    ]


# -- misfiled entries: a session under the one-off events --------------------------------------

REAL = (INVALID.parents[2] / "schedule.yaml").read_text()
APPENDED = "      2024-02-20:\n        topic: Chaos engineering\n        agenda: [Why, How]\n"


def misfiled(text: str) -> list[str]:
    return [p.message for p in check(text).problems if "did you mean series" in (p.hint or "")]


def test_the_next_session_appended_to_the_real_file_is_a_warning_naming_its_series():
    """The issue's case: the entry lands under events-of-interest, the last series."""
    report = check(REAL + APPENDED)
    assert report.ok and report.errors == ()
    assert [str(p) for p in report.warnings] == [
        "schedule.yaml:720:7: warning: series.events-of-interest.sessions.2024-02-20: 2024-02-20 "
        "is an all-day event on a Tuesday, a week after the 2024-02-13 session of "
        "devops-lunch-and-learn, which has no entry for 2024-02-20 (did you mean series "
        "devops-lunch-and-learn? Then move the entry under "
        "`series.devops-lunch-and-learn.sessions`, after 2024-02-13 (line 691); an event of its "
        "own that day is fine once devops-lunch-and-learn has an entry for it)"
    ]


@pytest.mark.parametrize(
    "entry",
    [
        "      2024-02-27: Two weeks on, after a week without a session\n",
        '      2024-02-20: {topic: At its time, at: "11:00"}\n',
        '      2024-01-16: {topic: At the time of a session written, at: "11:00"}\n',
        "      2024-02-20: {cancelled: A week off, filed under the wrong series}\n",
    ],
)
def test_entries_that_look_like_sessions_of_the_weekly_series_are_warned_about(entry):
    assert len(misfiled(REAL + entry)) == 1


@pytest.mark.parametrize(
    "entry",
    [
        "      2024-02-20: {topic: KubeCon, ends: 2024-02-22}\n",  # several days over a Tuesday
        "      2024-03-12: One-day summit, a month after the last session\n",
        "      2024-01-16: One-day summit the day of a session\n",  # the week has its entry
        "      2024-02-21: The day after\n",
        '      2024-02-20: {topic: Breakfast, at: "08:00"}\n',
        '      2021-05-11: {topic: Before the series starts, at: "11:00"}\n',
    ],
)
def test_events_of_their_own_are_not_warned_about(entry):
    assert check(REAL + entry).ok
    assert misfiled(REAL + entry) == []


def test_a_one_off_event_in_a_cancelled_or_moved_weeks_slot_stands_in_for_it():
    for change in ("cancelled: yes", 'moved: "12:00"'):
        text = WEEKLY + (
            f"      2024-01-09: {{{change}}}\n"
            "  events:\n"
            "    title: Events\n"
            '    sessions: {2024-01-09: {topic: Instead, at: "11:00"}}\n'
        )
        assert check(text).problems == (), change


def test_a_one_off_event_in_another_zone_is_compared_at_the_same_instant():
    text = WEEKLY + (
        "      2024-01-09: First\n"
        "  events:\n"
        "    title: Events\n"
        "    timezone: America/New_York\n"
        '    sessions: {2024-01-16: {topic: Second, at: "14:00"}}\n'
    )
    assert misfiled(text) == ["2024-01-16 at 14:00 is a slot of weekly (Tuesdays at 11:00)"]


def test_edits_by_the_commands_file_under_the_right_series_without_warnings():
    """`feed add` finds the series by its weekly slot: nothing it writes is misfiled."""
    from feed import edit

    done = edit.add(REAL, dt.date(2024, 2, 20), {"topic": "Chaos engineering"})
    assert done.series == "devops-lunch-and-learn"
    assert check(done.text).problems == ()


# -- messages that name the mistake where it is made ------------------------------------------


@pytest.mark.parametrize("misspelt", ["Every: tuesday", "evrey: tuesday", "weekday: tuesday"])
def test_a_misspelt_every_does_not_make_weekly_sessions_one_off_events(misspelt):
    text = WEEKLY.replace("every: tuesday", misspelt) + (
        "      2024-01-09: {topic: First, moved: 2024-01-10}\n"
    )
    messages = [p.message for p in check(text).problems]
    assert len(messages) == 1 and messages[0].startswith("unknown key"), messages


def test_a_key_glued_to_its_value_in_braces_is_read_as_meant():
    text = WEEKLY + "      2024-01-09: {topic:GitOps, agenda: [Flux]}\n"
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:13:20: series.weekly.sessions.2024-01-09.topic:GitOps: unknown key "
        "'topic:GitOps' (put a space after the colon: `topic: GitOps`)"
    ]


def test_a_key_glued_to_its_value_as_the_only_line_of_a_mapping():
    text = "calendar:\n  name:Example\nseries: {weekly: {title: Weekly}}\n"
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:2:3: calendar: expected a mapping of keys, got 'name:Example' (put a "
        "space after the colon: `name: Example`)"
    ]


def test_a_quoted_topic_with_a_colon_is_a_topic():
    text = WEEKLY + '      2024-01-09: "topic:GitOps"\n'
    assert check(text).schedule.series[0].sessions[0].topic == "topic:GitOps"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (  # a session's key indented like a date
            "      2024-01-09:\n      topic: First\n",
            "schedule.yaml:14:7: series.weekly.sessions.topic: 'topic' is a key of a session, not "
            "a date (indent it under the date of its session, deeper than the dates)",
        ),
        (  # a session's key indented less than its neighbours, before a list
            "      2024-01-09:\n        topic: First\n     agenda:\n          - One\n"
            "      2024-01-16: Second\n",
            "schedule.yaml:15:6: YAML syntax error: `agenda` is indented 5 spaces, unlike the "
            "lines around it (indent it with 8 spaces, like line 14; a line indented less than "
            "the lines above ends the list or mapping they are in)",
        ),
        (  # a date indented like a series
            "      2024-01-09: First\n  2024-01-16: Second\n",
            "schedule.yaml:14:3: series.2024-01-16: 2024-01-16 is indented as a series, not as a "
            "session (indent it like the other dates, under the `sessions:` of its series)",
        ),
        (  # a glued key that YAML reads on into the next key
            '      2024-01-09:\n        agenda: [x]\n        at:"12:00"\n        topic: First\n',
            'schedule.yaml:15:9: YAML syntax error: `at:"12:00"` has no space after the colon, so '
            "it is read as text, not as a key and its value (put a space after the colon: "
            '`at: "12:00"`)',
        ),
    ],
)
def test_indentation_and_colon_slips_are_reported_where_they_are(lines, expected):
    assert [str(p) for p in check(WEEKLY + lines).problems][:1] == [expected]


def test_an_over_indented_key_is_reported_on_its_line():
    text = WEEKLY.replace("    every: tuesday", "      every: tuesday")
    assert [str(p) for p in check(text).problems] == [
        "schedule.yaml:9:7: YAML syntax error: `every` is indented 6 spaces, unlike the lines "
        "around it (indent it with 4 spaces, like line 8; a line indented more than the one "
        "above is read as part of it)"
    ]


def test_a_text_with_a_colon_and_space_keeps_its_hint():
    text = WEEKLY + "      2024-01-09: Storage: LinStor\n"
    assert [p.hint for p in check(text).problems] == [
        'put text that holds ": " in quotes, e.g. "Storage: LinStor"'
    ]


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("starts: 2207-01-05", "did you mean 2027-01-05?"),  # two digits swapped
        ("starts: 20204-01-02", "did you mean 2024-01-02?"),  # too many digits, a date nearby
        ("starts: 9999-01-02", "check the year"),
    ],
)
def test_a_year_out_of_range_names_the_range_and_the_likely_year(written, hint):
    text = WEEKLY.replace("starts: 2024-01-02", written)
    if "20204" in written:  # a date nearby: the session's own, for its `moved`
        text = WEEKLY + f"      2024-01-09: {{topic: First, moved: {written.split()[1]}}}\n"
    problems = check(text).problems
    assert [p.hint for p in problems][:1] == [hint]
    assert "outside the years a schedule may name (1970 to 2200)" in problems[0].message


def test_a_wrong_time_of_one_off_events_does_not_make_them_all_day():
    """Regression: `at: "25:00"` was followed by "an all-day event cannot have a duration"."""
    text = WEEKLY + (
        "      2024-01-09: First\n"
        "  events:\n"
        "    title: Events\n"
        '    at: "25:00"\n'
        "    sessions: {2024-01-10: {topic: Demo day, duration: 2h}}\n"
    )
    assert [p.message for p in check(text).problems] == ["'25:00' is not a time of day"]


def test_an_empty_calendar_is_one_problem_with_a_hint():
    assert [str(p) for p in check("calendar:\nseries: {weekly: {title: Weekly}}\n").problems] == [
        "schedule.yaml:1:10: calendar: nothing is given (write its keys on the lines below, "
        "indented)"
    ]


def test_ics_of_a_file_with_an_empty_timezone_prints_the_error(tmp_path, monkeypatch):
    """Regression: an empty `timezone:` must never be "0 errors", or a silent exit 1."""
    shutil.copy(INVALID / "empty_timezone.yaml", tmp_path / "schedule.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["ics", "--schedule", "schedule.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == EXPECTED["empty_timezone"]
    result = CliRunner().invoke(cli, ["check", "schedule.yaml"])
    assert result.stderr.splitlines()[-1] == "schedule.yaml: 1 error"


def test_both_parsers_place_a_character_they_refuse_alike(monkeypatch):
    """Regression: libyaml gives a byte offset and PyYAML's reader a character offset; both
    are read as what they are (the BEL after "ééé" is in column 12, not 11)."""
    text = "calendar:\n  name: ééé\x07\n"
    with_libyaml = check(text)
    monkeypatch.setattr(yamlread, "_LOADER", yamlread._PyLoader)
    assert check(text) == with_libyaml
    assert [(p.line, p.column) for p in with_libyaml.problems] == [(2, 12)]
