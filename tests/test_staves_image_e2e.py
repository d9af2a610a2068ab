"""The Staves container image (scripts/staves-image), as CI executors run it: the host's
Podman socket mounted at /run/podman/podman.sock, the project checked out into /src.

It builds the bundled example into the host's storage, where the host's Podman runs it,
and pushes it to the loopback registry, where skopeo finds the same digest; its
podman-remote talks to the same service.
"""

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import BUILDER, PORTAGE, Builder, builder, podman, test_images
from tests.conftest import PROJECT, require_tools, run
from tests.loopback import wait_for_socket
from tests.registry_fixtures import Registry, start_registry

pytestmark = [pytest.mark.podman, pytest.mark.builder, pytest.mark.registry]
__all__ = ["builder", "test_images"]  # fixtures used by name

SOCKET_IN_IMAGE = "/run/podman/podman.sock"


@dataclass
class Host:
    image: str  # the Staves image, in the host's storage
    socket: Path  # the host's Podman service
    registry: Registry


@pytest.fixture(scope="module")
def host(test_images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """The Staves image of this checkout, a Podman service of the host's storage on a
    socket of its own, and the loopback registry."""
    require_tools("debootstrap", "skopeo")
    if os.geteuid() != 0:
        pytest.skip("scripts/staves-image runs debootstrap, which needs root")
    image = f"localhost/staves-test-image-{uuid.uuid4().hex[:8]}:test"
    made = subprocess.run(
        [str(PROJECT / "scripts" / "staves-image"), "-o", f"containers-storage:{image}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    # A short path: a unix socket's path has a length limit.
    directory = Path(tempfile.mkdtemp(prefix="stv-sock-"))
    socket = directory / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    try:
        wait_for_socket(socket, service)
        yield Host(image, socket, registry)
    finally:
        registry.stop()
        service.terminate()
        service.wait()
        shutil.rmtree(directory, ignore_errors=True)
        podman("rmi", "-f", image)


def in_image(
    host: Host, *command: str, src: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``command`` in the Staves image with the host's socket mounted (and ``src`` as /src);
    the host's network, to reach the loopback registry."""
    mounts = ["-v", f"{host.socket}:{SOCKET_IN_IMAGE}"]
    if src is not None:
        mounts += ["-v", f"{src}:/src:ro"]
    return podman("run", "--rm", "--network", "host", *mounts, host.image, *command)


def test_the_image_builds_the_example_into_the_hosts_storage_and_the_registry(
    host: Host, builder: Builder
) -> None:
    name = f"localhost/staves-test/from-image-{uuid.uuid4().hex[:8]}:1.0"
    pushed = f"{host.registry.host}/staves-test/hello:from-image"
    cache = builder.cache  # the host's volume the run's other builds fill, by its name
    try:
        built = in_image(
            host, "staves", "build", "--builder", BUILDER, "--portage", PORTAGE,
            "--build-cache", cache, "-o", f"containers-storage:{name}",
            "-o", f"docker://{pushed}", "--tls-verify=false",
            src=PROJECT / "examples" / "hello",
        )  # fmt: skip
        assert built.returncode == 0, built.stderr[-3000:]
        digest = built.stdout.strip()
        ran = podman("run", "--rm", name)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == "HELLO WORLD!\n"
        seen = run("skopeo", "inspect", "--tls-verify=false", f"docker://{pushed}")
        assert json.loads(seen.stdout)["Digest"] == digest
    finally:
        podman("rmi", "-f", name)


def test_podman_remote_in_the_image_drives_the_mounted_service(host: Host) -> None:
    listed = in_image(host, "podman-remote", "images", "--format", "{{.Repository}}:{{.Tag}}")
    assert listed.returncode == 0, listed.stderr
    assert host.image in listed.stdout.split()
    version = in_image(host, "podman-remote", "version", "--format", "{{.Server.Version}}")
    assert version.returncode == 0, version.stderr
    mine = podman("version", "--format", "{{.Client.Version}}").stdout.strip()
    assert version.stdout.strip() == mine
    # The image's default command shows Staves' help, as a CI step's first try would.
    helped = podman("run", "--rm", host.image)
    assert helped.returncode == 0 and "index" in helped.stdout, helped.stderr
