"""``staves build --pull``: the builder and snapshot images from a real registry on 127.0.0.1,
pulled as ``podman run --pull`` would (missing, always, never)."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from oci.descriptor import Platform
from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    TEST_IMAGES,
    Builder,
    builder,
    podman,
    test_images,
)
from tests.conftest import require_tools
from tests.registry_fixtures import Registry, registry_factory
from tests.test_build_e2e import HELLO

pytestmark = [pytest.mark.builder, pytest.mark.podman, pytest.mark.registry]
__all__ = ["builder", "registry_factory", "test_images"]  # fixtures used by name


def _image_id(reference: str) -> str:
    return podman("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


HOST_ARCH = Platform.host().architecture


def _push(local: str, remote: str) -> None:
    subprocess.run(
        ["skopeo", "copy", "-q", "--dest-tls-verify=false",
         f"containers-storage:{local}", f"docker://{remote}"],
        check=True, capture_output=True,
    )  # fmt: skip


def test_pull_policies_for_the_portage_snapshot(
    builder: Builder, registry_factory: Callable[..., Registry], tmp_path: Path
) -> None:
    require_tools("skopeo")
    registry = registry_factory()  # plain HTTP: Podman is told so in a registries.conf
    snapshot = f"{registry.host}/gentoo/portage:latest"
    stage3 = f"{registry.host}/gentoo/stage3:latest"
    newer = f"localhost/staves-test/portage-newer-{registry.host.rsplit(':', 1)[1]}:latest"
    conf = tmp_path / "registries.conf"
    conf.write_text(f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(conf)}
    _push(PORTAGE, snapshot)
    # --pull applies to both images, as podman's does. The builder goes as the host's image:
    # Podman 4.3 (skopeo, manifest push) cannot copy a list made of locally built images.
    _push(f"{TEST_IMAGES}/builder:{HOST_ARCH}", stage3)
    images = ("--builder", stage3, "--portage", snapshot)
    try:
        never = builder.build(HELLO, *images, "--pull", "never",
                              expect_ok=False, env=env)  # fmt: skip
        assert never.proc.returncode == 1
        assert never.log.splitlines()[-1] == (
            f"staves: error: --builder/--portage: image {stage3} is not in local storage "
            "and --pull is never; pull it with podman, or use --pull missing"
        )

        first = builder.build(HELLO, *images, env=env)  # --pull missing
        assert f"staves: pulling {stage3}" in first.log
        assert f"staves: pulling {snapshot}" in first.log
        assert _image_id(snapshot) == _image_id(PORTAGE)

        # Tomorrow's snapshot: another image under the same tag.
        built = subprocess.run(
            ["podman", "build", "--pull=never", "-q", "-t", newer, "-f", "-"],
            input=f"FROM {PORTAGE}\nLABEL io.staves.test.snapshot=newer\n",
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        _push(newer, snapshot)

        kept = builder.build(HELLO, *images, env=env)
        assert "staves: pulling" not in kept.log
        assert _image_id(snapshot) == _image_id(PORTAGE)

        fresh = builder.build(HELLO, *images, "--pull", "always", env=env)
        assert f"staves: pulling {snapshot}" in fresh.log
        assert _image_id(snapshot) == _image_id(newer)
        assert fresh.run() == "Hello World!\n"
    finally:
        podman("rmi", "-f", snapshot, stage3, newer)


def test_a_failed_pull_with_always_stops_the_build(builder: Builder) -> None:
    # The test builder is in local storage, but "always" must pull it, from a registry at
    # localhost:443 where nothing listens.
    failed = builder.build(HELLO, "--pull", "always", expect_ok=False)
    assert failed.proc.returncode == 1
    last = failed.log.splitlines()[-1]
    assert last.startswith(f"staves: error: --builder/--portage: image {BUILDER} could not be")
    assert "connection refused" in last
