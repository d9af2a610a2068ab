"""What the builder container may reach besides its images: credentials for private sources.

``--ssh`` forwards the user's SSH agent socket (preferred: no key file enters the builder)
or, without an agent, mounts ``~/.ssh`` read-only; ``--netrc`` mounts ``~/.netrc``
read-only. Both are bind mounts at root's home in the builder, where Portage fetches and
syncs (Staves turns off ``userfetch`` and ``usersync``). Nothing is copied: the builder's
file system, and so its image, binary packages and caches, never holds the files, and the
only environment variable set is ``SSH_AUTH_SOCK``, a path.
"""

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from staves.errors import StavesError

BUILDER_HOME = "/root"
AGENT_SOCKET = "/run/staves/ssh-agent.sock"


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


def home_of(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def builder_credentials(
    environ: Mapping[str, str], ssh: bool | None, netrc: bool | None
) -> Credentials:
    """The mounts and variables for ``--ssh``/``--netrc``: ``None`` means "when present"."""
    home = home_of(environ)
    return ssh_credentials(environ, home, ssh) + netrc_credentials(home, netrc)


def ssh_credentials(environ: Mapping[str, str], home: Path, wanted: bool | None) -> Credentials:
    if wanted is False:
        return Credentials()
    agent = environ.get("SSH_AUTH_SOCK", "")
    if agent and _is_socket(Path(agent)):
        return _agent(Path(agent), home)
    ssh_dir = home / ".ssh"
    if ssh_dir.is_dir():
        return Credentials(
            (BindMount(str(ssh_dir), f"{BUILDER_HOME}/.ssh"),),
            shared=(f"{ssh_dir} (read-only)",),
        )
    if wanted:
        raise StavesError(
            f"no SSH agent (SSH_AUTH_SOCK) and no {ssh_dir} to share with the builder",
            key="--ssh",
            hint="start ssh-agent and ssh-add your key, or pass --no-ssh",
        )
    return Credentials()


def _agent(socket: Path, home: Path) -> Credentials:
    """The agent socket, and known_hosts so that ssh can check the server's key."""
    mounts = [BindMount(str(socket), AGENT_SOCKET)]
    shared = ["the SSH agent (SSH_AUTH_SOCK)"]
    known_hosts = home / ".ssh" / "known_hosts"
    if known_hosts.is_file():
        mounts.append(BindMount(str(known_hosts), f"{BUILDER_HOME}/.ssh/known_hosts"))
        shared.append(f"{known_hosts} (read-only)")
    return Credentials(tuple(mounts), {"SSH_AUTH_SOCK": AGENT_SOCKET}, tuple(shared))


def netrc_credentials(home: Path, wanted: bool | None) -> Credentials:
    if wanted is False:
        return Credentials()
    netrc = home / ".netrc"
    if netrc.is_file():
        return Credentials(
            (BindMount(str(netrc), f"{BUILDER_HOME}/.netrc"),),
            shared=(f"{netrc} (read-only)",),
        )
    if wanted:
        raise StavesError(
            f"{netrc} does not exist", key="--netrc", hint="create it, or pass --no-netrc"
        )
    return Credentials()


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False
