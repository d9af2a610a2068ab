"""Remote Podman over SSH: ``ssh://USER@HOST[:PORT]/PATH/podman.sock`` as ``podman --remote``
takes it, reached through one ``ssh -L`` forward of the remote socket to a local one.

OpenSSH does the work (keys, agent, ``~/.ssh/config``, ``known_hosts``), so no SSH library
is needed; podman-py's own ssh:// adapter starts an ssh per connection and turns host-key
checking off, which a build's long-lived log stream and its trust both rule out.
"""

import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from staves.errors import EXIT_USAGE, StavesError

_START_TIMEOUT = 30.0
# The command to run instead of plain ``ssh`` (like GIT_SSH_COMMAND): extra options, a
# config file of its own (``ssh -F FILE``), another known_hosts.
SSH_COMMAND_VARIABLE = "STAVES_SSH_COMMAND"
_URL_HINT = "ssh://USER@HOST[:PORT]/PATH/podman.sock, e.g. ssh://root@build1/run/podman/podman.sock"


@dataclass(frozen=True)
class SshUrl:
    """A parsed ``ssh://`` Podman URL."""

    user: str | None
    host: str
    port: int | None
    socket: str


def parse_ssh_url(url: str) -> SshUrl:
    """``ssh://USER@HOST[:PORT]/PATH``; one clear line for anything else."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "ssh" or not parts.hostname or port == -1 or not parts.path:
        raise StavesError(
            f"{url!r} is not an ssh:// Podman URL",
            key="--url",
            hint=_URL_HINT,
            exit_code=EXIT_USAGE,
        )
    if parts.query or parts.fragment or parts.password is not None:
        raise StavesError(
            f"{url!r}: passwords, queries and fragments are not taken",
            key="--url",
            hint="give the key with --identity (or an agent), " + _URL_HINT,
            exit_code=EXIT_USAGE,
        )
    user = unquote(parts.username) if parts.username else None
    return SshUrl(user, parts.hostname, port, unquote(parts.path))


def ssh_argv(
    target: SshUrl, local: Path, identity: str | None, environ: Mapping[str, str]
) -> list[str]:
    """``ssh -N -L LOCAL:REMOTE`` for ``target``, never asking on the terminal."""
    command = shlex.split(environ.get(SSH_COMMAND_VARIABLE) or "ssh")
    if shutil.which(command[0], path=environ.get("PATH")) is None:
        raise StavesError(
            f"{command[0]} is not installed", key="--url", hint="ssh:// URLs need OpenSSH's ssh"
        )
    argv = [*command, "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"]
    argv += ["-o", "StreamLocalBindUnlink=yes", "-L", f"{local}:{target.socket}"]
    if target.port is not None:
        argv += ["-p", str(target.port)]
    if identity:
        argv += ["-i", str(Path(identity).expanduser()), "-o", "IdentitiesOnly=yes"]
    destination = f"{target.user}@{target.host}" if target.user else target.host
    return [*argv, "--", destination]


@contextmanager
def ssh_forward(url: str, identity: str | None, environ: Mapping[str, str]) -> Iterator[str]:
    """A local ``unix://`` URL forwarded to the remote socket of ``url``, while it lasts."""
    target = parse_ssh_url(url)
    if identity and not Path(identity).expanduser().is_file():
        raise StavesError(f"{identity}: no such key file", key="--identity", exit_code=EXIT_USAGE)
    with tempfile.TemporaryDirectory(prefix="staves-ssh-") as tmp:
        local = Path(tmp) / "podman.sock"
        proc = subprocess.Popen(
            ssh_argv(target, local, identity, environ),
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C reaches staves, which then ends the forward
        )
        try:
            _wait_for_socket(url, local, proc)
            yield f"unix://{local}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_socket(url: str, local: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
            lines = [line.strip() for line in err.splitlines() if line.strip()]
            raise StavesError(
                f"ssh to {url} failed: {lines[-1] if lines else f'exit code {proc.returncode}'}",
                key="--url",
                hint="check the user, host, port and key (--identity); the host must be in "
                "known_hosts (ssh asks nothing: it runs with BatchMode=yes)",
            )
        if local.exists():
            return
        time.sleep(0.1)
    raise StavesError(f"ssh to {url} did not forward the socket in {_START_TIMEOUT:.0f}s")
