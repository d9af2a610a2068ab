"""Run a command in a pseudo-terminal and read what a user would see on it: its output fed
through pyte, a terminal emulator, every line that scrolled away kept."""

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyte

# rich's "dots" spinner: a frame left on a line means a live view was not cleared.
SPINNER = set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")


@dataclass(frozen=True)
class Seen:
    code: int
    lines: list[str]  # every line, scrolled away or on the screen at the end, right-stripped
    raw: bytes

    @staticmethod
    def spinner_in(line: str) -> bool:
        return any(char in SPINNER for char in line)


def run_in_terminal(
    argv: Sequence[str],
    columns: int = 80,
    rows: int = 24,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Seen:
    """Run ``argv`` with stdin, stdout and stderr on a new pty of ``columns`` by ``rows``."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environ = {**(env or os.environ), "TERM": "xterm-256color", "COLUMNS": str(columns)}
    environ.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        list(argv), stdin=slave, stdout=slave, stderr=slave, env=environ, close_fds=True
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other side closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    raw = b"".join(chunks)
    screen = pyte.HistoryScreen(columns, rows, history=100_000)
    stream = pyte.ByteStream(screen)
    # A pty turns \n into \r\n (onlcr) as a terminal expects.
    stream.feed(raw)
    history = ["".join(char.data for char in row.values()) for row in screen.history.top]
    lines = [line.rstrip() for line in [*history, *screen.display]]
    while lines and not lines[-1]:
        lines.pop()
    return Seen(code, lines, raw)
