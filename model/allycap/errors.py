"""Errors a user can act on: each names the file, line, key path, what was expected and found."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputIssue:
    """One problem in the inputs, located as precisely as the loader could."""

    message: str
    path: tuple = ()
    file: str | None = None
    line: int | None = None
    fix: str | None = None

    def key(self) -> str:
        return ".".join(str(p) for p in self.path) if self.path else "(top level)"

    def format(self) -> str:
        where = self.file or "<inputs>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.key()}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


@dataclass
class InputError(Exception):
    """Raised with every issue found, not only the first."""

    issues: list[InputIssue] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(issue.format() for issue in self.issues)


class SolveError(Exception):
    """The solver could not produce a usable answer; the message says why in user terms."""
