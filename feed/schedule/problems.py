"""Problems found in a schedule, carrying where they are and what to do about them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Schedule


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake (or, with ``warning=True``, one suspicious thing) in a schedule file.

    ``str(problem)`` is the line an organizer sees:
    ``schedule.yaml:14:7: series.weekly.every: 'tusday' is not a weekday (did you mean 'tuesday'?)``
    """

    path: str
    line: int
    column: int
    key: str
    message: str
    hint: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}: "
        kind = "warning: " if self.warning else ""
        key = f"{self.key}: " if self.key else ""
        text = f"{where}{kind}{key}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        # One problem, one line: a key or value holding a line break must not split it.
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class ScheduleError(ValueError):
    """The schedule file cannot be published; ``problems`` lists every mistake found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if not p.warning]
        super().__init__("\n".join(str(p) for p in errors) or "invalid schedule")


@dataclass(frozen=True)
class Report:
    """The outcome of checking a schedule: the model when it can be published, and every problem.

    ``problems`` are sorted by line, then column, errors before warnings.
    """

    schedule: Schedule | None
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.warning)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.warning)

    @property
    def ok(self) -> bool:
        """True when the schedule can be published (warnings allowed)."""
        return self.schedule is not None


def closest(word: str, choices) -> str | None:
    """The choice a misspelt name most likely means, or None when nothing is close."""
    if len(str(word)) > 100:  # no name is that long; difflib's time grows with its length
        return None
    close = difflib.get_close_matches(str(word).lower(), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices) -> str | None:
    """A 'did you mean ...?' hint for a misspelt name, or None when nothing is close."""
    close = closest(word, choices)
    return f"did you mean {close!r}?" if close else None


def one_of(choices) -> str:
    """A hint naming the valid choices."""
    return "expected one of " + ", ".join(repr(c) for c in choices)
