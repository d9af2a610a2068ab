"""Podman run rootless, by the locked account ``scripts/setup-rootless-user`` creates: its own
API service on a socket in its runtime directory, with the test images in its own storage."""

import json
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import BUILDER, PORTAGE, podman
from tests.conftest import TESTS, require_tools

USER = "staves-rootless"


@dataclass(frozen=True)
class RootlessPodman:
    user: pwd.struct_passwd
    runtime_dir: Path
    conf: Path

    @property
    def url(self) -> str:
        return f"unix://{self.runtime_dir}/podman/podman.sock"

    def command(self, *args: str) -> list[str]:
        """``podman ARGS`` as the rootless user, with nothing of root's environment."""
        env = {
            "HOME": self.user.pw_dir,
            "USER": USER,
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "CONTAINERS_CONF": str(self.conf),
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        }
        settings = [f"{k}={v}" for k, v in env.items()]
        return ["runuser", "-u", USER, "--", "env", "-i", *settings, "podman", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), capture_output=True, text=True, check=False, cwd="/"
        )


def _copy_image(rootless: RootlessPodman, image: str, tmp: Path) -> None:
    """Root's test image into the user's storage, unless the same image is there already."""
    wanted = podman("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    have = rootless.run("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    if have == wanted:
        return
    # One image per archive: podman 4.3 loads a multi-image archive under one ID.
    archive = tmp / "image.tar"
    subprocess.run(["podman", "save", "-q", "-o", str(archive), image], check=True)
    archive.chmod(0o644)
    loaded = rootless.run("load", "-q", "-i", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    archive.unlink()


@pytest.fixture(scope="session")
def rootless_podman(test_images: None) -> Iterator[RootlessPodman]:
    require_tools("podman", "runuser")
    try:
        user = pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no user {USER}: scripts/setup-rootless-user creates it (scripts/test does)")
    tmp = Path(tempfile.mkdtemp(prefix="staves-rootless-"))
    tmp.chmod(0o711)
    runtime = tmp / "run"
    for directory in (runtime, runtime / "podman"):  # podman does not make the socket's
        directory.mkdir(mode=0o700)
        shutil.chown(directory, user.pw_uid, user.pw_gid)
    conf = tmp / "containers.conf"
    shutil.copy(TESTS / "podman" / "containers.conf", conf)
    conf.chmod(0o644)
    rootless = RootlessPodman(user, runtime, conf)
    for image in (BUILDER, PORTAGE):
        _copy_image(rootless, image, tmp)
    service = subprocess.Popen(
        rootless.command("system", "service", "--time=0", rootless.url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
    )
    try:
        socket = runtime / "podman" / "podman.sock"
        deadline = time.monotonic() + 30
        while not socket.exists():
            assert service.poll() is None, "the rootless Podman service exited"
            assert time.monotonic() < deadline, "the rootless Podman service did not start"
            time.sleep(0.1)
        info = json.loads(rootless.run("info", "--format", "json").stdout)
        assert info["host"]["security"]["rootless"], info["host"]["security"]
        yield rootless
    finally:
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
