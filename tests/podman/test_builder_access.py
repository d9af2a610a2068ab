"""What the builder is given: credentials by --ssh/--netrc, caches, and fetch failure lines."""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from podman.errors import APIError

from staves.build.records import failure_from
from staves.builder.failures import fetch_problem
from staves.errors import StavesError
from staves.podman.builder_access import (
    AGENT_SOCKET,
    BindMount,
    Credentials,
    shared_credentials,
)
from staves.podman.builder_container import credential_mounts, podman_step
from staves.podman.builder_output import RunResult
from tests.conftest import require_tools


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[str]:
    """A listening Unix socket standing in for ssh-agent."""
    path = tmp_path / "agent.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        sock.listen()
        yield str(path)


def with_ssh_dir(home: Path, known_hosts: bool = True) -> Path:
    ssh = home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text("PRIVATE KEY")
    if known_hosts:
        (ssh / "known_hosts").write_text("127.0.0.1 ssh-ed25519 AAAA\n")
    return ssh


def credentials(environ: dict[str, str], ssh: str | None, netrc: bool) -> Credentials:
    with shared_credentials(environ, ssh, netrc) as found:
        return found


def test_nothing_is_shared_unless_asked_whatever_is_present(home: Path, agent: str) -> None:
    with_ssh_dir(home)
    (home / ".netrc").write_text("machine h login u password p\n")
    creds = credentials({"HOME": str(home), "SSH_AUTH_SOCK": agent}, None, False)
    assert creds.mounts == () and dict(creds.environment) == {} and creds.shared == ()
    assert not creds


@pytest.mark.parametrize("asked", ["default", "default={agent}", "{agent}"])
def test_the_agent_and_known_hosts_are_shared_never_the_ssh_directory(
    home: Path, agent: str, asked: str
) -> None:
    ssh = with_ssh_dir(home)
    environ = {"HOME": str(home), "SSH_AUTH_SOCK": agent}
    creds = credentials(environ, asked.format(agent=agent), False)
    assert creds.mounts == (
        BindMount(agent, AGENT_SOCKET),
        BindMount(str(ssh / "known_hosts"), "/root/.ssh/known_hosts"),
    )
    assert dict(creds.environment) == {"SSH_AUTH_SOCK": AGENT_SOCKET}


def test_without_an_agent_the_ssh_directory_is_not_a_fallback(home: Path) -> None:
    with_ssh_dir(home)
    environ = {"HOME": str(home), "SSH_AUTH_SOCK": str(home / "gone.sock")}
    with pytest.raises(StavesError) as caught:
        credentials(environ, "default", False)
    assert caught.value.key == "--ssh" and "--ssh=KEYFILE" in str(caught.value)


