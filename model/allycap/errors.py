"""Errors a user can act on: each names the file, line, key path, what was expected and found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Problems listed one per line; the rest are counted. A table with millions of bad rows would
# otherwise print hundreds of megabytes, and the first fifty show what is wrong as well as all.
MAX_LISTED = 50
# A key path part longer than this is shortened when printed (a 5,000-character id would bury
# the message); it is the longest valid id (schema.MAX_ID_LENGTH), so valid ids print whole.
_SHOWN_PART = 64


def shorten(text: str, limit: int = _SHOWN_PART) -> str:
    """`text`, or its first 20 characters and its length when it is longer than `limit`."""
    if len(text) <= limit:
        return text
    return f"{text[:20]}...({len(text):,} characters)"


@dataclass(frozen=True)
class InputIssue:
    """One problem in the inputs, located as precisely as the loader could."""

    message: str
    path: tuple = ()
    file: str | None = None
    line: int | None = None
    fix: str | None = None

    def key(self) -> str:
        return ".".join(shorten(str(p)) for p in self.path) if self.path else "(top level)"

    def format(self) -> str:
        where = self.file or "<inputs>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.key()}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


@dataclass(frozen=True)
class UnlistedIssues(InputIssue):
    """The last line of a long list: how many problems were not listed, and in which files."""

    count: int = 0
    by_file: tuple[tuple[str, int], ...] = ()

    def format(self) -> str:
        return self.message


class Problems:
    """Issues as they are found: the first `limit` are kept, the rest only counted (per file).

    Collecting through this keeps memory flat however many problems an input has: an issue past
    the limit is never stored.
    """

    def __init__(self, limit: int = MAX_LISTED):
        self.limit = limit
        self.listed: list[InputIssue] = []
        self.unlisted: dict[str, int] = {}
        self.total = 0

    @property
    def full(self) -> bool:
        """True once further issues will only be counted (a caller may skip costly hints)."""
        return len(self.listed) >= self.limit

    def append(self, issue: InputIssue) -> None:
        if isinstance(issue, UnlistedIssues):  # a capped list merged into this one
            for name, count in issue.by_file:
                self.unlisted[name] = self.unlisted.get(name, 0) + count
            self.total += issue.count
            return
        self.total += 1
        if len(self.listed) < self.limit:
            self.listed.append(issue)
        else:
            name = issue.file or "<inputs>"
            self.unlisted[name] = self.unlisted.get(name, 0) + 1

    def extend(self, issues: Iterable[InputIssue]) -> None:
        for issue in issues:
            self.append(issue)

    def __len__(self) -> int:
        return self.total

    def lines(self) -> list[InputIssue]:
        """The listed issues, then one line counting the others when some were left out."""
        hidden = self.total - len(self.listed)
        if not hidden:
            return list(self.listed)
        by_file = tuple(sorted(self.unlisted.items(), key=lambda item: (-item[1], item[0])))
        where = ", ".join(f"{count:,} in {name}" for name, count in by_file)
        message = (
            f"... and {hidden:,} more problem(s) not listed ({self.total:,} in all; {where}). "
            "Fix: correct the problems above and run again to see the rest."
        )
        return [*self.listed, UnlistedIssues(message, count=hidden, by_file=by_file)]

    def error(self) -> InputError:
        return InputError(self.lines())


@dataclass
class InputError(Exception):
    """Raised with every issue found, not only the first.

    `issues` holds at most MAX_LISTED issues, then (when there were more) one `UnlistedIssues`
    line counting the rest; `total` is the number of problems in all.
    """

    issues: list[InputIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        problems = Problems()
        problems.extend(self.issues)
        self.issues = problems.lines()
        self.total = problems.total
        # Exception.args makes the error survive pickling (studies run in worker processes).
        self.args = (self.issues,)

    def __str__(self) -> str:
        return "\n".join(issue.format() for issue in self.issues)


class SolveError(Exception):
    """The solver could not produce a usable answer; the message says why in user terms."""
