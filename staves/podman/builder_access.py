"""What the builder container may reach besides its images: credentials, only when asked.

Nothing of the user's is shared by default. ``--ssh`` (or a repository of the spec whose
``credentials`` name ``ssh``) forwards an SSH agent's socket: the user's (``SSH_AUTH_SOCK``,
or a socket named by ``--ssh=PATH``), or, for ``--ssh=KEYFILE``, a private agent Staves
starts for the build holding that one key. No key file and no ``~/.ssh`` directory enters
the builder; ``~/.ssh/known_hosts`` comes along read-only so that ssh can check hosts.
``--netrc`` (or ``credentials = ["netrc"]``) mounts ``~/.netrc`` read-only.

Both reach root's home and a root-only directory in the builder, where Portage syncs and
fetches as root (Staves turns off ``userfetch`` and ``usersync``); with credentials shared
the build turns on ``userpriv``, so ``src_unpack`` to ``src_test`` — the upstream build
systems — run as the ``portage`` user, who can reach neither. Nothing is copied: the only
environment variable set is ``SSH_AUTH_SOCK``, a path.
"""

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from staves.builder.protocol import CREDENTIALS_DIR
from staves.errors import EXIT_USAGE, StavesError

BUILDER_HOME = "/root"
AGENT_SOCKET = f"{CREDENTIALS_DIR}/ssh-agent.sock"
DEFAULT_AGENT = "default"
_AGENT_START = 10.0


@dataclass(frozen=True)
class BindMount:
    """A host path bind-mounted read-only into the builder."""

    source: str
    target: str


@dataclass(frozen=True)
class Credentials:
    mounts: tuple[BindMount, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    shared: tuple[str, ...] = ()  # what is shared, for the user, in words

    def __add__(self, other: "Credentials") -> "Credentials":
        return Credentials(
            self.mounts + other.mounts,
            {**self.environment, **other.environment},
            self.shared + other.shared,
        )

    def __bool__(self) -> bool:
        return bool(self.mounts)


def home_of(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def ssh_target(value: str) -> str:
    """``default``, ``default=PATH`` or ``PATH`` (podman's and buildx's ``--ssh`` forms) as
    ``default`` or the path."""
    name, _, path = value.partition("=")
    if path and name == DEFAULT_AGENT:
        return path
    return value


@contextmanager
def shared_credentials(
    environ: Mapping[str, str], ssh: str | None, netrc: bool
) -> Iterator[Credentials]:
    """What the builder gets for ``ssh`` (None: no SSH; ``default``: the user's agent; a
    socket; a key file, held by a private agent while the context lasts) and ``netrc``."""
    home = home_of(environ)
    with _ssh(environ, home, ssh) as ssh_part:
        yield ssh_part + netrc_credentials(home, netrc)


@contextmanager
def _ssh(environ: Mapping[str, str], home: Path, ssh: str | None) -> Iterator[Credentials]:
    if ssh is None:
        yield Credentials()
        return
    target = ssh_target(ssh)
    if target == DEFAULT_AGENT:
        agent = environ.get("SSH_AUTH_SOCK", "")
        if not agent or not _is_socket(Path(agent)):
            raise StavesError(
                "no SSH agent to share with the builder (SSH_AUTH_SOCK is unset or not a socket)",
                key="--ssh",
                hint="start ssh-agent and ssh-add your key, or name the key: --ssh=KEYFILE",
                exit_code=EXIT_USAGE,
            )
        yield agent_credentials(Path(agent), home, "the SSH agent (SSH_AUTH_SOCK)")
        return
    path = Path(target).expanduser()
    if _is_socket(path):
        yield agent_credentials(path, home, f"the SSH agent at {path}")
        return
    if not path.is_file():
        raise StavesError(
            f"{target} is neither an SSH agent socket nor a key file",
            key="--ssh",
            hint="--ssh (the agent of SSH_AUTH_SOCK), --ssh=SOCKET or --ssh=KEYFILE",
            exit_code=EXIT_USAGE,
        )
    with private_agent(path, environ) as socket:
        yield agent_credentials(socket, home, f"an SSH agent holding {path} only")


def agent_credentials(socket: Path, home: Path, what: str) -> Credentials:
    """The agent socket, and known_hosts so that ssh can check the server's key."""
    mounts = [BindMount(str(socket), AGENT_SOCKET)]
    shared = [what]
    known_hosts = home / ".ssh" / "known_hosts"
    if known_hosts.is_file():
        mounts.append(BindMount(str(known_hosts), f"{BUILDER_HOME}/.ssh/known_hosts"))
        shared.append(f"{known_hosts} (read-only)")
    return Credentials(tuple(mounts), {"SSH_AUTH_SOCK": AGENT_SOCKET}, tuple(shared))


@contextmanager
def private_agent(key: Path, environ: Mapping[str, str]) -> Iterator[Path]:
    """An ``ssh-agent`` of our own holding ``key`` alone (its passphrase asked for by
    ssh-add, as ssh would), ended with the context."""
    for tool in ("ssh-agent", "ssh-add"):
        if shutil.which(tool, path=environ.get("PATH")) is None:
            raise StavesError(
                f"{tool} is not installed", key="--ssh", hint="--ssh=KEYFILE needs OpenSSH's"
            )
    with tempfile.TemporaryDirectory(prefix="staves-agent-") as tmp:
        socket = Path(tmp) / "agent.sock"
        agent = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(socket)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for(socket, agent)
            env = {**environ, "SSH_AUTH_SOCK": str(socket)}
            added = subprocess.run(
                ["ssh-add", "-q", str(key)], env=env, stderr=subprocess.PIPE, check=False
            )
            if added.returncode != 0:
                why = added.stderr.decode(errors="replace").strip().splitlines()
                raise StavesError(
                    f"{key}: ssh-add refused it: {why[-1] if why else 'no reason given'}",
                    key="--ssh",
                    exit_code=EXIT_USAGE,
                )
            yield socket
        finally:
            agent.terminate()
            agent.wait()


def _wait_for(socket: Path, agent: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _AGENT_START
    while not _is_socket(socket):
        if agent.poll() is not None or time.monotonic() > deadline:
            raise StavesError("ssh-agent did not start", key="--ssh")
        time.sleep(0.05)


def netrc_credentials(home: Path, wanted: bool) -> Credentials:
    if not wanted:
        return Credentials()
    netrc = home / ".netrc"
    if not netrc.is_file():
        raise StavesError(f"{netrc} does not exist", key="--netrc", exit_code=EXIT_USAGE)
    return Credentials(
        (BindMount(str(netrc), f"{BUILDER_HOME}/.netrc"),), shared=(f"{netrc} (read-only)",)
    )


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