def test_a_named_key_is_held_by_a_private_agent_ended_with_the_build(
    home: Path, tmp_path: Path
) -> None:
    require_tools("ssh-keygen", "ssh-agent", "ssh-add")
    key = tmp_path / "deploy_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with shared_credentials(
        {"HOME": str(home), "PATH": os.environ["PATH"]}, str(key), False
    ) as creds:
        socket_path = Path(creds.mounts[0].source)
        assert creds.mounts[0].target == AGENT_SOCKET
        assert all(str(key) != m.source for m in creds.mounts)
        listed = subprocess.run(
            ["ssh-add", "-L"],
            env={**os.environ, "SSH_AUTH_SOCK": str(socket_path)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert listed.stdout.split()[:2] == key.with_suffix(".pub").read_text().split()[:2]
        assert len(listed.stdout.splitlines()) == 1
    assert not socket_path.exists()


def test_netrc_is_mounted_at_roots_home_when_asked(home: Path) -> None:
    (home / ".netrc").write_text("machine h login u password p\n")
    creds = credentials({"HOME": str(home)}, None, True)
    assert creds.mounts == (BindMount(str(home / ".netrc"), "/root/.netrc"),)
    assert "(read-only)" in creds.shared[0]


@pytest.mark.parametrize(
    ("ssh", "netrc", "key"),
    [("default", False, "--ssh"), ("/nowhere", False, "--ssh"), (None, True, "--netrc")],
)
def test_asking_for_what_is_absent_is_one_line(
    home: Path, ssh: str | None, netrc: bool, key: str
) -> None:
    with pytest.raises(StavesError) as caught:
        credentials({"HOME": str(home)}, ssh, netrc)
    assert caught.value.key == key
    assert "\n" not in str(caught.value)


def test_credential_mounts_are_read_only_binds(home: Path) -> None:
    (home / ".netrc").write_text("x")
    mounts = credential_mounts(credentials({"HOME": str(home)}, None, True))
    source = str(home / ".netrc")
    want = {"type": "bind", "source": source, "target": "/root/.netrc", "read_only": True}
    assert mounts == [want]


VERIFY_FAILED_LOG = """
>>> Downloading 'http://127.0.0.1:1/distfiles/layout.conf'
!!! Couldn't download '.layout.conf.127.0.0.1'. Aborting.
>>> Downloading 'http://127.0.0.1:1/distfiles/fetched-1.0.tar.gz'
\x1b[32m * \x1b[39;49;00mfetched-1.0.tar.gz BLAKE2B SHA512 size ;-) ...
!!! Fetched file: fetched-1.0.tar.gz VERIFY FAILED!
!!! Reason: Failed on BLAKE2B verification
!!! Got:      abc
!!! Expected: def
Refetching... File renamed to '/var/cache/distfiles/fetched-1.0.tar.gz._checksum_failure_.x'
!!! Couldn't download 'fetched-1.0.tar.gz'. Aborting.
"""


def test_a_manifest_mismatch_names_the_file_and_the_reason() -> None:
    assert fetch_problem(VERIFY_FAILED_LOG) == (
        "fetched-1.0.tar.gz does not match the Manifest (Failed on BLAKE2B verification)"
    )


def test_a_missing_download_names_the_file() -> None:
    text = "!!! Couldn't download '.layout.conf.mirror'. Aborting.\n" + (
        "!!! Couldn't download 'src-2.0.tar.xz'. Aborting.\n"
    )
    assert fetch_problem(text) == (
        "src-2.0.tar.xz could not be downloaded (check the mirrors and the network)"
    )


def test_an_ebuild_digest_failure_names_the_file() -> None:
    text = (
        "!!! Digest verification failed:\n!!! /var/db/repos/x/app-misc/a/a-1.ebuild\n"
        "!!! Reason: Filesize does not match recorded size\n"
    )
    assert fetch_problem(text) == (
        "a-1.ebuild does not match the Manifest (Filesize does not match recorded size)"
    )


def test_a_mirror_without_layout_conf_or_a_compile_error_is_no_fetch_problem() -> None:
    assert fetch_problem("!!! Couldn't download '.layout.conf.m'. Aborting.\nerror: x\n") is None


def test_the_host_turns_a_fetch_failure_into_one_line() -> None:
    said = f"app-misc/fetched-1.0: {fetch_problem(VERIFY_FAILED_LOG)}"
    error = str(failure_from(RunResult(1, said)))
    assert error.startswith("app-misc/fetched-1.0: fetched-1.0.tar.gz does not match")
    assert "\n" not in error


# What Podman 4.3 answered, rootless, when slirp4netns could not open /dev/net/tun.
SLIRP_FAILURE = (
    '/usr/bin/slirp4netns failed: "open(\\"/dev/net/tun\\"): Permission denied\\n'
    "WARNING: Support for seccomp is experimental\\nWARNING: Support for IPv6 is experimental\\n"
    "child failed(1)\\nWARNING: Support for seccomp is experimental\\n"
    'WARNING: Support for IPv6 is experimental\\n"'
)


def test_a_network_setup_failure_is_one_line_with_what_to_do() -> None:
    with pytest.raises(StavesError) as caught, podman_step("running the builder"):
        raise APIError("500 Server Error", explanation=SLIRP_FAILURE)
    line = str(caught.value)
    assert "\n" not in line and "\\n" not in line and "WARNING" not in line
    start = 'running the builder: /usr/bin/slirp4netns failed: "open("/dev/net/tun")'
    assert line.startswith(start)
    assert "Permission denied; child failed(1)" in line
    assert line.endswith("--network none builds without one (from warm caches)")


def test_other_podman_failures_get_no_network_hint() -> None:
    with pytest.raises(StavesError) as caught, podman_step("preparing the builder"):
        raise APIError("404", explanation="no such image: localhost/x")
    assert str(caught.value) == "preparing the builder: no such image: localhost/x"
