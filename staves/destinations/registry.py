"""``docker://`` destinations: pushing with a progress line on a terminal."""

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from oci.artifact import Artifact
from oci.errors import InvalidReference
from oci.index import Publishable
from oci.registry import (
    BlobLocations,
    Progress,
    PushResult,
    Reference,
    RegistryOptions,
    parse_reference,
    push_image,
)
from staves.errors import EXIT_USAGE, StavesError


class Pusher(Protocol):
    """Pushes an image (and artifacts attached to it) to registry references."""

    def __call__(
        self,
        image: Publishable,
        references: Sequence[Reference],
        referrers: Sequence[Artifact] = (),
    ) -> PushResult: ...


_REDRAW_EVERY = 0.2


def parse_registry_reference(text: str, default_tag: str) -> Reference:
    try:
        return parse_reference(text, default_tag=default_tag)
    except InvalidReference as exc:
        raise StavesError(str(exc), key="--output", exit_code=EXIT_USAGE) from exc


def blob_cache_path(environ: Mapping[str, str]) -> Path | None:
    base = environ.get("XDG_CACHE_HOME") or (
        f"{environ['HOME']}/.cache" if environ.get("HOME") else None
    )
    return Path(base) / "staves" / "blob-locations.json" if base else None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


@dataclass
class TerminalProgress:
    """One line, redrawn: bytes sent of bytes to send, and the rate. Thread-safe enough:
    each blob's counter is one dict entry written by one upload thread."""

    out: TextIO
    clock: Callable[[], float] = time.monotonic
    sizes: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    started: float | None = None
    last_draw: float = 0.0

    def __call__(self, event: Progress) -> None:
        now = self.clock()
        if self.started is None:
            self.started = now
        self.sizes[event.digest] = event.size
        if event.state in ("uploading", "uploaded"):
            self.done[event.digest] = event.done
        elif event.state in ("present", "mounted"):
            self.sizes.pop(event.digest, None)
        if now - self.last_draw >= _REDRAW_EVERY:
            self.last_draw = now
            self.draw(now)

    def draw(self, now: float) -> None:
        sent = sum(self.done.values())
        total = sum(self.sizes.values())
        started = now if self.started is None else self.started
        rate = sent / max(now - started, 1e-3)
        self.out.write(f"\rpushing {_size(sent)} / {_size(total)} at {_size(rate)}/s\x1b[K")
        self.out.flush()

    def finish(self) -> None:
        if self.started is not None:
            self.draw(self.clock())
            self.out.write("\n")
            self.out.flush()


def make_pusher(options: RegistryOptions, environ: Mapping[str, str]) -> Pusher:
    """Pushes with a progress line when stderr is a terminal, quietly otherwise."""

    def push(
        image: Publishable, references: Sequence[Reference], referrers: Sequence[Artifact] = ()
    ) -> PushResult:
        progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
        locations = BlobLocations(blob_cache_path(environ))
        try:
            return push_image(
                image,
                references,
                options,
                progress=progress,
                locations=locations,
                referrers=referrers,
            )
        finally:
            if progress is not None:
                progress.finish()

    return push
