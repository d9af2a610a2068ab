"""``Progress``: what the steps of a command call to say what happens — events, the current
status, phases and their times, bytes moved, the builder's records and output — drawn on
the command's screens and noted in its ledger. One per command (``reporting``); the steps
reach it with ``current()``, each platform's builder through ``on(platform)``."""

import io
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from staves.errors import error_line
from staves.gentoo.vdb import InstalledPackage
from staves.progress.choice import CHOICE
from staves.progress.ledger import (
    FROM_BUILDER,
    UNCHANGED,
    BuildLedger,
    ImagePackage,
    ScopeLedger,
)
from staves.progress.screens import PlainScreen, QuietScreen, Screen
from staves.progress.words import counted, size, took

# How many packages a line names before it says "and N more".
NAMED = 12


class Progress:
    """The command's progress, for all of it (``key`` None) or for one platform's build."""

    def __init__(
        self,
        screen: Screen,
        ledger: BuildLedger | None = None,
        log_path: Path | None = None,
        scope: str | None = None,
        key: str | None = None,
        log: Screen | None = None,
    ) -> None:
        self.screen = screen
        self.ledger = ledger if ledger is not None else BuildLedger()
        self.log_path, self.log = log_path, log
        self.scope, self.key = scope, key

    def on(self, platform: object, several: bool, label: str | None = None) -> "Progress":
        """This progress for one platform's build (its lines marked when several build);
        ``label`` keeps a second build of it apart (``check``)."""
        name = str(platform)
        marked = " ".join(filter(None, [name if several else None, label])) or None
        key = f"{name} {label}" if label else name
        return Progress(self.screen, self.ledger, self.log_path, marked, key, self.log)

    @property
    def part(self) -> ScopeLedger:
        return self.ledger.scope(self.key or "")

    # What happens.
    def event(self, text: str) -> None:
        self.screen.event(self.ledger.elapsed(), self.scope, text)

    def warn(self, text: str) -> None:
        self.screen.warning(text)

    def status(self, text: str | None) -> None:
        self.screen.status(self.scope, text)

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        self.screen.transfer(key, label, done, total)

    def stream(self) -> "LineEvents":
        """A text stream whose lines are events (``staves: `` dropped): for the steps that
        print to a stream they are given (``staves.podman``)."""
        return LineEvents(self)

    def reading(self, stream: BinaryIO, label: str, total: int | None) -> "Counted":
        """``stream``, its bytes read shown as a transfer (a bar on a terminal) until its
        ``finish``."""
        key = f"read {id(stream)}"

        def report(done: int, over: bool = False) -> None:
            self.transfer(key, label, done, done if over else total)  # over: the bar goes

        return Counted(stream, report)

    def failure(self, lines: list[str]) -> None:
        """Why the build failed, beyond its one-line error (which says where the log is)."""
        self.screen.failure(lines)

    @contextmanager
    def phase(self, name: str, status: str | None = None) -> Iterator[None]:
        """Time a phase (noted for the metadata); ``status`` is shown while it lasts."""
        start = time.monotonic()
        if status:
            self.status(status)
        try:
            yield
        finally:
            self.ledger.add_phase(self.key, name, time.monotonic() - start)
            if status:
                self.status(None)

    # The builder's stream (``staves.podman.builder_output``).
    def record(self, record: dict[str, Any]) -> None:
        from staves.progress.builder_records import apply

        apply(self, record)

    def output(self, line: str) -> None:
        self.screen.output(self.scope, line)

    # What a build made.
    def root_ready(self, packages: Sequence[InstalledPackage]) -> None:
        """The image root's packages as its database says, each with how it was obtained."""
        part = self.part
        with self.ledger.lock:
            part.packages = tuple(
                ImagePackage(
                    f"{p.category}/{p.pn}",
                    f"{p.category}/{p.pf}",
                    p.pvr,
                    p.slot,
                    p.repository,
                    tuple(p.use),
                    part.how_of(f"{p.category}/{p.pf}"),
                )
                for p in packages
            )
        # The packages merged were named as they were; the others are named here.
        text = f"image root ready: {counted(len(part.packages), 'package')}"
        for how, words in ((UNCHANGED, "unchanged"), (FROM_BUILDER, "from the builder")):
            names = [p.cpv for p in part.packages if p.how == how]
            more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
            text += f"; {words}: {' '.join(names[:NAMED])}{more}" if names else ""
        self.event(text)

    def packed(self, repacked: int, layers: int, total_size: int) -> None:
        with self.ledger.lock:
            self.part.layers_repacked, self.part.layers = repacked, layers
        self.event(f"layers: {repacked} of {layers} repacked ({size(total_size)})")

    def wrote(self, destination: str) -> None:
        with self.ledger.lock:
            self.ledger.destinations.append(destination)
        self.event(f"wrote {destination}")

    def ended(self, line: str) -> None:
        """The command's last words (its error), for the log: the screen gets them from
        the command line."""
        if self.log is not None:
            self.log.failure([line])

    def skipped(self, why: str) -> None:
        """Nothing was built: every destination holds this build, or got a copy."""
        self.ledger.skipped = why

    def finish(self) -> None:
        """The total and the counts, after the last step."""
        self.event(summary(self.ledger))


class Counted:
    """A binary stream that reports how many bytes were read from it."""

    def __init__(self, stream: BinaryIO, report: Callable[..., None]) -> None:
        self.stream, self.report, self.done = stream, report, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.done += len(data)
        self.report(self.done)
        return data

    def finish(self) -> None:
        """The reading is over, whatever is left unread (a tar's padding)."""
        self.report(self.done, over=True)


class LineEvents(io.TextIOBase):
    """Each line written is an event of ``progress``; ``staves: warning: `` ones warnings."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.partial = progress, ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            said = line.removeprefix("staves: ")
            if said.startswith("warning: "):
                self.progress.warn(said.removeprefix("warning: "))
            elif said.strip():
                self.progress.event(said)
        return len(text)

    def writable(self) -> bool:
        return True


def summary(ledger: BuildLedger) -> str:
    """``done in 1m02s: 1 compiled, 3 binary, 1 unchanged; 1 of 5 layers repacked``."""
    text = f"done in {took(ledger.elapsed())}"
    if ledger.skipped:
        return f"{text}: {ledger.skipped}"
    parts = [p for key, p in ledger.scopes.items() if not key.endswith(" check")]
    counts: dict[str, int] = {}
    for part in parts:
        for how, number in part.counts().items():
            counts[how] = counts.get(how, 0) + number
    said = [f"{number} {how}" for how, number in counts.items() if number]
    said = [s.replace(" builder", " from the builder") for s in said]
    repacked = sum(p.layers_repacked or 0 for p in parts)
    layers = sum(p.layers or 0 for p in parts)
    if layers:
        return f"{text}: {', '.join(said) or 'no packages'}; {repacked} of {layers} layers repacked"
    return text


_current: Progress | None = None


def current() -> Progress:
    """The running command's progress; where none was set up, plain lines on stderr (none
    with ``--quiet``)."""
    if _current is not None:
        return _current
    if CHOICE.mode == "quiet":
        return Progress(QuietScreen(sys.stderr))
    return Progress(PlainScreen(sys.stderr, CHOICE.verbose))


@contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the command's while the context lasts; its screens close after,
    the log ending with the command's error when it fails."""
    global _current
    before, _current = _current, progress
    try:
        yield progress
    except KeyboardInterrupt:
        progress.ended("staves: interrupted")
        raise
    except Exception as exc:
        progress.ended(error_line(exc))
        raise
    finally:
        _current = before
        progress.screen.close()
