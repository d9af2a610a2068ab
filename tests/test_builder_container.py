"""The builder container against real Podman: an interrupt at any point leaves none behind."""

import os
from typing import Any

import podman
import pytest

from staves.builder_container import BuilderSettings, builder_container
from staves.podman_service import podman_client
from tests.builder_fixtures import BUILDER, PORTAGE, builder_containers, test_images

__all__ = ["test_images"]  # the fixture, imported for pytest

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


def _settings(cache: str) -> BuilderSettings:
    return BuilderSettings(BUILDER, PORTAGE, cache_volume=cache, distfiles_volume=cache)


def test_interrupt_during_create_removes_the_container(test_images: None) -> None:
    before = builder_containers()
    cache = "staves-test-interrupt"
    with podman_client(None, os.environ) as client:
        try:
            with (
                pytest.raises(KeyboardInterrupt),
                builder_container(_Client(client), _settings(cache), {"packages": []}),  # type: ignore[arg-type]
            ):
                pass
            assert builder_containers() == before
        finally:
            _remove_volume(client, cache)


def test_interrupt_while_running_removes_the_container(test_images: None) -> None:
    before = builder_containers()
    cache = "staves-test-interrupt"
    with podman_client(None, os.environ) as client:
        try:
            with (
                pytest.raises(KeyboardInterrupt),
                builder_container(client, _settings(cache), {"packages": []}) as container,
            ):
                container.start()
                assert builder_containers() - before
                raise KeyboardInterrupt
            assert builder_containers() == before
        finally:
            _remove_volume(client, cache)
