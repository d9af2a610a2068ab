"""Finding a Podman API service, or starting a private one for the length of a build.

Order, as podman-remote users expect: ``--url``, ``CONTAINER_HOST``, the rootless socket
``$XDG_RUNTIME_DIR/podman/podman.sock``, then ``/run/podman/podman.sock``. A URL is
``unix://PATH``, ``tcp://HOST:PORT`` or ``ssh://USER@HOST[:PORT]/PATH`` (forwarded over SSH).
"""

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import podman
from podman.errors import APIError, PodmanError

from staves.errors import StavesError
from staves.podman.removals import wait_for_removals
from staves.podman.ssh_forward import ssh_forward

log = logging.getLogger(__name__)
_START_TIMEOUT = 30.0
ROOT_SOCKET = "/run/podman/podman.sock"
_SSH_HINT = (
    "ssh logged in, but nothing answered at the socket: check that the remote Podman service "
    "runs there (systemctl enable --now podman.socket) and that its sshd allows forwarding "
    "to sockets (AllowStreamLocalForwarding, AllowTcpForwarding)"
)


def candidate_urls(url: str | None, environ: Mapping[str, str]) -> list[str]:
    """Where to look for a service, best first."""
    if url:
        return [url]
    found = []
    if environ.get("CONTAINER_HOST"):
        found.append(environ["CONTAINER_HOST"])
    if environ.get("XDG_RUNTIME_DIR"):
        found.append(f"unix://{environ['XDG_RUNTIME_DIR']}/podman/podman.sock")
    found.append(f"unix://{ROOT_SOCKET}")
    return found


def _answers(url: str) -> bool:
    if url.startswith("unix://") and not Path(url.removeprefix("unix://")).exists():
        return False
    try:
        with podman.PodmanClient(base_url=url, timeout=5) as client:
            return bool(client.ping())
    except (APIError, PodmanError, OSError, ValueError):
        return False


@contextmanager
def _private_service(environ: Mapping[str, str]) -> Iterator[str]:
    """Run ``podman system service`` on a socket of our own; stop it afterwards."""
    binary = shutil.which("podman", path=environ.get("PATH"))
    if binary is None:
        raise StavesError(
            "no Podman service answers and podman is not installed",
            key="--url",
            hint="install podman, or pass --url / set CONTAINER_HOST",
        )
    with tempfile.TemporaryDirectory(prefix="staves-podman-") as tmp:
        url = f"unix://{tmp}/podman.sock"
        proc = subprocess.Popen(
            [*_stop_with_parent(environ), binary, "system", "service", "--time=0", url],
            env=dict(environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Out of the terminal's process group: a Ctrl-C must reach staves alone, so
            # the service is still up while staves removes its builder container.
            start_new_session=True,
        )
        try:
            _wait_until_up(url, proc)
            log.info("started a private Podman service at %s", url)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _stop_with_parent(environ: Mapping[str, str]) -> list[str]:
    """A prefix that makes the service exit when staves dies, even of SIGKILL (which leaves
    no chance to stop it): util-linux's setpriv sets the parent-death signal. Where it is
    missing, the service is only stopped on a normal or interrupted exit."""
    setpriv = shutil.which("setpriv", path=environ.get("PATH"))
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip()
            last = err.splitlines()[-1] if err else f"exit code {proc.returncode}"
            raise StavesError(f"podman system service failed to start: {last}")
        if _answers(url):
            return
        time.sleep(0.02)  # the service is usually up within a few tens of ms
    raise StavesError(f"podman system service did not answer at {url} in {_START_TIMEOUT:.0f}s")


@contextmanager
def reachable_url(
    url: str, environ: Mapping[str, str], identity: str | None = None
) -> Iterator[str]:
    """A URL podman-py can talk to for ``url``: ``ssh://`` through an SSH forward of the
    remote socket (the key from ``identity``, else ``CONTAINER_SSHKEY`` as podman reads
    it), anything else as it is."""
    if not url.startswith("ssh://"):
        yield url
        return
    with ssh_forward(url, identity or environ.get("CONTAINER_SSHKEY"), environ) as local:
        yield local


@contextmanager
def podman_client(
    url: str | None, environ: Mapping[str, str], identity: str | None = None
) -> Iterator[podman.PodmanClient]:
    """A client for the first service that answers, starting one if none does."""
    for candidate in candidate_urls(url, environ):
        with reachable_url(candidate, environ, identity) as reachable:
            if _answers(reachable):
                with podman.PodmanClient(base_url=reachable, timeout=600) as client:
                    try:
                        yield client
                    finally:
                        wait_for_removals()
                return
        if url:
            hint = _SSH_HINT if url.startswith("ssh://") else None
            raise StavesError(f"no Podman service answers at {url}", key="--url", hint=hint)
    with (
        _private_service(environ) as private,
        podman.PodmanClient(base_url=private, timeout=600) as client,
    ):
        try:
            yield client
        finally:
            wait_for_removals()  # before the service stops


def is_remote(url: str | None) -> bool:
    """Whether ``url`` names a Podman on another machine (whose paths and volumes are its
    own, not this machine's)."""
    return bool(url) and str(url).startswith(("ssh://", "tcp://"))
