"""The builder container, through the Podman API: the only module that creates containers.

It is created with the Portage snapshot mounted, the binary-package and distfiles cache
volumes, and the credentials ``staves.podman.builder_access`` chose (read-only bind mounts),
given the in-builder program and its plan as files (``builder_program``), run with its
output followed live (``builder_output``), and its
``/tmp/rootfs`` streamed back out. It is removed on success, failure and interruption.

A builder never outlives its staves for long, however staves ends (SIGKILL included): it is
created with ``--rm``, staves renews a lease file in it every few seconds, and the
in-builder script ends the container when the lease runs out. Builders whose owner died
anyway (say, before the builder started) are removed by the next build.
"""

import json
import logging
import tarfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal, TextIO

import podman
import requests
from podman.errors import APIError, NotFound, PodmanError

from oci.descriptor import Platform
from staves.builder.protocol import LEASE_SIGNAL, ROOT_ARCHIVE_SUFFIX
from staves.errors import StavesError
from staves.podman.builder_access import Credentials
from staves.podman.builder_program import PLAN_PATH, builder_command, program_files
from staves.podman.builder_start import StartingBuilder
from staves.podman.owners import OWNER_LABEL, Owner, is_dead, this_process
from staves.podman.removals import remove_meanwhile

log = logging.getLogger(__name__)

ROOTFS = "/tmp/rootfs"
ROOTFS_ARCHIVE = ROOTFS + ROOT_ARCHIVE_SUFFIX  # the root with its owners (staves.builder)
# The snapshot image is mounted whole here; the in-builder script links its
# /var/db/repos/gentoo into place (an image mount cannot pick a subdirectory).
SNAPSHOT_MOUNT = "/staves/snapshot"
BINPKG_PATH = "/var/cache/binpkgs"
DISTFILES_PATH = "/var/cache/distfiles"
ROLE_LABEL = "io.staves.role"
# Seconds between heartbeats (each a signal, LEASE_SIGNAL); the builder gives up after 30
# without one, seven beats later.
LEASE_INTERVAL = 4.0
PullPolicy = Literal["always", "missing", "never"]
PullProgress = Callable[[str], None]  # what a pull is doing, in Podman's words
# What Podman sets networks up with; their failures get the hint below.
_NETWORK_TOOLS = ("slirp4netns", "pasta", "netavark", "CNI network", "/dev/net/tun")
_NETWORK_HINT = (
    "the builder's network could not be set up; --network host shares the host's, "
    "--network none builds without one (from warm caches)"
)


@dataclass(frozen=True)
class BuilderSettings:
    builder_image: str
    portage_image: str
    cache_volume: str
    network: str | None = None  # podman's network mode; None keeps its default
    distfiles_volume: str = "staves-distfiles"
    credentials: Credentials = field(default_factory=Credentials)
    pull: PullPolicy = "missing"
    # The local image to create the builder from (the builder image's one for the
    # platform being built); None: builder_image as it is.
    image_id: str | None = None


@contextmanager
def podman_step(step: str) -> Iterator[None]:
    """Turn a Podman API failure into one line saying which step failed."""
    try:
        yield
    except (APIError, PodmanError) as exc:
        problem = _explain(exc)
        hint = _NETWORK_HINT if any(word in problem for word in _NETWORK_TOOLS) else None
        raise StavesError(f"{step}: {problem}", hint=hint) from exc
    except requests.RequestException as exc:  # the service went away or stopped answering
        raise StavesError(
            f"{step}: the Podman service stopped answering: {_explain(exc)}",
            hint="check that the Podman service is running (podman system service)",
        ) from exc


def ensure_image(
    client: podman.PodmanClient,
    reference: str,
    policy: PullPolicy,
    output: TextIO,
    on_progress: PullProgress | None = None,
) -> None:
    """Have ``reference`` in local storage as ``policy`` says, as ``podman run --pull`` does:
    ``missing`` pulls when absent, ``always`` pulls every time, ``never`` only looks.
    ``on_progress`` hears what the pull is doing (Podman's words: copying a blob…)."""
    if policy != "always" and client.images.exists(reference):
        return
    if policy == "never":
        raise StavesError(
            f"image {reference} is not in local storage and --pull is never",
            key="--builder/--portage",
            hint="pull it with podman, or use --pull missing",
        )
    print(f"staves: pulling {reference}", file=output, flush=True)
    problem = _pull(client, reference, on_progress=on_progress)
    if problem is not None:
        raise StavesError(
            f"image {reference} could not be pulled: {problem}",
            key="--builder/--portage",
            hint="check the name, the registry and Podman's registries.conf",
        )
    print(f"staves: pulled {reference}", file=output, flush=True)


