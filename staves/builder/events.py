"""The program's records for the host: one JSON object a line on the container's stdout,
which nothing else writes to once ``open_channel`` has run. emerge, the phases it runs in
subprocesses and the program's own words go to stderr, which the host keeps in the build's
log (and shows with ``-v``); the host draws its progress from the records alone.

Each record has an ``event`` (``protocol.EVENTS`` lists them) and the fields of its kind.
"""

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_lock = threading.Lock()
_channel: TextIO | None = None


def open_channel() -> None:
    """Keep the container's stdout for records alone: every other write to fd 1, this
    process's and its children's, goes to stderr from now on. Portage's colours are off:
    the output is a log, never a terminal (Portage leaves NOCOLOR out of the environment it
    saves with each package, so the packages are the same either way)."""
    global _channel
    sys.stdout.flush()
    records = os.dup(1)  # not inherited by children
    os.dup2(2, 1)
    _channel = os.fdopen(records, "w", encoding="utf-8", buffering=1)
    os.environ["NOCOLOR"] = "true"


def record(event: str, **fields: Any) -> None:
    """Send one record to the host (to stdout where no channel was opened: in tests)."""
    line = json.dumps({"event": event, **fields}, separators=(",", ":"), default=str)
    with _lock:
        out = _channel if _channel is not None else sys.stdout
        out.write(line + "\n")
        out.flush()


@contextmanager
def phase(name: str) -> Iterator[None]:
    """A phase of the program (configure, sync, merge…): its start and how long it took."""
    start = time.monotonic()
    record("phase", name=name, state="start")
    try:
        yield
    finally:
        record("phase", name=name, state="done", seconds=round(time.monotonic() - start, 3))
