"""Which staves process a builder belongs to, and whether that process still lives.

Builders carry their owner in a label: this machine's name with the process's PID
namespace, the process ID and the process's start time (so a reused PID is not mistaken for
the owner). A build removes builders whose owner in its own PID namespace on this machine is
gone; it never touches a live build's builder, nor one owned on another machine (a shared
remote Podman service) or in another namespace: Staves in a container driving the host's
Podman service (the Staves image in CI, often with --network host and so the host's name)
sees none of the host's processes and must not take their builders for dead.
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


def this_machine() -> str:
    """This machine's name and the PID namespace our process IDs mean something in
    (``vm+pid:[4026531836]``); the name alone where the namespace cannot be read."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}+{namespace}"


def this_process() -> Owner:
    return Owner(this_machine(), os.getpid(), start_time(os.getpid()) or "0")


def is_dead(owner: Owner) -> bool:
    """Whether ``owner`` ran in this PID namespace of this machine and is gone; False when
    it cannot be told (another machine or namespace, or a label of an older Staves)."""
    if owner.host != this_machine():
        return False
    return start_time(owner.pid) != owner.started
