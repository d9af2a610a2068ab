"""``staves build --url ssh://USER@HOST:PORT/PATH --identity KEY``: Podman on another machine,
reached over SSH. The other machine is this one: a private sshd on 127.0.0.1 with its own
host key and authorized_keys, and a Podman API service on a socket of the test's own."""

import getpass
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import Builder, podman, test_images
from tests.conftest import require_tools
from tests.loopback import free_port, wait_for_port
from tests.test_build_e2e import HELLO

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["test_images"]


@dataclass
class Remote:
    url: str  # ssh://USER@127.0.0.1:PORT/…/podman.sock
    key: Path  # a key the remote's sshd accepts
    env: dict[str, str]  # with STAVES_SSH_COMMAND naming the test's known_hosts
    root: Path


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def sshd_config(root: Path, port: int) -> Path:
    config = root / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {root}/host_key\n"
        f"AuthorizedKeysFile {root}/authorized_keys\nPidFile {root}/sshd.pid\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\n"
        # What podman --remote needs: a socket forwarded to it (AllowTcpForwarding no or
        # PermitOpen none would refuse that too); no X11, no terminal.
        "AllowStreamLocalForwarding local\nX11Forwarding no\nPermitTTY no\n"
    )
    return config


@pytest.fixture(scope="module")
def remote(test_images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    require_tools("ssh", "ssh-keygen")
    root = tmp_path_factory.mktemp("remote")
    keygen(root / "host_key")
    keygen(root / "client_key")
    shutil.copy(root / "client_key.pub", root / "authorized_keys")
    port = free_port()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    sshd = subprocess.Popen(
        [shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", str(sshd_config(root, port))],
        stderr=subprocess.DEVNULL,
    )
    socket = root / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    host_key = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    env = {
        **os.environ,
        "STAVES_SSH_COMMAND": f"ssh -o UserKnownHostsFile={root}/known_hosts",
        # Nothing local may be found instead: the build must go through --url.
        "CONTAINER_HOST": "unix:///nonexistent/podman.sock",
    }
    try:
        wait_for_port(port, sshd)
        deadline = time.monotonic() + 20
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Remote(
            f"ssh://{getpass.getuser()}@127.0.0.1:{port}{socket}", root / "client_key", env, root
        )
    finally:
        for proc in (service, sshd):
            proc.terminate()
            proc.wait()


@pytest.fixture(scope="module")
def remote_builder(remote: Remote, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builder]:
    cache = f"staves-test-remote-{uuid.uuid4().hex[:8]}"
    try:
        yield Builder(cache, tmp_path_factory.mktemp("remote-builds"))
    finally:
        podman("volume", "rm", "-f", cache)


def test_a_build_through_ssh_uses_the_remote_podman(
    remote: Remote, remote_builder: Builder
) -> None:
    name = f"localhost/staves-test/remote-hello:{uuid.uuid4().hex[:8]}"
    build = remote_builder.build(
        HELLO,
        "--url",
        remote.url,
        "--identity",
        str(remote.key),
        "-o",
        f"containers-storage:{name}",
        env=remote.env,
    )
    try:
        # The builder's output came back through the tunnel, live, and the image landed
        # in the remote machine's storage, as did the cache volume.
        assert ">>> Emerging (" in build.log and "app-misc/hello-1.0" in build.log
        run = podman("run", "--rm", name)
        assert run.stdout == "Hello World!\n", run.stderr
        assert podman("volume", "exists", remote_builder.cache).returncode == 0
        # Credentials of this machine are never offered to a remote builder unasked.
        assert "staves: shared with the builder: no credentials" in build.log
    finally:
        podman("rmi", "-f", name)


def test_a_key_the_remote_refuses_is_one_line(remote: Remote, remote_builder: Builder) -> None:
    keygen(remote.root / "stranger")
    build = remote_builder.build(
        HELLO,
        "--url",
        remote.url,
        "--identity",
        str(remote.root / "stranger"),
        expect_ok=False,
        env=remote.env,
    )
    assert build.proc.returncode != 0
    (line,) = [line for line in build.log.splitlines() if line.startswith("staves: error:")]
    assert f"ssh to {remote.url} failed" in line and "Permission denied" in line


def test_an_unknown_host_key_is_refused_without_asking(
    remote: Remote, remote_builder: Builder
) -> None:
    env = {**remote.env, "STAVES_SSH_COMMAND": f"ssh -o UserKnownHostsFile={remote.root}/none"}
    build = remote_builder.build(
        HELLO, "--url", remote.url, "--identity", str(remote.key), expect_ok=False, env=env
    )
    assert build.proc.returncode != 0
    (line,) = [line for line in build.log.splitlines() if line.startswith("staves: error:")]
    assert "Host key verification failed" in line


def test_a_malformed_ssh_url_is_one_line(remote_builder: Builder) -> None:
    build = remote_builder.build(HELLO, "--url", "ssh://127.0.0.1:notaport/x", expect_ok=False)
    assert build.proc.returncode == 2
    (line,) = [line for line in build.log.splitlines() if line.startswith("staves: error:")]
    assert "ssh://USER@HOST[:PORT]/PATH/podman.sock" in line
