"""A subscriber's view of a feed over time, for the real-server tests: it must never go back
to an older version (an ETag it had left behind, or a lower SEQUENCE for any event)."""

from __future__ import annotations

import re


def parse(body: bytes) -> dict[str, int]:
    """SEQUENCE per event (UID and RECURRENCE-ID), from the unfolded feed."""
    text = body.replace(b"\r\n ", b"").decode()
    found = {}
    for event in text.split("BEGIN:VEVENT")[1:]:
        uid = re.search(r"\r\nUID:(.*)\r\n", event).group(1)
        rid = re.search(r"\r\nRECURRENCE-ID[^:]*:(.*)\r\n", event)
        found[uid + (f"/{rid.group(1)}" if rid else "")] = int(
            re.search(r"\r\nSEQUENCE:(\d+)\r\n", event).group(1)
        )
    return found


class Client:
    """What one subscriber sees, in order; problems go to the shared list."""

    def __init__(self, name: str, problems: list[str]):
        self.name, self.problems = name, problems
        self.etags: list[str] = []
        self.sequences: dict[str, int] = {}

    def saw(self, status: int, headers: dict[str, str], body: bytes) -> None:
        if status != 200:
            self.problems.append(f"{self.name}: status {status}")
            return
        etag = headers["etag"]
        if etag in self.etags[:-1]:
            self.problems.append(f"{self.name}: went back to {etag} after {self.etags[-1]}")
        elif not self.etags or etag != self.etags[-1]:
            self.etags.append(etag)
        for key, sequence in parse(body).items():
            if sequence < self.sequences.get(key, 0):
                self.problems.append(f"{self.name}: SEQUENCE of {key} fell to {sequence}")
            self.sequences[key] = max(sequence, self.sequences.get(key, 0))
