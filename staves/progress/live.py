"""The live view on a terminal (``--progress tty``, the default on one), drawn by rich as pip
draws its own: the lines that stay above, and below them what is going on now — each
platform's current step or package with its time so far, a bar for each pull, push or
packing — redrawn in place, and gone when the command ends."""

import logging
import sys
import threading
import time
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from staves.progress.words import clock, plain, size


class LiveScreen:
    """A rich Live display: events and (verbose) the builder's output printed above it."""

    def __init__(self, out: TextIO, verbose: bool = False, force: bool = False) -> None:
        self.verbose = verbose
        self.console = Console(file=out, force_terminal=force or None, highlight=False)
        self.lock = threading.Lock()
        self.statuses: dict[str | None, tuple[str, float]] = {}
        self.transfers: dict[str, tuple[str, int, int | None]] = {}
        self.spinner = Spinner("dots")
        self.live = Live(
            get_renderable=self._render,
            console=self.console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start()
        self._logging = _LoggingThroughScreen(self, out)

    def _render(self) -> RenderableType:
        now = time.monotonic()
        with self.lock:
            statuses = list(self.statuses.items())
            transfers = list(self.transfers.values())
        rows = Table.grid(padding=(0, 1))
        rows.add_column(no_wrap=True)
        rows.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        rows.add_column(no_wrap=True, justify="right")
        for scope, (text, since) in statuses:
            label = f"[{scope}] {text}" if scope else text
            rows.add_row(self.spinner.render(now), Text(label), Text(clock(now - since)))
        bars = Table.grid(padding=(0, 1))
        bars.add_column(no_wrap=True, overflow="ellipsis", max_width=48)
        bars.add_column(width=30)
        bars.add_column(no_wrap=True, justify="right")
        for label, done, total in transfers:
            amount = f"{size(done)} / {size(total)}" if total else size(done)
            bar = ProgressBar(total=float(total or 0) or None, completed=float(done), width=30)
            bars.add_row(Text(label), bar, Text(amount))
        return Group(rows, bars)

    def _print(self, text: str, style: str | None = None) -> None:
        # The terminal wraps a long line itself: it stays one line, copied whole.
        self.console.print(Text(text, style=style or ""), soft_wrap=True)

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        marked = f"[{scope}] {plain(text)}" if scope else plain(text)
        line = Text.assemble((f"{clock(elapsed):>7}  ", "dim"), marked)
        self.console.print(line, soft_wrap=True)

    def status(self, scope: str | None, text: str | None) -> None:
        with self.lock:
            if text is None:
                self.statuses.pop(scope, None)
            elif self.statuses.get(scope, ("",))[0] != text:
                self.statuses[scope] = (text, time.monotonic())

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        with self.lock:
            if total is not None and done >= total:
                self.transfers.pop(key, None)
            else:
                self.transfers[key] = (label, done, total)

    def output(self, scope: str | None, line: str) -> None:
        if self.verbose:
            self._print(f"[{scope}] {plain(line)}" if scope else plain(line))

    def warning(self, text: str) -> None:
        self._print(f"staves: warning: {plain(text)}", "yellow")

    def failure(self, lines: list[str]) -> None:
        for line in lines:
            self._print(plain(line), "red")

    def close(self) -> None:
        self.live.stop()
        self._logging.restore()


class _LoggingThroughScreen(logging.Handler):
    """Log records (``-v``: what was written where) printed above the live view while it is
    drawn: written straight to the terminal, a line landed on the view's last frame and
    left a spinner in it."""

    def __init__(self, screen: LiveScreen, out: TextIO) -> None:
        super().__init__()
        self.screen = screen
        root = logging.getLogger()
        self.replaced = [
            handler
            for handler in root.handlers
            if isinstance(handler, logging.StreamHandler)
            and handler.stream in (out, sys.stderr, sys.__stderr__)
        ]
        for handler in self.replaced:
            root.removeHandler(handler)
        if self.replaced:
            self.setFormatter(self.replaced[0].formatter)
            self.setLevel(self.replaced[0].level)
            root.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.screen._print(self.format(record))
        except Exception:  # logging must never end the command
            self.handleError(record)

    def restore(self) -> None:
        root = logging.getLogger()
        if self in root.handlers:
            root.removeHandler(self)
        for handler in self.replaced:
            root.addHandler(handler)
