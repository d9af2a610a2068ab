"""Starting a created builder, made anew when Podman loses an image mount on the way.

Podman mounts the snapshot image for each builder through the image's own overlay mount,
shared by every container using that image. Under concurrent builds, a container that ends
can take that mount away while another starts: runc then fails to mount
``…/overlay/<layer>/merged`` with "no such file or directory", and Podman removes the
never-started ``--rm`` builder. The build has not begun: the builder is made again and
started again, which mounts the image afresh.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from podman.errors import APIError

log = logging.getLogger(__name__)

START_ATTEMPTS = 3


def lost_image_mount(exc: APIError) -> bool:
    """Whether a failed start is the vanished image overlay, not a mistake of the build's
    (a missing credential file fails the same way, but outside Podman's storage)."""
    text = str(exc)
    return "error mounting" in text and "/overlay" in text and "no such file or directory" in text


class StartingBuilder:
    """A created builder (everything but ``start`` is the container's own); ``remake``
    removes it and creates it again, program and plan included."""

    def __init__(self, container: Any, remake: Callable[[], Any]) -> None:
        self._container = container
        self._remake = remake

    def start(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._container.start()
                return
            except APIError as exc:
                if attempt == START_ATTEMPTS or not lost_image_mount(exc):
                    raise
                log.info("the builder lost its snapshot mount as it started; again: %s", exc)
                time.sleep(0.5 * attempt)
                self._container = self._remake()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)
