"""Which staves process a builder belongs to, and whether that process still lives.

Builders carry their owner in a label: this machine's name, the process ID and the
process's start time (so a reused PID is not mistaken for the owner). A build removes
builders whose owner on this machine is gone; it never touches a live build's builder, nor
one owned on another machine (a shared remote Podman service).
"""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

OWNER_LABEL = "io.staves.owner"


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str  # field 22 of /proc/PID/stat: clock ticks after boot

    def label(self) -> str:
        return f"{self.host}/{self.pid}/{self.started}"

    @classmethod
    def parse(cls, label: str) -> "Owner | None":
        parts = label.rsplit("/", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2])


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def this_process() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), start_time(os.getpid()) or "0")


def is_dead(owner: Owner) -> bool:
    """Whether ``owner`` ran on this machine and is gone; False when it cannot be told."""
    if owner.host != socket.gethostname():
        return False
    return start_time(owner.pid) != owner.started
