"""``staves build`` as a flat list of steps: plan → builder → rootfs layer → image → outputs."""

import hashlib
import json
import logging
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from oci.artifact import Artifact, build_artifact
from oci.compare import compare_entries, layer_entries
from oci.compress import Compression
from oci.descriptor import Platform
from oci.files import atomic_write
from oci.image import ANNOTATION_CREATED, Image, ImageConfig, build_image, created_time
from oci.index import Publishable, build_index
from oci.layer_cache import LayerCache
from oci.registry import RegistryOptions
from oci.transport import Destination, StorageDestination
from staves import __version__
from staves.builder.protocol import (
    EPOCH_FILE,
    FAILURE_MARK,
    ROOT_LINKS_FILE,
    SOURCES_FILE,
    TIMESTAMP_FILE,
)
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.cpu_levels import builder_platform
from staves.gentoo.layering import VDB_DIR
from staves.gentoo.provenance import ProvenanceSubject, build_provenance
from staves.gentoo.reproducible import by_package, describe
from staves.gentoo.rootfs_layers import PackedRootfs, pack_rootfs
from staves.gentoo.sbom import SPDX_MEDIA_TYPE, ImageInput, SbomSubject, build_sbom, sbom_blob
from staves.gentoo.vdb import InstalledPackage, read_vdb_tar
from staves.images.accounts import read_accounts, user_problem
from staves.images.audit import finding_line, refuse_affected
from staves.images.binpkg_cache import CacheSource, fetch_cache, fill_cache, push_cache
from staves.images.build_key import BUILD_KEY, with_build_key
from staves.images.noop import (
    KeyRequest,
    SbomWanted,
    check_destinations,
    copy_to_missing,
    key_of,
)
from staves.images.outputs import ImageName, Pusher, write_outputs
from staves.images.signing import Attestation, Signing, attest, sign_outputs
from staves.images.snapshot_data import advisories_in, license_table_in
from staves.podman.builder_container import (
    BINPKG_PATH,
    ROOTFS,
    ROOTFS_ARCHIVE,
    SNAPSHOT_MOUNT,
    BuilderSettings,
    RunResult,
    archive_stream,
    archived_file_stream,
    builder_container,
    builder_root,
    ensure_image,
    ensure_volume,
    image_digest,
    podman_step,
    remove_dead_builders,
    remove_own_builders,
    run_to_end,
)
from staves.podman.platform_images import builder_image_id
from staves.podman.service import podman_client
from staves.podman.service_map import PlatformServices
from staves.podman.storage import image_id, load_image
from staves.spec.plan import platform_plan

log = logging.getLogger(__name__)
SBOM_FILE = "sbom.spdx.json"


@dataclass(frozen=True)
class BuildRequest:
    """Everything a build needs, already validated."""

    plan: dict[str, Any]
    config: ImageConfig
    name: ImageName
    annotations: Mapping[str, str]
    builder: BuilderSettings
    destinations: Sequence[Destination]
    compression: Compression
    platforms: tuple[Platform, ...]  # one image each; several make an index
    epoch: int | None
    services: PlatformServices  # the Podman service of each platform (--url)
    layers: int = 1
    vdb: str = "trim"
    sbom_path: Path | None = None
    check: bool = False  # build again from scratch and fail unless the layers are the same
    spec_file: str | None = None
    audit: bool = False  # fail if the snapshot's GLSAs affect a package the image would ship
    identity: str | None = None  # the SSH key for an ssh:// --url
    cache_from: CacheSource | None = None  # binary packages pulled into the volume first
    cache_to: CacheSource | None = None  # the partition pushed after the build
    signing: Signing = field(default_factory=Signing)
    no_cache: bool = False  # build even when every destination holds this build
    layer_cache: LayerCache | None = None  # compressed layers of earlier builds
    registry: Callable[[], RegistryOptions] = RegistryOptions  # for reading docker://


@dataclass(frozen=True)
class BuildOutcome:
    """The manifest digest (None when only destinations that keep none hold the image), and
    the image (or index) when it was built."""

    digest: str | None
    image: Publishable | None


def from_builder(sources: Mapping[str, Any]) -> frozenset[str]:
    """The packages (CATEGORY/PF) the builder's installed copies gave the image."""
    packages = sources.get("packages") or []
    return frozenset(str(p.get("cpv")) for p in packages if p.get("origin") == "builder")