def _pull(
    client: podman.PodmanClient,
    reference: str,
    platform: Platform | None = None,
    on_progress: PullProgress | None = None,
) -> str | None:
    """Pull through the libpod endpoint, which reports failure in its stream; None if done.
    With ``platform``, the image for it out of the reference's index (podman --platform);
    ``on_progress`` hears each step of the pull as Podman words it."""
    quiet = on_progress is None
    params: dict[str, Any] = {"reference": reference, "policy": "always", "quiet": quiet}
    if platform is not None:
        params |= {"OS": platform.os, "Arch": platform.architecture}
        params |= {"Variant": platform.variant} if platform.variant else {}
    try:
        response = client.api.post("/images/pull", params=params, stream=True)
        response.raise_for_status()
    except (APIError, PodmanError) as exc:
        return _explain(exc)
    pulled = False
    errors: list[str] = []
    try:
        for line in response.iter_lines():
            if not line.strip():
                continue
            report = json.loads(line)
            if on_progress is not None and (said := str(report.get("stream") or "").strip()):
                on_progress(said)
            if report.get("error"):
                errors.append(" ".join(str(report["error"]).split()))
            pulled = pulled or bool(report.get("id") or report.get("images"))
    finally:
        response.close()
    if errors or not pulled:
        return "; ".join(errors) or "the pull reported no image"
    return None


def ensure_volume(client: podman.PodmanClient, name: str, purpose: str = "binpkg-cache") -> None:
    """Create the volume or use it as it is: builds started together race to create it,
    and the one that loses finds it made."""
    if client.volumes.exists(name):
        return
    try:
        client.volumes.create(name, labels={"io.staves.purpose": purpose})
    except APIError as exc:
        if not (exc.status_code == 409 or "already exists" in _explain(exc)):
            raise


def _explain(exc: Exception) -> str:
    """Podman's message on one line: its tools' output arrives with escaped newlines and
    WARNING lines that say nothing about the failure."""
    text = str(getattr(exc, "explanation", None) or exc)
    text = text.replace("\\n", "\n").replace('\\"', '"')
    lines = [" ".join(line.split()) for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith("WARNING:")]
    return "; ".join(dict.fromkeys(kept))  # tools repeat themselves; keep the first of each


def credential_mounts(credentials: Credentials) -> list[dict[str, Any]]:
    """Read-only bind mounts, as podman-py's ``mounts`` takes them."""
    return [
        {"type": "bind", "source": m.source, "target": m.target, "read_only": True}
        for m in credentials.mounts
    ]


@contextmanager
def builder_container(
    client: podman.PodmanClient, settings: BuilderSettings, plan: dict[str, Any]
) -> Iterator[Any]:
    """A created (not started) builder that will run the plan; removed afterwards."""
    name = f"staves-build-{uuid.uuid4().hex[:12]}"
    shared = bool(settings.credentials)

    def make(again: bool = False) -> Any:
        if again:  # after a failed start: gone, unless Podman kept it
            _remove(client, name)
        container = _create(client, settings, name)
        _put_program(client, name, {**plan, "lease": LEASE_SIGNAL, "credentials": shared})
        return container

    try:
        container = StartingBuilder(make(), lambda: make(again=True))
        with _heartbeat(client, name):
            yield container
    finally:
        # By name: an interrupt can land after Podman made the container but before its
        # answer reached us, and the name staves chose is the only handle on it then.
        # Beside the rest of the build; its service's client waits for it (removals).
        remove_meanwhile(lambda: _remove(client, name), name)


def _put_program(client: podman.PodmanClient, name: str, plan: dict[str, Any]) -> None:
    """The program and its plan into the created builder, where its command finds them."""
    response = client.api.put(
        f"/containers/{name}/archive",
        params={"path": PLAN_PATH.rsplit("/", 1)[0]},
        data=program_files(plan),
    )
    response.raise_for_status()


