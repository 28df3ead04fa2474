"""What a text value of schedule.yaml may hold: one policy, applied once, as the file is read.

Every scalar the YAML reader builds passes :func:`refused` before any reader sees it, so no
control character reaches the model, and from there the feed, the JSON or the page. Text may
hold line breaks (LF) and tabs. Everything else invisible that changes how a line is read is
refused: the C0 and C1 controls (NUL makes libical reject a whole feed, a bare CR ends a line
for some iCalendar parsers, ESC and BEL drive terminals), DEL, NEL and the Unicode line and
paragraph separators (line breaks for some readers and not for others), and lone surrogates,
which are not characters at all and cannot be written as UTF-8.

Format characters (zero-width joiners in emoji, right-to-left marks) are text and are kept.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode's Cc (C0, DEL, C1) but tab and LF, Zl, Zp and Cs, spelled out: one regex search is
# fast enough to run on every value of a 1 MiB file (tests/test_hostile.py checks the set).
REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

# Names for characters unicodedata has none for (it knows no C0 or C1 control by name).
_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BACKSPACE",
    0x0B: "VT",
    0x0C: "FF",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
    0x85: "NEL",
}


def refused(text: str) -> str | None:
    """The first character of text that is not allowed, or None."""
    found = REFUSED.search(text)
    return found[0] if found else None


def without_refused(text: str) -> str:
    """text with every refused character taken out (after it was reported)."""
    return REFUSED.sub("", text)


_ESCAPES = {0x00: "\\0", 0x07: "\\a", 0x08: "\\b", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r"}
_ESCAPES |= {0x1B: "\\e", 0x85: "\\N", 0x2028: "\\L", 0x2029: "\\P"}


def describe(char: str) -> tuple[str, str]:
    """A message and a hint about a refused character, naming it the way editors show it."""
    code = ord(char)
    if unicodedata.category(char) == "Cs":
        return (
            f"the lone surrogate U+{code:04X} is not a character",
            "write the character itself, or as one \\UXXXXXXXX escape, not half of a UTF-16 pair",
        )
    name = _NAMES.get(code) or unicodedata.name(char, "")
    kind = "control character" if unicodedata.category(char) == "Cc" else "invisible line break"
    escape = _ESCAPES.get(code) or f"\\x{code:02x}"
    label = f"U+{code:04X}" + (f" ({name})" if name else "")
    return (
        f"the {kind} {label} is not allowed in text",
        f"delete it, or the escape {escape} that writes it in quotes; text may hold line "
        "breaks and tabs, nothing else invisible",
    )
