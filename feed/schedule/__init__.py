"""The schedule: a frozen model of schedule.yaml, and the loader that validates it.

``load(text, path)`` returns a :class:`Schedule` or raises :class:`ScheduleError` listing every
problem found (not just the first), each with file, line, column, key, message and hint.
``check(text, path)`` returns a :class:`Report`: the Schedule (None on any error) and every
problem, errors and warnings.

The modules: ``model`` (the dataclasses), ``problems`` (Problem, Report, ScheduleError),
``yamlread`` (bounded, positioned YAML), ``reading`` and ``readers`` (how values are read),
``fields`` (every key of every mapping, declared once), ``rules`` (checks across fields and
series), ``loader`` (load and check), ``jsonschema`` and ``reference`` (the JSON Schema and the
key reference in docs/schedule-format.md, from the declarations), ``text`` (the characters no
text may hold, checked once as the file is read) and ``clock`` (local times that clock changes
skip or repeat).
"""

from .fields import SESSION_DETAILS, SESSION_KEYS, Detail, Field
from .loader import check, load
from .model import (
    DEFAULT_DURATION,
    DEFAULT_REFRESH,
    FIRST_YEAR,
    LAST_YEAR,
    WEEKDAYS,
    AgendaItem,
    Link,
    Page,
    Schedule,
    Series,
    Session,
)
from .problems import Problem, Report, ScheduleError, did_you_mean, one_of

__all__ = [
    "DEFAULT_DURATION",
    "DEFAULT_REFRESH",
    "FIRST_YEAR",
    "LAST_YEAR",
    "SESSION_DETAILS",
    "SESSION_KEYS",
    "WEEKDAYS",
    "AgendaItem",
    "Detail",
    "Field",
    "Link",
    "Page",
    "Problem",
    "Report",
    "Schedule",
    "ScheduleError",
    "Series",
    "Session",
    "check",
    "did_you_mean",
    "load",
    "one_of",
]
