"""The Podman services a build talks to: one client each for the length of the build, and
the work done on each of them side by side."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from oci.descriptor import Platform
from oci.transport import StorageDestination
from staves.build.request import BuildRequest
from staves.podman.builder_container import remove_own_builders
from staves.podman.service import podman_client

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """A client for each service the build uses, and the platforms each builds, in the
    order ``PlatformServices.build_order`` gives."""

    clients: Mapping[str | None, Any]
    order: tuple[tuple[str | None, tuple[Platform, ...]], ...]
    default: str | None  # the service of platforms no --url names, and of local storage

    def client_for(self, platform: Platform) -> Any:
        """The client of the service that builds ``platform``."""
        return next(self.clients[url] for url, platforms in self.order if platform in platforms)

    @property
    def storage(self) -> Any | None:
        """The client whose storage gets ``containers-storage:`` images, if it is open."""
        return self.clients.get(self.default)


@contextmanager
def connect(request: BuildRequest, environ: Mapping[str, str]) -> Iterator[Services]:
    """The services of the request's platforms (and the default one when local storage is
    a destination), connected while the context lasts."""
    order = request.services.build_order(request.platforms)
    urls = {url for url, _ in order}
    if any(isinstance(dest, StorageDestination) for dest in request.destinations):
        urls.add(request.services.default)
    with ExitStack() as stack:
        clients = {
            url: stack.enter_context(podman_client(url, environ, request.identity)) for url in urls
        }
        yield Services(
            clients, tuple((url, tuple(ps)) for url, ps in order), request.services.default
        )


# Work on one service: its client, its platforms, and whether it is the first service.
ServiceWork = Callable[[Any, Sequence[Platform], bool], dict[Platform, T]]


def on_each_service(services: Services, work: ServiceWork[T]) -> dict[Platform, T]:
    """``work`` for each service's platforms, the services side by side (one thread each).
    When one fails or the build is interrupted, the builders still running on the others
    are removed, which ends their threads at once."""
    jobs = [(services.clients[url], platforms) for url, platforms in services.order]
    if len(jobs) == 1:
        return work(jobs[0][0], jobs[0][1], True)
    pool = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="platform")
    runs = [
        pool.submit(work, client, platforms, number == 0)
        for number, (client, platforms) in enumerate(jobs)
    ]
    try:
        done, _ = wait(runs, return_when=FIRST_EXCEPTION)
        for run in done:
            run.result()  # the first failure, without waiting for the others to end
        return {platform: out for run in runs for platform, out in run.result().items()}
    except BaseException:
        for client, _ in jobs:
            remove_own_builders(client)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
