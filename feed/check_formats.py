"""`feed check`'s problems for machines: GitHub Actions annotations (shown on the pull
request's lines) and a stable JSON document for scripts."""

from __future__ import annotations

import json

from .schedule import Problem


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command: the problem shows on its line of the pull request."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    kind = "warning" if problem.warning else "error"
    where = f"file={prop(problem.path)},line={problem.line},col={problem.column}"
    # The message as `feed check` prints it, less the place (the annotation carries that).
    text = str(problem).removeprefix(f"{problem.path}:{problem.line}:{problem.column}: ")
    return f"::{kind} {where},title={prop('feed check')}::{data(text)}"


def checks_json(reports) -> str:
    """Every problem of every file, for scripts: a stable, sorted JSON document."""
    return (
        json.dumps(
            {
                "ok": all(report.ok for _, report in reports),
                "files": [
                    {
                        "path": str(path),
                        "ok": report.ok,
                        "problems": [
                            {
                                "line": p.line,
                                "column": p.column,
                                "severity": "warning" if p.warning else "error",
                                "key": p.key,
                                "message": p.message,
                                "hint": p.hint,
                            }
                            for p in report.problems
                        ],
                    }
                    for path, report in reports
                ],
            },
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )
