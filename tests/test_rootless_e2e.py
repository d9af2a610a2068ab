"""``staves build`` against rootless Podman: the API of a user's own service, a user
namespace, the user's storage and volumes. Staves finds nothing different to do."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builder_fixtures import Builder, test_images
from tests.rootless_fixtures import RootlessPodman, rootless_podman
from tests.test_build_e2e import HELLO

__all__ = ["rootless_podman", "test_images"]  # fixtures, imported for pytest

pytestmark = [pytest.mark.podman, pytest.mark.builder]


@pytest.fixture
def rootless_builder(
    rootless_podman: RootlessPodman, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Builder]:
    suffix = uuid.uuid4().hex[:8]
    cache, distfiles = f"staves-test-cache-{suffix}", f"staves-test-distfiles-{suffix}"
    try:
        yield Builder(cache, tmp_path_factory.mktemp("rootless"), distfiles)
    finally:
        rootless_podman.run("volume", "rm", "-f", cache, distfiles)


def _builder_containers(rootless: RootlessPodman) -> str:
    listed = rootless.run("ps", "-a", "--filter", "label=io.staves.role=builder", "-q")
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.strip()


def test_build_through_a_rootless_service(
    rootless_podman: RootlessPodman, rootless_builder: Builder
) -> None:
    # The user's network needs /dev/net/tun for slirp4netns, which this machine denies.
    # Root's ~/.ssh is not the rootless user's to mount: share no credentials.
    extra = ("--url", rootless_podman.url, "--network", "none", "--no-ssh", "--no-netrc")
    first = rootless_builder.build(HELLO, *extra)
    assert "app-misc/hello-1.0" in first.compiled()
    assert first.run() == "Hello World!\n"
    # Owners as the image sees them: root inside the user namespace is uid 0 in the layer,
    # not the user's uid or a subordinate id.
    owners = _layer_owners(first.layout)
    assert owners == {"0/0"}, owners

    # Found without --url, as a rootless user's staves finds it: $XDG_RUNTIME_DIR's socket.
    # Only that service's volume holds the binpkgs, so nothing compiles if it was used.
    environ = {k: v for k, v in os.environ.items() if k != "CONTAINER_HOST"}
    environ["XDG_RUNTIME_DIR"] = str(rootless_podman.runtime_dir)
    # Also into that user's own image store, where their podman runs it.
    name = f"localhost/staves-test/rootless-{uuid.uuid4().hex[:8]}:1"
    stored = ("-o", f"containers-storage:{name}")
    try:
        again = rootless_builder.build(
            HELLO, "--network", "none", "--no-ssh", "--no-netrc", *stored, env=environ
        )
        assert again.compiled() == []
        ran = rootless_podman.run("run", "--rm", "--network", "none", name)
        assert ran.stdout == "Hello World!\n", ran.stderr
    finally:
        rootless_podman.run("rmi", "-f", name)
    assert _builder_containers(rootless_podman) == ""


def _layer_owners(layout: Path) -> set[str]:
    blobs = layout / "blobs" / "sha256"
    owners: set[str] = set()
    for blob in blobs.iterdir():
        listing = subprocess.run(
            ["tar", "--numeric-owner", "-tvzf", str(blob)], capture_output=True, text=True
        )
        if listing.returncode == 0:
            owners.update(line.split()[1] for line in listing.stdout.splitlines())
    return owners