def failure_from(result: RunResult) -> StavesError:
    """One line naming what failed, from the in-builder script's last words."""
    marked = [line for line in result.tail if line.startswith(FAILURE_MARK)]
    what = marked[-1].removeprefix(FAILURE_MARK).split(";")[0] if marked else None
    problem = what or "the build in the builder failed"
    return StavesError(
        f"{problem} (exit code {result.exit_code})", hint="details are above", exit_code=1
    )


# make.conf changes what every package build produces without Portage noticing: USE
# flags, keywords and licenses Portage checks itself, environments it does not.
_ENV_FILES = ("/etc/portage/make.conf",)


def binpkg_dir(plan: Mapping[str, Any]) -> str:
    """The image's binary-package directory for this make.conf.

    Portage reuses a binary package whenever USE flags and dependencies match, even if
    it was built with other make.conf variables. Builds with different make.conf
    variables therefore keep their packages apart in the cache volume; the in-builder
    script puts the builder's key (CHOST, profile, compiler) above this directory and
    rebuilds a package whose ``[env.NAME]`` environment changed, that package alone.
    """
    parts = {**plan["files"], **plan["append"]}
    relevant = sorted((k, v) for k, v in parts.items() if k.startswith(_ENV_FILES))
    key = hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:16]
    return f"{BINPKG_PATH}/env-{key}"


def check_user(client: Any, container: Any, request: BuildRequest, root: str = ROOTFS) -> None:
    """The spec's ``user`` must be in the finished image's passwd (and group), since
    ``podman run`` looks names up there; fail before any output is written."""
    user = request.config.user
    if not user:
        return
    with archive_stream(client, container, f"{root}/etc") as stream:
        problem = user_problem(user, read_accounts(stream))
    if problem is not None:
        raise StavesError(
            problem,
            file=request.spec_file,
            key="user",
            hint="add the package that creates it (acct-user/NAME, acct-group/NAME) "
            "to packages, or give a numeric UID[:GID]",
            exit_code=EXIT_USAGE,
        )


def announce_shared(settings: BuilderSettings) -> None:
    """Say on stderr which of the user's credentials the builder can use (paths only)."""
    shared = settings.credentials.shared
    print(
        "staves: shared with the builder: " + (", ".join(shared) if shared else "no credentials"),
        file=sys.stderr,
        flush=True,
    )


@dataclass(frozen=True)
class BuiltRoot:
    """One run of the builder: its packages, the layers packed from its root, its epoch."""

    packages: tuple[InstalledPackage, ...]
    packed: PackedRootfs
    epoch: int | None
    inputs: tuple[ImageInput, ...]
    root_links: Mapping[str, str] = field(default_factory=dict)
    # Gentoo license → SPDX from the snapshot's license-mapping.conf; None: the built-in table.
    license_table: Mapping[str, str] | None = None
    sources: Mapping[str, Any] = field(default_factory=dict)  # for the provenance


