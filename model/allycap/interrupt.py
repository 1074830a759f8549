"""Ctrl-C and SIGTERM at any stage: stop cleanly, say what was kept, exit 130 or 143.

The CLI installs one handler for SIGINT and SIGTERM (`install`). What it does depends on what
the process is doing when the signal arrives:

- in Python code (load, build, extract, the report): it raises `Interrupted` at once, so `with`
  blocks clean up (a half-written temporary folder is removed);
- inside HiGHS (`highs_call`): it does not raise. Raising inside HiGHS's own Python callback is
  what made Ctrl-C look like "HiGHS reported an error" and could crash the diagnosis; instead it
  asks HiGHS to stop through HiGHS's interrupt (`cancelSolve`), and `Interrupted` is raised once
  HiGHS has returned control;
- inside a section that must not be cut in half (`deferred`: the renames that put a run folder
  in place), it is remembered and raised when the section ends.

The library API does not install the handler; there, Ctrl-C stays Python's KeyboardInterrupt.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class Interrupted(BaseException):
    """A signal stopped the run; `stage` is where, `kept` says what is on disk (if anything).

    Not a KeyboardInterrupt: typer turns those into a silent exit 130, and SIGTERM is 143."""

    def __init__(self, signum: int, stage: str, kept: str = "") -> None:
        super().__init__(signum, stage)
        self.signum = signum
        self.stage = stage
        self.kept = kept

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signum, 128 + int(self.signum))

    def line(self) -> str:
        what = NAMES.get(self.signum, f"signal {int(self.signum)}")
        kept = self.kept or "nothing was written"
        return f"interrupted by {what} during {self.stage}; {kept}."


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.stage = "start-up"
        self.pending: int | None = None
        self.highs: list = []  # HiGHS instances running now (innermost last)
        self.deferred = 0


_state = _State()


def _handler(signum: int, frame) -> None:
    _state.pending = signum
    # On the way out, libraries log about the interrupt itself (Pyomo: "ERROR: Constructing
    # component ...", "unhandled status kInterrupt"); the one line we print says it all.
    logging.disable(logging.CRITICAL)
    if _state.highs:
        for h in _state.highs:
            h.cancelSolve()
        return
    if _state.deferred:
        return
    raise Interrupted(signum, _state.stage)


def install() -> None:
    """Route SIGINT and SIGTERM through `_handler` (the CLI calls this once at start-up)."""
    if _state.installed:
        return
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    _state.installed = True
    _trace("start-up")


def _trace(name: str) -> None:
    """Append the stage name to $ALLYCAP_TRACE_STAGES, if set: tests use it to send a signal
    while a given stage is running. One short append per stage, nothing when unset."""
    target = os.environ.get("ALLYCAP_TRACE_STAGES")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(name + "\n")


def check() -> None:
    """Raise `Interrupted` if a signal arrived while it could not be acted on."""
    if _state.pending is not None and not _state.deferred and not _state.highs:
        raise Interrupted(_state.pending, _state.stage)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Name the stage that is running, for the interrupt message."""
    previous = _state.stage
    _state.stage = name
    _trace(name)
    try:
        check()
        yield
    finally:
        _state.stage = previous


@contextmanager
def highs_call(highs) -> Iterator[None]:
    """Around a call into HiGHS: a signal asks HiGHS to stop instead of raising inside it.

    `highs` is the highspy.Highs instance; its user-interrupt callback is switched on so that
    `cancelSolve` is heard by the simplex and interior-point loops."""
    if highs is None or not _state.installed:
        yield
        return
    with suppress(AttributeError):  # an older highspy without the interrupt callback
        highs.HandleUserInterrupt = True
    _state.highs.append(highs)
    _trace("highs")
    try:
        if _state.pending is not None:
            highs.cancelSolve()
        yield
    finally:
        _state.highs.pop()
    check()


@contextmanager
def deferred() -> Iterator[None]:
    """A section that a signal must not cut in half; the signal is acted on when it ends."""
    _state.deferred += 1
    try:
        yield
    finally:
        _state.deferred -= 1
    check()


def pending() -> int | None:
    """The signal received and not yet acted on, if any."""
    return _state.pending
