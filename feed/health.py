"""What ``/healthz`` says: whether a good version is served, and what is wrong with the files.

``/healthz`` is public. By default it names each problem by file name, line and column with a
message cut before the first quoted value, so it shows no file contents and no absolute path:
a schedule.yaml that is a symlink to another file must not leak that file's lines through the
error messages. ``FEED_HEALTH_DETAILS=1`` shows everything (full paths, keys, values, hints),
as the server's log always does.
"""

from __future__ import annotations

import os

from .publisher import Publisher
from .schedule import Problem
from .stamps import Damage

QUOTES = "'\"`"
MAX_MESSAGE = 200


def report(publisher: Publisher, details: bool) -> tuple[int, dict]:
    """The status code and the JSON body of /healthz."""
    current = publisher.current()
    problems = [_problem(p, details) for p in publisher.problems]
    stamps = [_damage(d, publisher, details) for d in publisher.stamp_damage]
    if current is None:
        status = "failing"
    elif problems or stamps:
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "schedule": str(publisher.path) if details else publisher.path.name,
        "problems": problems,
        "stamps": stamps,
        "warnings": [_problem(p, details) for p in current.warnings] if current else [],
    }
    if current:
        body["version"] = current.source_digest[:12]
        body["last_modified"] = current.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    if publisher.serial:
        body["serial"] = publisher.serial[1]
    if details:
        body["state"] = str(publisher.store.root)
        body["pid"] = os.getpid()
    return (200 if current else 503), body


def _problem(problem: Problem, details: bool) -> str:
    if details:
        return str(problem)
    name = os.path.basename(problem.path)
    return f"{name}:{problem.line}:{problem.column}: {redact(problem.message)}"


def _damage(damage: Damage, publisher: Publisher, details: bool) -> str:
    text = str(damage)
    if details:
        return f"{publisher.stamps_path}: {text}"
    return f"{publisher.stamps_path.name}: {text}"


def redact(message: str) -> str:
    """The message up to its first quoted value (values are quoted in every message), on one
    line, and bounded."""
    cut = min((i for i in (message.find(q) for q in QUOTES) if i >= 0), default=len(message))
    text = message[:cut].rstrip(" :,(")
    if cut < len(message):
        text += " …"
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
