"""The host's lease on the builder: the build ends when the host stops renewing it, and the
finished builder waits, holding the root, until the host has read it out."""

import os
import signal
import time
from pathlib import Path

from .protocol import FAILURE_MARK, FINISHED_MARK

# Without a new heartbeat from the host in this many seconds, the host is gone: end the
# build, so that the container (created with --rm) goes too. Each heartbeat is a PUT of an
# archive through Podman's service, which on a loaded machine took over 10 s at times and
# killed live builds (exit 137); a killed host's builder lingers this long at most.
LEASE_TIMEOUT = 30.0


class Lease:
    """The host's heartbeat: a file it rewrites every few seconds while it is alive."""

    def __init__(self, path: str, timeout: float = LEASE_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._seen: bytes | None = None
        self._changed = time.monotonic()

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    def expired(self) -> bool:
        """Whether the heartbeat has not changed for ``timeout`` seconds (monotonic time, so
        the host's clock does not matter)."""
        now, seen = time.monotonic(), self._read()
        if seen != self._seen:
            self._seen, self._changed = seen, now
        return now - self._changed > self.timeout

    def watch(self) -> None:
        """End the whole container when the host is gone. As PID 1, exiting takes every
        other process of the container with it."""
        while not self.expired():
            time.sleep(1)
        print(f"{FAILURE_MARK}the host stopped answering; ending the build", flush=True)
        os._exit(137)


def hold_for_host(lease: Lease | None, code: int) -> int:
    """Say we are done and wait while the host exports the root; it removes the container
    then, or the lease runs out."""
    print(f"{FINISHED_MARK}{code}", flush=True)
    if lease is not None:
        while not lease.expired():
            time.sleep(1)
    return code


def end_on_stop() -> None:
    """End at once when Podman stops the container. As PID 1 the program gets no default
    signal handling: without a handler, removing the finished builder waited out
    Podman's 10-second stop timeout before its SIGKILL, on every build."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))