@contextmanager
def _heartbeat(client: podman.PodmanClient, name: str) -> Iterator[None]:
    """Renew the builder's lease while the context lasts: a signal every few seconds."""
    stop = threading.Event()

    def beat() -> None:
        # The first after one interval: the lease runs from the program's start.
        while not stop.wait(LEASE_INTERVAL):
            try:
                client.api.post(f"/containers/{name}/kill", params={"signal": LEASE_SIGNAL})
            except (APIError, PodmanError, OSError) as exc:  # not running (yet, or any more)
                log.debug("renewing the builder's lease: %s", exc)

    thread = threading.Thread(target=beat, name="builder-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=LEASE_INTERVAL * 2)


def remove_dead_builders(client: podman.PodmanClient, output: TextIO) -> None:
    """Remove builders (and snapshot readers, ``staves.podman.snapshot``) left by builds
    that died on this machine; never a live build's."""
    left = [
        container
        for role in ("builder", "snapshot-reader")
        for container in client.containers.list(all=True, filters={"label": f"{ROLE_LABEL}={role}"})
    ]
    for container in left:
        # Builders without an owner label come from older versions: left alone, since one
        # may be a live build's, between its end and its export.
        owner = Owner.parse((container.labels or {}).get(OWNER_LABEL, ""))
        if owner is not None and is_dead(owner):
            print(f"staves: removing {container.name}, left by a build that died", file=output)
            _remove(client, container.name)


def remove_own_builders(client: podman.PodmanClient) -> None:
    """Remove this process's builders: when a build on another service failed or was
    interrupted, the builders still running elsewhere in this build go at once."""
    owner = f"{OWNER_LABEL}={this_process().label()}"
    for container in client.containers.list(all=True, filters={"label": owner}):
        _remove(client, container.name)


def _create(client: podman.PodmanClient, settings: BuilderSettings, name: str) -> Any:
    return client.containers.create(
        settings.image_id or settings.builder_image,
        command=builder_command(),
        name=name,
        image_volumes=[
            {"source": settings.portage_image, "destination": SNAPSHOT_MOUNT, "rw": False}
        ],
        volumes={
            settings.cache_volume: {"bind": BINPKG_PATH, "mode": "rw"},
            settings.distfiles_volume: {"bind": DISTFILES_PATH, "mode": "rw"},
        },
        mounts=credential_mounts(settings.credentials),
        environment=dict(settings.credentials.environment),
        labels={ROLE_LABEL: "builder", OWNER_LABEL: this_process().label()},
        auto_remove=True,  # gone when the script ends, even with staves gone before it
        **({"network_mode": settings.network} if settings.network else {}),
    )


def _remove(client: podman.PodmanClient, name: str) -> None:
    """Remove the builder by name, whether or not it was ever created or started."""
    try:
        client.containers.remove(name, force=True, v=False)
    except NotFound:
        pass
    except (APIError, PodmanError) as exc:
        log.warning("could not remove builder container %s: %s", name, exc)


def image_digest(client: podman.PodmanClient, reference: str) -> str | None:
    """The repository digest of a local image, for the SBOM's build inputs."""
    attrs = client.images.get(reference).attrs
    digest = attrs.get("Digest")
    return str(digest) if digest else None


@contextmanager
def archived_file_stream(
    client: podman.PodmanClient, container: Any, path: str
) -> Iterator[BinaryIO]:
    """The content of the file ``path`` in the builder, streamed (never read whole)."""
    with (
        archive_stream(client, container, path) as stream,
        tarfile.open(fileobj=stream, mode="r|") as outer,
    ):
        member = outer.next()
        content = outer.extractfile(member) if member is not None else None
        if content is None:
            raise StavesError(f"reading {path} out of the builder failed: it is not a file")
        yield content  # type: ignore[misc]


@contextmanager
def archive_stream(
    client: podman.PodmanClient, container: Any, path: str = ROOTFS
) -> Iterator[BinaryIO]:
    """``path`` in the builder as a tar stream (its own name as the top directory)."""
    response = client.api.get(
        f"/containers/{container.id}/archive", params={"path": path}, stream=True
    )
    try:
        response.raise_for_status()
    except APIError as exc:
        raise StavesError(f"reading {path} out of the builder failed: {_explain(exc)}") from exc
    response.raw.decode_content = True
    try:
        yield response.raw
    finally:
        response.close()
