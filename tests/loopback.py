"""Servers the tests start on 127.0.0.1: a free port to give them, and waiting until they
listen."""

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Return once something accepts on ``port``; fail if ``proc`` exits first."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            said = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"the server for port {port} exited: {said}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def wait_for_socket(path: Path, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Return once a server listens on the unix socket ``path``; fail if ``proc`` exits."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for {path} exited")
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {path}")