def read_epoch(client: Any, container: Any) -> int | None:
    """The epoch the in-builder script built with (SOURCE_DATE_EPOCH or the snapshot's
    timestamp.chk), from the builder."""
    with (
        archive_stream(client, container, EPOCH_FILE) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for info in tar:
            data = tar.extractfile(info)
            text = data.read().decode().strip() if data is not None else ""
            return int(text) if text.isdigit() else None
    return None


def read_root_links(client: Any, container: Any) -> dict[str, str]:
    """The root's directory symlinks no package lists (baselayout's ``/lib64``), which
    CONTENTS paths go through; none when the builder wrote no list."""
    try:
        with archived_file_stream(client, container, ROOT_LINKS_FILE) as stream:
            links = json.loads(stream.read(1 << 20))
    except (StavesError, ValueError):
        return {}
    if not isinstance(links, dict):
        return {}
    return {str(k): str(v) for k, v in links.items() if isinstance(v, str)}


def read_sources(client: Any, container: Any) -> dict[str, Any]:
    """What the in-builder script recorded the image was made from (repositories,
    packages, distfiles); empty when it wrote nothing."""
    try:
        with archived_file_stream(client, container, SOURCES_FILE) as stream:
            sources = json.loads(stream.read(64 << 20))
    except (StavesError, ValueError):
        return {}
    return sources if isinstance(sources, dict) else {}


def warn_without_epoch(request: BuildRequest) -> None:
    print(
        f"staves: warning: {request.builder.portage_image} has no {TIMESTAMP_FILE} and "
        "SOURCE_DATE_EPOCH is not set: two builds from scratch give different images",
        file=sys.stderr,
        flush=True,
    )


def fetch_cached_packages(request: BuildRequest, archive: Path) -> Path | None:
    """``--cache-from``: the registry's binary packages as a tar for the volume, if any."""
    if request.cache_from is None or not fetch_cache(request.cache_from, archive):
        return None
    return archive


@contextmanager
def phase(name: str, output: TextIO) -> Iterator[None]:
    """Say how long a fixed cost of the build took (``scripts/bench-*`` print them)."""
    start = time.monotonic()
    yield
    print(f"staves: phase {name}: {time.monotonic() - start:.2f} s", file=output, flush=True)


def run_builder(
    client: Any,
    request: BuildRequest,
    plan: dict[str, Any],
    blob_dir: Path,
    platform: Platform,
    output: TextIO = sys.stderr,
    cached: Path | None = None,
) -> BuiltRoot:
    """Run the plan in a new builder for ``platform`` and pack its root into layers in
    ``blob_dir``; with ``cached``, its packages go into the volume first; ``--cache-to``
    pushes them after."""
    with podman_step("running the builder"), ExitStack() as stack:
        # Timed from the moment the builder is left until it is gone.
        removal = stack.enter_context(ExitStack())
        with phase("builder create (program and plan copied in)", output):
            container = stack.enter_context(builder_container(client, request.builder, plan))
        stack.callback(lambda: removal.enter_context(phase("builder removal", output)))
        if cached is not None:
            fill_cache(client, container, cached)
        with phase("builder run (container start included)", output):
            result = run_to_end(container, output)
        if result.exit_code != 0:
            raise failure_from(result)
        with phase("read back (accounts, epoch, package database)", output):
            root = builder_root(client, container)
            check_user(client, container, request, root)
            epoch = read_epoch(client, container)
            if epoch is None:
                warn_without_epoch(request)
            with archive_stream(client, container, f"{root}/{VDB_DIR}") as stream:
                packages = read_vdb_tar(stream, strip_components=1)
            if request.audit:
                refuse_advisories(client, container, request, packages, platform)
            license_table = license_table_in(client, container)
            root_links = read_root_links(client, container)
        with (
            phase("stream out and pack", output),
            archived_file_stream(client, container, ROOTFS_ARCHIVE) as stream,
        ):
            packed = pack_rootfs(
                stream,
                packages,
                layers=request.layers,
                vdb=request.vdb,
                blob_dir=blob_dir,
                compression=request.compression,
                epoch=epoch,
                root_links=root_links,
                layer_cache=request.layer_cache,
            )
        print(
            f"staves: layers repacked: {packed.repacked} of {len(packed.layers)}",
            file=output,
            flush=True,
        )
        if request.cache_to is not None and not plan.get("discard_pkgdir"):
            push_cache(client, container, request.cache_to)
        builder = request.builder
        inputs = (
            ImageInput(
                "builder",
                builder.builder_image,
                image_digest(client, builder.image_id or builder.builder_image),
            ),
            ImageInput(
                "snapshot", builder.portage_image, image_digest(client, builder.portage_image)
            ),
        )
        sources = read_sources(client, container)
    return BuiltRoot(packages, packed, epoch, inputs, root_links, license_table, sources)


def refuse_advisories(
    client: Any,
    container: Any,
    request: BuildRequest,
    packages: Sequence[InstalledPackage],
    platform: Platform,
) -> None:
    """``--audit``: fail before any output is written when the build's own snapshot has a
    GLSA affecting a package the image would ship."""
    advisories, problems = advisories_in(client, container)
    for problem in problems:
        print(f"staves: warning: skipping advisory {problem}", file=sys.stderr)
    found = refuse_affected(packages, advisories, platform.architecture)
    if not found:
        print(
            f"staves: audit: none of {len(advisories)} advisories applies to the image",
            file=sys.stderr,
            flush=True,
        )
        return
    for finding in found:
        print(f"staves: advisory: {finding_line(finding)}", file=sys.stderr)
    named = sorted({f"{f.package.name}-{f.package.version}" for f in found})
    ids = sorted({f.advisory.id for f in found})
    raise StavesError(
        f"--audit: the image would ship {', '.join(named)}, affected by GLSA {', '.join(ids)}",
        hint="upgrade to a fixed version (listed above) or build without --audit; "
        "no output was written",
        exit_code=1,
    )


def check_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan again, building from scratch: a new binary-package directory of its own in
    the cache volume, removed when the build ends."""
    fresh = f"{BINPKG_PATH}/check-{uuid.uuid4().hex[:12]}"
    # From scratch means compiled here: nothing fetched from binhosts either.
    return {**plan, "pkgdir": fresh, "discard_pkgdir": True, "getbinpkg": False}


def check_reproducible(first: BuiltRoot, second: BuiltRoot) -> None:
    """Fail, naming every differing file by package, unless both builds gave the same
    layers."""
    if [layer.digest for layer in first.packed.layers] == [
        layer.digest for layer in second.packed.layers
    ]:
        print("staves: reproducible: a build from scratch gave the same layers", file=sys.stderr)
        return
    differences = compare_entries(
        layer_entries(first.packed.layers), layer_entries(second.packed.layers)
    )
    groups = by_package(differences, first.packages, first.root_links)
    for line in describe(groups) or ["every entry is the same; the layers are split otherwise"]:
        print(f"staves: differs: {line}", file=sys.stderr)
    where = ", ".join(group.package for group in groups) or "the layers"
    raise StavesError(
        f"not reproducible: a build from scratch differs in {len(differences)} paths ({where})",
        hint="the paths are listed above; no output was written",
        exit_code=1,
    )


def builder_plan(plan: Mapping[str, Any], epoch: int | None) -> dict[str, Any]:
    """The spec's plan with what the builder adds: the snapshot, the partition, the epoch
    (the host's platform; ``staves cache export``)."""
    return {**plan, "snapshot": SNAPSHOT_MOUNT, "pkgdir": binpkg_dir(plan), "epoch": epoch}


def platform_builder_plan(
    request: BuildRequest, platform: Platform, builder_id: str, snapshot_id: str
) -> dict[str, Any]:
    """The spec's plan for one platform (its CPU level's flags after make.conf) with what
    the builder adds: the snapshot, the partition, the epoch, the images it runs from, and
    the image whose last root the builder keeps in the cache volume to update next time."""
    plan = platform_plan(request.plan, platform)
    return {
        **plan,
        "snapshot": SNAPSHOT_MOUNT,
        "pkgdir": binpkg_dir(plan),
        "epoch": request.epoch,
        "inputs": {"builder": builder_id, "snapshot": snapshot_id},
        "keep_root": kept_root_name(request),
    }


def kept_root_name(request: BuildRequest) -> str | None:
    """The image whose root the builder keeps to update on its next build. None with the
    whole package database in the image: it records the order packages were merged in
    (COUNTER), which an update changes, so that only a fresh root gives what a build from
    scratch gives."""
    return None if request.vdb == "full" else (request.name.name or "unnamed")


@dataclass(frozen=True)
class PlatformImage:
    """One platform's image, its SBOM attached to it, the SBOM's bytes, its provenance."""

    image: Image
    sbom: Artifact
    sbom_data: bytes
    provenance: Attestation


def build(request: BuildRequest, environ: Mapping[str, str], push: Pusher | None) -> BuildOutcome:
    """Build every platform, each on its service, and write the image (one platform) or
    the index of the platforms' images to every destination; nothing when every
    destination holds this build already."""
    order = request.services.build_order(request.platforms)
    urls = {url for url, _ in order}
    if any(isinstance(dest, StorageDestination) for dest in request.destinations):
        urls.add(request.services.default)  # the service whose storage gets the image
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="staves-build-") as work:
        clients = {
            url: stack.enter_context(podman_client(url, environ, request.identity)) for url in urls
        }
        jobs = [(clients[url], platforms) for url, platforms in order]
        if len(request.platforms) == 1:
            reused = reuse_unchanged(jobs[0][0], request, push, Path(work))
            if isinstance(reused, BuildOutcome):
                return reused
            request = reused
        made = build_on_services(request, jobs, Path(work))
        published = write_image(clients.get(request.services.default), request, made, push)
    return BuildOutcome(published.manifest.digest, published)


def reuse_unchanged(
    client: Any, request: BuildRequest, push: Pusher | None, work: Path
) -> BuildOutcome | BuildRequest:
    """One platform: the request whose image records its build key, or the outcome when
    the destinations hold that build already (see reuse_held)."""
    (platform,) = request.platforms
    with podman_step("preparing the builder"):
        remove_dead_builders(client, sys.stderr)
        builder_id = builder_image_id(
            client,
            request.builder.builder_image,
            builder_platform(platform),
            request.builder.pull,
            sys.stderr,
        )
        ensure_image(client, request.builder.portage_image, request.builder.pull, sys.stderr)
        snapshot_id = image_id(client, request.builder.portage_image)
        plan = platform_builder_plan(request, platform, builder_id, snapshot_id)
        key = key_of(client, key_request(request, plan, builder_id, platform))
    if key is None:
        return request
    request = with_key(request, key)
    if request.no_cache or request.check or request.audit or request.signing.key:
        return request
    return reuse_held(client, request, key, platform, push, work)


def reuse_held(
    client: Any,
    request: BuildRequest,
    key: str,
    platform: Platform,
    push: Pusher | None,
    work: Path,
) -> BuildOutcome | BuildRequest:
    """An unchanged build: done when every destination holds it, or when those lacking it
    can be given a copy from one that holds it; else the request for those lacking it."""
    sbom = SbomWanted(request.sbom_path, SPDX_MEDIA_TYPE) if request.sbom_path else None
    skip = check_destinations(
        client, key, request.destinations, request.name, platform, request.registry, sbom
    )
    if not skip.build:
        return BuildOutcome(skip.digest, None)
    if skip.holders:
        args = (request.name, platform, request.registry, push, sbom)
        if (copied := copy_to_missing(client, skip, *args, work)) is not None:
            return BuildOutcome(copied, None)
    return replace(request, destinations=skip.missing)


def key_request(
    request: BuildRequest, plan: Mapping[str, Any], builder_id: str, platform: Platform
) -> KeyRequest:
    return KeyRequest(
        plan,
        builder_id,
        request.builder.portage_image,
        request.config,
        request.annotations,
        request.layers,
        request.vdb,
        str(request.compression),
        platform,
        request.epoch,
    )


def with_key(request: BuildRequest, key: str) -> BuildRequest:
    """The request whose image records its build key (manifest annotation, config label)."""
    return replace(
        request,
        config=with_build_key(request.config, key),
        annotations={**request.annotations, BUILD_KEY: key},
    )


def build_on_services(
    request: BuildRequest, jobs: Sequence[tuple[Any, Sequence[Platform]]], work: Path
) -> dict[Platform, PlatformImage]:
    """Each service's platforms, the services side by side (one thread each). When one
    fails or the build is interrupted, the builders still running on the others are
    removed, which ends their threads at once."""
    if len(jobs) == 1:
        return build_on_service(jobs[0][0], request, jobs[0][1], work, announce=True)
    pool = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="platform")
    runs = [
        pool.submit(build_on_service, client, request, platforms, work, announce=number == 0)
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


def build_on_service(
    client: Any,
    request: BuildRequest,
    platforms: Sequence[Platform],
    work: Path,
    announce: bool = False,
) -> dict[Platform, PlatformImage]:
    """Build ``platforms`` one after another on one Podman service: every platform's
    builder image first, so that a missing one fails before anything is built."""
    several = len(request.platforms) > 1
    with podman_step("preparing the builder"):
        remove_dead_builders(client, sys.stderr)
        images = {
            platform: builder_image_id(
                client,
                request.builder.builder_image,
                builder_platform(platform),
                request.builder.pull,
                _output_for(platform, several),
            )
            for platform in platforms
        }
        ensure_image(client, request.builder.portage_image, request.builder.pull, sys.stderr)
        ensure_volume(client, request.builder.cache_volume)
        ensure_volume(client, request.builder.distfiles_volume, "distfiles-cache")
    if announce:
        announce_shared(request.builder)
    snapshot_id = image_id(client, request.builder.portage_image)
    return {
        platform: build_platform(
            client,
            request,
            platform,
            platform_builder_plan(request, platform, images[platform], snapshot_id),
            work / str(platform).replace("/", "-"),
        )
        for platform in platforms
    }


def build_platform(
    client: Any, request: BuildRequest, platform: Platform, plan: dict[str, Any], work: Path
) -> PlatformImage:
    """One platform's root, built in a builder created from the builder image's image for
    the platform, as an image."""
    output = _output_for(platform, several=len(request.platforms) > 1)
    request = replace(request, builder=replace(request.builder, image_id=plan["inputs"]["builder"]))
    work.mkdir(parents=True, exist_ok=True)
    cached = fetch_cached_packages(request, work / "cache.tar")
    if cached is not None:
        plan = {**plan, "reindex": True}  # Portage indexes what arrived before the build
    built = run_builder(client, request, plan, work / "blobs", platform, output, cached)
    if request.check:
        print("staves: building again from scratch, to compare", file=output, flush=True)
        again = run_builder(client, request, check_plan(plan), work / "check", platform, output)
        check_reproducible(built, again)
    return platform_image(request, built, platform)


class _Prefixed:
    """The builder's output with each line marked by its platform, when several
    platforms' builders write to one terminal at once."""

    def __init__(self, prefix: str, out: TextIO) -> None:
        self.prefix, self.out, self.partial = prefix, out, ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.out.write(f"{self.prefix}{line}\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def _output_for(platform: Platform, several: bool) -> TextIO:
    return _Prefixed(f"[{platform}] ", sys.stderr) if several else sys.stderr  # type: ignore[return-value]


def platform_image(request: BuildRequest, built: BuiltRoot, platform: Platform) -> PlatformImage:
    """The platform's image from its packed layers, its SBOM and its provenance."""
    created = created_time(built.packed.layers, built.epoch)
    image = build_image(
        built.packed.layers,
        request.config,
        created=created,
        platform=platform,
        annotations=request.annotations,
        history=built.packed.history,
    )
    sbom = sbom_blob(
        build_sbom(
            built.packages,
            SbomSubject(request.name.reference or "image", image.manifest.digest, created),
            built.packed.file_digests,
            list(built.inputs),
            built.root_links,
            built.license_table,
            from_builder(built.sources),
        )
    )
    attached = build_artifact(image.descriptor(), [(sbom, SBOM_FILE)], SPDX_MEDIA_TYPE)
    return PlatformImage(image, attached, sbom.data, provenance_of(request, built, image))


def sbom_path_for(path: Path, platform: Platform, several: bool) -> Path:
    """``--sbom FILE``, or with several platforms one file each: sbom.linux-arm64.spdx.json."""
    if not several:
        return path
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.{str(platform).replace('/', '-')}{dot}{rest}")


def write_image(
    client: Any, request: BuildRequest, made: Mapping[Platform, PlatformImage], push: Pusher | None
) -> Publishable:
    """The image, or the index of the platforms' images (in the order asked for), with
    each image's SBOM and provenance, to every destination; then the signatures."""
    ordered = [made[platform] for platform in request.platforms]
    several = len(ordered) > 1
    if request.sbom_path is not None:
        for platform, one in zip(request.platforms, ordered, strict=True):
            atomic_write(sbom_path_for(request.sbom_path, platform, several), one.sbom_data)
    published: Publishable = ordered[0].image
    if several:
        created = json.loads(ordered[0].image.manifest.data)["annotations"][ANNOTATION_CREATED]
        annotations = {ANNOTATION_CREATED: created, **request.annotations}
        published = build_index([one.image for one in ordered], annotations)
    write_outputs(
        published,
        request.destinations,
        request.name,
        (lambda img, name: load_image(client, img, name)) if client is not None else None,
        push,
        referrers=[a for one in ordered for a in (one.sbom, one.provenance.referrer)],
    )
    # Each image's provenance (and signature) beside it; an index is signed as the index.
    for one in ordered:
        sign_outputs(
            one.image.descriptor(),
            request.destinations,
            request.name,
            request.signing,
            [one.provenance],
        )
    if several and request.signing.key is not None:
        sign_outputs(published.descriptor(), request.destinations, request.name, request.signing)
    return published


def provenance_of(request: BuildRequest, built: BuiltRoot, image: Image) -> Attestation:
    """The image's SLSA provenance in a DSSE envelope, signed when a key is given."""
    subject = ProvenanceSubject(request.name.reference or "image", image.manifest.digest)
    statement = build_provenance(
        subject, built.inputs, built.sources, request.plan, str(image.platform), __version__
    )
    return attest(image.descriptor(), statement, request.signing.key)
