"""What `nexgen run` shows while it works: one line per file and per step, a bar on a terminal.

Dagster's event lines, Spark's JVM and TensorFlow write to file descriptors 1 and 2; below
`debug` they go to a log file in NEXGEN_HOME/logs, and only these lines reach the person.
The full event log stays in the Dagster instance for `dagster dev` to show.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LEVELS = ("debug", "info", "warning", "error")
KEPT_LOGS = 20


@dataclass
class FileResult:
    """One landed file's pass: what was read and rejected, or why it failed."""

    name: str
    seconds: float
    rows_read: int | None = None
    rows_rejected: int | None = None
    failed: str | None = None

    def describe(self) -> str:
        if self.failed:
            return f"{self.name}  FAILED {self.failed}  ({self.seconds:.1f} s)"
        counts = f"{self.rows_read:,} rows, {self.rows_rejected:,} rejected" if self.rows_read is not None else "done"
        return f"{self.name}  {counts}, {self.seconds:.1f} s"


class Progress:
    """Progress lines at a log level; a live bar when the stream is a terminal."""

    def __init__(self, out: TextIO, level: str = "info", interactive: bool | None = None):
        if level not in LEVELS:
            raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
        self.out = out
        self.level = level
        self.interactive = out.isatty() if interactive is None else interactive
        self._bar = None
        self._task = None

    @classmethod
    def silent(cls) -> Progress:
        return cls(io.StringIO(), "error", interactive=False)

    @property
    def verbose(self) -> bool:
        return self.level in ("debug", "info")

    def say(self, line: str, level: str = "info") -> None:
        if LEVELS.index(level) < LEVELS.index(self.level):
            return
        if self._bar is not None:
            self._bar.console.print(line, highlight=False, markup=False)
        else:
            print(line, file=self.out, flush=True)

    @contextmanager
    def stage(self, label: str, total: int) -> Iterator[None]:
        """A bar of `total` units (files or steps) while the stage runs, on a terminal at info level."""
        if self.interactive and self.verbose and total > 0:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            console = Console(file=self.out, force_terminal=True)
            self._bar = Bar(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=True,
            )
            self._task = self._bar.add_task(label, total=total)
            self._bar.start()
        try:
            yield
        finally:
            if self._bar is not None:
                self._bar.stop()
                self._bar = self._task = None

    def advance(self, description: str | None = None, done: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=done, **({"description": description} if description else {}))

    def file_done(self, index: int, total: int, result: FileResult) -> None:
        self.say(f"[{index}/{total}] {result.describe()}", "warning" if result.failed else "info")
        self.advance(result.name)

    def step_listener(self, label: str, total: int) -> Callable:
        """An instance event listener that reports each step of a run as it starts and ends."""
        finished = [0]
        started: dict[str, float] = {}

        def on_event(entry) -> None:
            event = entry.dagster_event
            if event is None:
                return
            kind = event.event_type_value
            if kind == "STEP_START":
                started[event.step_key] = entry.timestamp
                self.advance(f"{label}: {event.step_key}", done=0)
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                finished[0] += 1
                took = f", {entry.timestamp - started[event.step_key]:.1f} s" if event.step_key in started else ""
                outcome = {"STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED", "STEP_SKIPPED": "skipped"}[kind]
                self.say(
                    f"{label} [{finished[0]}/{total}] {event.step_key} {outcome}{took}",
                    "warning" if kind == "STEP_FAILURE" else "info",
                )
                self.advance()

        return on_event


def new_log_file(home: Path) -> Path:
    """A fresh log file under NEXGEN_HOME/logs; the oldest beyond the last KEPT_LOGS are removed."""
    folder = home / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob("nexgen-run-*.log"))[:-KEPT_LOGS + 1]:
        old.unlink(missing_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return folder / f"nexgen-run-{stamp}.log"


@contextmanager
def chatter_to(log_file: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """Send file descriptors 1 and 2 (and every child's: Spark's JVM) to `log_file`.

    Yields writable streams on the original stdout and stderr for the lines meant for a person.
    Both descriptors are restored on exit.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log_fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    out = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    err = os.fdopen(os.dup(saved[1]), "w", buffering=1)
    try:
        yield out, err
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        out.close()
        err.close()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
