"""The builder container against real Podman: an interrupt at any point leaves none behind."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import podman
import pytest

from staves.podman.builder_access import AGENT_SOCKET, shared_credentials
from staves.podman.builder_container import (
    BINPKG_PATH,
    DISTFILES_PATH,
    SNAPSHOT_MOUNT,
    BuilderSettings,
    builder_container,
)
from staves.podman.removals import wait_for_removals
from staves.podman.service import podman_client
from tests.builder_fixtures import BUILDER, PORTAGE, builder_containers, test_images
from tests.builder_fixtures import podman as podman_cli
from tests.podman.test_builder_access import agent

__all__ = ["agent", "test_images"]  # fixtures, imported for pytest

pytestmark = pytest.mark.podman


class _InterruptedAfterCreate:
    """The real containers manager, except that ``create`` is interrupted once Podman
    has made the container: a Ctrl-C landing while its answer is on the way."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def create(self, *args: Any, **kwargs: Any) -> Any:
        self._real.create(*args, **kwargs)
        raise KeyboardInterrupt

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _Client:
    def __init__(self, real: podman.PodmanClient) -> None:
        self._real = real
        self.containers = _InterruptedAfterCreate(real.containers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _remove_volume(client: podman.PodmanClient, name: str) -> None:
    # Not forced: forcing would also remove a leaked container that uses the volume.
    if client.volumes.exists(name):
        client.volumes.remove(name)


CACHE = "staves-test-interrupt"


@pytest.fixture
def client(test_images: None) -> Iterator[podman.PodmanClient]:
    with podman_client(None, os.environ) as real:
        yield real


def _interrupted(client: Any, body: Callable[[Any], None]) -> None:
    """Run ``body`` in a builder that ``client`` creates; no builder may outlast the
    KeyboardInterrupt that either raises."""
    settings = BuilderSettings(BUILDER, PORTAGE, cache_volume=CACHE, distfiles_volume=CACHE)
    try:
        with (
            pytest.raises(KeyboardInterrupt),
            builder_container(client, settings, {"packages": []}) as container,
        ):
            body(container)
        wait_for_removals()  # what the client's service waits for before it closes
        assert builder_containers(os.getpid()) == set()
    finally:
        _remove_volume(client, CACHE)


def test_interrupt_during_create_removes_the_container(client: podman.PodmanClient) -> None:
    _interrupted(_Client(client), lambda container: None)


def test_interrupt_while_running_removes_the_container(client: podman.PodmanClient) -> None:
    def started_then_interrupted(container: Any) -> None:
        container.start()
        assert builder_containers(os.getpid())
        raise KeyboardInterrupt

    _interrupted(client, started_then_interrupted)


def test_builder_gets_the_snapshot_caches_and_credentials(
    client: podman.PodmanClient, tmp_path: Path, agent: str
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text("127.0.0.1 ssh-ed25519 AAAA\n")
    environ = {"HOME": str(home), "SSH_AUTH_SOCK": agent}
    with shared_credentials(environ, "default", False) as creds:
        pass
    bins, dists = "staves-test-bins", "staves-test-dists"
    settings = BuilderSettings(
        BUILDER, PORTAGE, bins, network="none", distfiles_volume=dists, credentials=creds
    )
    try:
        with builder_container(client, settings, {"packages": []}) as container:
            container.reload()
            attrs = container.attrs
        wait_for_removals()
        assert not builder_containers(os.getpid()) & {attrs["Id"][:12]}
    finally:
        for volume in (bins, dists):
            _remove_volume(client, volume)
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts[BINPKG_PATH]["Name"] == bins and mounts[BINPKG_PATH]["RW"]
    assert mounts[DISTFILES_PATH]["Name"] == dists and mounts[DISTFILES_PATH]["RW"]
    assert mounts[SNAPSHOT_MOUNT]["Type"] == "image" and not mounts[SNAPSHOT_MOUNT]["RW"]
    assert mounts[AGENT_SOCKET]["Source"] == agent and not mounts[AGENT_SOCKET]["RW"]
    assert mounts["/root/.ssh/known_hosts"]["Source"] == str(home / ".ssh" / "known_hosts")
    assert f"SSH_AUTH_SOCK={AGENT_SOCKET}" in attrs["Config"]["Env"]
    assert attrs["HostConfig"]["NetworkMode"] == "none"


# What runc said when a finishing container took the snapshot image's overlay away from
# one starting beside it (seen under concurrent builds; Podman then removes the --rm builder).
LOST_MOUNT = (
    "runc: runc create failed: unable to start container process: error during container "
    'init: error mounting "/var/lib/containers/storage/overlay-containers/106a/userdata/'
    'overlay/2039799511/merge" to rootfs at "/staves/snapshot": mount ...: data: lowerdir='
    "/var/lib/containers/storage/overlay/0a6b/merged:/var/lib/containers/storage/"
    "overlay-containers/106a/userdata/overlay/2039799511/lower: no such file or directory"
)


class _LosesMountOnce:
    """The real containers manager; the first container it creates fails to start as above
    (and is removed, as Podman removes it), the next start as Podman would."""

    def __init__(self, real: Any, message: str) -> None:
        self._real, self._message = real, message
        self.created: list[str] = []

    def create(self, *args: Any, **kwargs: Any) -> Any:
        container = self._real.create(*args, **kwargs)
        self.created.append(container.id)
        if len(self.created) > 1:
            return container
        manager, message = self._real, self._message

        class _FailsToStart:
            def start(self) -> None:
                manager.get(container.id).remove(force=True)
                raise podman.errors.APIError(message)

            def __getattr__(self, name: str) -> Any:
                return getattr(container, name)

        return _FailsToStart()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _LosingClient:
    def __init__(self, real: podman.PodmanClient, message: str) -> None:
        self._real = real
        self.containers = _LosesMountOnce(real.containers, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def test_a_builder_that_lost_its_snapshot_mount_is_made_again_and_runs(
    client: podman.PodmanClient,
) -> None:
    losing = _LosingClient(client, LOST_MOUNT)
    settings = BuilderSettings(BUILDER, PORTAGE, cache_volume=CACHE, distfiles_volume=CACHE)
    try:
        with builder_container(losing, settings, {"packages": []}) as container:
            container.start()
            container.reload()
            assert container.status == "running"
            assert len(losing.containers.created) == 2
            assert builder_containers(os.getpid()) == {container.id[:12]}
        wait_for_removals()
        assert builder_containers(os.getpid()) == set()
    finally:
        _remove_volume(client, CACHE)


def test_any_other_failure_to_start_is_the_builds_error_at_once(
    client: podman.PodmanClient,
) -> None:
    missing = 'error mounting "/home/u/.netrc" to rootfs at "/root/.netrc": no such file'
    losing = _LosingClient(client, missing)
    settings = BuilderSettings(BUILDER, PORTAGE, cache_volume=CACHE, distfiles_volume=CACHE)
    try:
        with (
            pytest.raises(podman.errors.APIError, match="netrc"),
            builder_container(losing, settings, {"packages": []}) as container,
        ):
            container.start()
        assert len(losing.containers.created) == 1
        wait_for_removals()
        assert builder_containers(os.getpid()) == set()
    finally:
        _remove_volume(client, CACHE)


def test_a_finished_builder_is_gone_when_its_services_client_closes(test_images: None) -> None:
    """Its removal runs beside the rest of the build; the client waits for it before its
    service (here staves' own) stops."""
    settings = BuilderSettings(BUILDER, PORTAGE, cache_volume=CACHE, distfiles_volume=CACHE)
    try:
        with (
            podman_client(None, os.environ) as own,
            builder_container(own, settings, {"packages": []}) as container,
        ):
            container.start()
            name = container.name
        assert builder_containers(os.getpid()) == set()
        assert podman_cli("container", "exists", name).returncode == 1
    finally:
        with podman_client(None, os.environ) as client:
            _remove_volume(client, CACHE)
