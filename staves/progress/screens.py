"""Where progress goes: a screen draws it (plain lines, nothing but errors, or a live view
in ``live``), the build's log file keeps all of it. Every screen takes the same calls, from
several threads at once (one per Podman service)."""

import threading
import time
from datetime import datetime
from typing import Protocol, TextIO

from staves.progress.words import clock, plain


class Screen(Protocol):
    """What progress is drawn on. ``scope`` marks a platform's lines when several build."""

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        """A line that stays: something happened."""

    def status(self, scope: str | None, text: str | None) -> None:
        """What is going on now (None: nothing), replaced by the next status."""

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        """Bytes moved so far of a pull, push or packing (done: it is over)."""

    def output(self, scope: str | None, line: str) -> None:
        """A line of the builder's own output (emerge's)."""

    def warning(self, text: str) -> None:
        """A warning: shown in every mode."""

    def failure(self, lines: list[str]) -> None:
        """Why the build failed (a compiler's error, where the log is): shown in every mode."""

    def close(self) -> None:
        """The command is over."""


def _marked(scope: str | None, text: str) -> str:
    return f"[{scope}] {text}" if scope else text


class PlainScreen:
    """One line per event with the time since the start, no escape codes, nothing redrawn:
    readable in a CI log. ``verbose``: the builder's output too."""

    def __init__(self, out: TextIO, verbose: bool = False) -> None:
        self.out, self.verbose = out, verbose
        self.lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        self._write(f"{clock(elapsed):>7}  {_marked(scope, plain(text))}")

    def status(self, scope: str | None, text: str | None) -> None:
        pass

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        pass

    def output(self, scope: str | None, line: str) -> None:
        if self.verbose:
            self._write(_marked(scope, plain(line)))

    def warning(self, text: str) -> None:
        self._write(f"staves: warning: {plain(text)}")

    def failure(self, lines: list[str]) -> None:
        for line in lines:
            self._write(plain(line))

    def close(self) -> None:
        pass


class QuietScreen(PlainScreen):
    """Nothing but warnings and why the build failed (``--progress quiet``, ``-q``)."""

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        pass

    def output(self, scope: str | None, line: str) -> None:
        pass


class LogScreen(PlainScreen):
    """The build's log file: every event with the wall-clock time, every line of the
    builder's output, warnings, the failure and the final error."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out, verbose=True)

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        now = datetime.now().strftime("%H:%M:%S")
        self._write(f"{now} {clock(elapsed):>7}  staves: {_marked(scope, plain(text))}")

    def close(self) -> None:
        with self.lock:
            self.out.close()


class Screens:
    """Several screens as one: the terminal's and the log file's."""

    def __init__(self, *screens: Screen) -> None:
        self.screens = screens
        self.started = time.monotonic()

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        for screen in self.screens:
            screen.event(elapsed, scope, text)

    def status(self, scope: str | None, text: str | None) -> None:
        for screen in self.screens:
            screen.status(scope, text)

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        for screen in self.screens:
            screen.transfer(key, label, done, total)

    def output(self, scope: str | None, line: str) -> None:
        for screen in self.screens:
            screen.output(scope, line)

    def warning(self, text: str) -> None:
        for screen in self.screens:
            screen.warning(text)

    def failure(self, lines: list[str]) -> None:
        for screen in self.screens:
            screen.failure(lines)

    def close(self) -> None:
        for screen in self.screens:
            screen.close()
