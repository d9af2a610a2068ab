"""The host's lease on the builder: the build ends when the host stops renewing it, and the
finished builder waits, holding the root, until the host has read it out."""

import os
import signal
import time

from .console import fail
from .events import record
from .protocol import LEASE_SIGNAL

# Without a heartbeat from the host in this many seconds, the host is gone: end the build,
# so that the container (created with --rm) goes too. A killed host's builder lingers this
# long at most; heartbeats through a loaded Podman service took over 10 s at times.
LEASE_TIMEOUT = 30.0
LEASE_SIGNUM = getattr(signal, LEASE_SIGNAL)


class Lease:
    """The host's heartbeat: a signal (``LEASE_SIGNAL``) it sends every few seconds while
    it is alive. Made in the main thread, which the signal's handler runs in."""

    def __init__(self, signum: int = LEASE_SIGNUM, timeout: float = LEASE_TIMEOUT) -> None:
        self.timeout = timeout
        self._renewed = time.monotonic()
        signal.signal(signum, self._renew)

    def _renew(self, signum: int, frame: object) -> None:
        self._renewed = time.monotonic()

    def expired(self) -> bool:
        """Whether no heartbeat came for ``timeout`` seconds (monotonic time, so the
        host's clock does not matter)."""
        return time.monotonic() - self._renewed > self.timeout

    def watch(self) -> None:
        """End the whole container when the host is gone. As PID 1, exiting takes every
        other process of the container with it."""
        while not self.expired():
            time.sleep(1)
        fail("the host stopped answering; ending the build")
        os._exit(137)


def hold_for_host(lease: Lease | None, code: int) -> int:
    """Say we are done (the last record) and wait while the host exports the root; it
    removes the container then, or the lease runs out."""
    record("finished", code=code)
    if lease is not None:
        while not lease.expired():
            time.sleep(1)
    return code


def end_on_stop() -> None:
    """End at once when Podman stops the container. As PID 1 the program gets no default
    signal handling: without a handler, removing the finished builder waited out
    Podman's 10-second stop timeout before its SIGKILL, on every build."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))
