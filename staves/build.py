"""``staves build`` as a flat list of steps: plan → builder → rootfs layer → image → outputs."""

import hashlib
import json
import logging
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from oci.artifact import build_artifact
from oci.compare import compare_entries, layer_entries
from oci.compress import Compression
from oci.descriptor import Platform
from oci.files import atomic_write
from oci.image import Image, ImageConfig, build_image, created_time
from oci.layer_cache import LayerCache
from oci.registry import RegistryOptions
from oci.transport import Destination
from staves import __version__
from staves.builder.inbuilder import (
    EPOCH_FILE,
    FAILURE_MARK,
    ROOT_LINKS_FILE,
    SOURCES_FILE,
    TIMESTAMP_FILE,
)
from staves.errors import EXIT_USAGE, StavesError
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
    ensure_image,
    ensure_volume,
    image_digest,
    podman_step,
    remove_dead_builders,
    run_to_end,
)
from staves.podman.service import podman_client
from staves.podman.storage import image_id, load_image

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
    platform: Platform
    epoch: int | None
    url: str | None
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
    the image when it was built."""

    digest: str | None
    image: Image | None


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


def check_user(client: Any, container: Any, request: BuildRequest) -> None:
    """The spec's ``user`` must be in the finished image's passwd (and group), since
    ``podman run`` looks names up there; fail before any output is written."""
    user = request.config.user
    if not user:
        return
    with archive_stream(client, container, f"{ROOTFS}/etc") as stream:
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


def run_builder(
    client: Any,
    request: BuildRequest,
    plan: dict[str, Any],
    blob_dir: Path,
    cached: Path | None = None,
) -> BuiltRoot:
    """Run the plan in a new builder and pack its root into layers in ``blob_dir``; with
    ``cached``, its packages go into the volume first; ``--cache-to`` pushes them after."""
    with (
        podman_step("running the builder"),
        builder_container(client, request.builder, plan) as container,
    ):
        if cached is not None:
            fill_cache(client, container, cached)
        result = run_to_end(container, sys.stderr)
        if result.exit_code != 0:
            raise failure_from(result)
        check_user(client, container, request)
        epoch = read_epoch(client, container)
        if epoch is None:
            warn_without_epoch(request)
        with archive_stream(client, container, f"{ROOTFS}/{VDB_DIR}") as stream:
            packages = read_vdb_tar(stream, strip_components=1)
        if request.audit:
            refuse_advisories(client, container, request, packages)
        license_table = license_table_in(client, container)
        root_links = read_root_links(client, container)
        with archived_file_stream(client, container, ROOTFS_ARCHIVE) as stream:
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
            file=sys.stderr,
            flush=True,
        )
        if request.cache_to is not None and not plan.get("discard_pkgdir"):
            push_cache(client, container, request.cache_to)
        inputs = tuple(
            ImageInput(role, ref, image_digest(client, ref))
            for role, ref in (
                ("builder", request.builder.builder_image),
                ("snapshot", request.builder.portage_image),
            )
        )
        sources = read_sources(client, container)
    return BuiltRoot(packages, packed, epoch, inputs, root_links, license_table, sources)


def refuse_advisories(
    client: Any, container: Any, request: BuildRequest, packages: Sequence[InstalledPackage]
) -> None:
    """``--audit``: fail before any output is written when the build's own snapshot has a
    GLSA affecting a package the image would ship."""
    advisories, problems = advisories_in(client, container)
    for problem in problems:
        print(f"staves: warning: skipping advisory {problem}", file=sys.stderr)
    found = refuse_affected(packages, advisories, request.platform.architecture)
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
    """The spec's plan with what the builder adds: the snapshot, the partition, the epoch."""
    return {**plan, "snapshot": SNAPSHOT_MOUNT, "pkgdir": binpkg_dir(plan), "epoch": epoch}


def build(request: BuildRequest, environ: Mapping[str, str], push: Pusher | None) -> BuildOutcome:
    plan = builder_plan(request.plan, request.epoch)
    with (
        podman_client(request.url, environ, request.identity) as client,
        tempfile.TemporaryDirectory(prefix="staves-build-") as work,
    ):
        with podman_step("preparing the builder"):
            remove_dead_builders(client, sys.stderr)
            for image in (request.builder.builder_image, request.builder.portage_image):
                ensure_image(client, image, request.builder.pull, sys.stderr)
            plan["inputs"] = {
                "builder": image_id(client, request.builder.builder_image),
                "snapshot": image_id(client, request.builder.portage_image),
            }
            key = key_of(client, key_request(request, plan))
        if key is not None:
            request = with_key(request, key)
            if not (request.no_cache or request.check or request.audit or request.signing.key):
                reused = reuse_held(client, request, key, push, Path(work))
                if isinstance(reused, BuildOutcome):
                    return reused
                request = reused
        with podman_step("preparing the builder"):
            ensure_volume(client, request.builder.cache_volume)
            ensure_volume(client, request.builder.distfiles_volume, "distfiles-cache")
        announce_shared(request.builder)
        cached = fetch_cached_packages(request, Path(work) / "cache.tar")
        if cached is not None:
            plan = {**plan, "reindex": True}  # Portage indexes what arrived before the build
        built = run_builder(client, request, plan, Path(work) / "blobs", cached)
        if request.check:
            print("staves: building again from scratch, to compare", file=sys.stderr, flush=True)
            again = run_builder(client, request, check_plan(plan), Path(work) / "check")
            check_reproducible(built, again)
        image = write_image(client, request, built, push)
    return BuildOutcome(image.manifest.digest, image)


def reuse_held(
    client: Any, request: BuildRequest, key: str, push: Pusher | None, work: Path
) -> "BuildOutcome | BuildRequest":
    """An unchanged build: done when every destination holds it, or when those lacking it
    can be given a copy from one that holds it; else the request for those lacking it."""
    sbom = SbomWanted(request.sbom_path, SPDX_MEDIA_TYPE) if request.sbom_path else None
    skip = check_destinations(
        client, key, request.destinations, request.name, request.platform, request.registry, sbom
    )
    if not skip.build:
        return BuildOutcome(skip.digest, None)
    if skip.holders:
        args = (request.name, request.platform, request.registry, push, sbom)
        if (copied := copy_to_missing(client, skip, *args, work)) is not None:
            return BuildOutcome(copied, None)
    return replace(request, destinations=skip.missing)


def key_request(request: BuildRequest, plan: Mapping[str, Any]) -> KeyRequest:
    return KeyRequest(
        plan,
        request.builder.builder_image,
        request.builder.portage_image,
        request.config,
        request.annotations,
        request.layers,
        request.vdb,
        str(request.compression),
        request.platform,
        request.epoch,
    )


def with_key(request: BuildRequest, key: str) -> BuildRequest:
    """The request whose image records its build key (manifest annotation, config label)."""
    return replace(
        request,
        config=with_build_key(request.config, key),
        annotations={**request.annotations, BUILD_KEY: key},
    )


def write_image(client: Any, request: BuildRequest, built: BuiltRoot, push: Pusher | None) -> Image:
    """The image and its SBOM from the packed layers, to every destination."""
    created = created_time(built.packed.layers, built.epoch)
    image = build_image(
        built.packed.layers,
        request.config,
        created=created,
        platform=request.platform,
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
        )
    )
    if request.sbom_path is not None:
        atomic_write(request.sbom_path, sbom.data)
    attached = build_artifact(image.descriptor(), [(sbom, SBOM_FILE)], SPDX_MEDIA_TYPE)
    provenance = provenance_of(request, built, image)
    write_outputs(
        image,
        request.destinations,
        request.name,
        lambda img, name: load_image(client, img, name),
        push,
        referrers=[attached, provenance.referrer],
    )
    sign_outputs(
        image.descriptor(), request.destinations, request.name, request.signing, [provenance]
    )
    return image


def provenance_of(request: BuildRequest, built: BuiltRoot, image: Image) -> Attestation:
    """The image's SLSA provenance in a DSSE envelope, signed when a key is given."""
    subject = ProvenanceSubject(request.name.reference or "image", image.manifest.digest)
    statement = build_provenance(
        subject, built.inputs, built.sources, request.plan, str(request.platform), __version__
    )
    return attest(image.descriptor(), statement, request.signing.key)
