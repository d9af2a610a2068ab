"""The SBOMs, attestations of each image: one document per ``--sbom-format`` (SPDX,
CycloneDX) describing its packages, each attached to the image as an OCI 1.1 referrer, and
written to ``--sbom FILE`` when asked."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from oci.artifact import Artifact, build_artifact
from oci.descriptor import Platform
from oci.files import atomic_write
from oci.image import Image
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.gentoo.sbom import SbomFormat, SbomSubject, describe_image, sbom_blob


@dataclass(frozen=True)
class Sbom:
    """An image's SBOMs: the referrers that attach them (one per format), and each
    format's bytes for ``--sbom``."""

    artifacts: tuple[Artifact, ...]
    data: Mapping[SbomFormat, bytes]


def sbom_of(request: BuildRequest, root: BuiltRoot, image: Image) -> Sbom:
    """The SBOMs of the image built from ``root``, in each format asked for, attached to it."""
    description = describe_image(
        root.packages,
        SbomSubject(request.name.reference or "image", image.manifest.digest, root.created),
        root.packed.file_digests,
        root.inputs,
        root.root_links,
        root.license_table,
        root.sources,
    )
    blobs = {f: sbom_blob(description, f) for f in request.sbom_formats}
    artifacts = tuple(
        build_artifact(image.descriptor(), [(blob, f.file_name)], f.media_type)
        for f, blob in blobs.items()
    )
    return Sbom(artifacts, {f: blob.data for f, blob in blobs.items()})


def sbom_path_for(path: Path, platform: Platform, several: bool) -> Path:
    """``--sbom FILE``, or with several platforms one file each: sbom.linux-arm64.spdx.json."""
    if not several:
        return path
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.{str(platform).replace('/', '-')}{dot}{rest}")


def sbom_format_path(path: Path, sbom_format: SbomFormat, several: bool) -> Path:
    """``--sbom FILE``, or with several formats one file each, named by its format:
    sbom.json (or sbom.spdx.json) gives sbom.spdx.json and sbom.cdx.json."""
    if not several:
        return path
    stem, _, rest = path.name.partition(".")
    marker, _, tail = rest.partition(".")
    if marker in {f.suffix for f in SbomFormat} | {f.value for f in SbomFormat}:
        rest = tail
    name = f"{stem}.{sbom_format.suffix}" + (f".{rest}" if rest else "")
    return path.with_name(name)


def sbom_paths(
    path: Path, platform: Platform, several: bool, formats: Sequence[SbomFormat]
) -> dict[SbomFormat, Path]:
    """Where ``--sbom FILE`` puts each format's SBOM of ``platform``'s image."""
    return {
        f: sbom_path_for(sbom_format_path(path, f, len(formats) > 1), platform, several)
        for f in formats
    }


def write_sbom_files(request: BuildRequest, sboms: Mapping[Platform, Sbom]) -> None:
    """``--sbom FILE``: each platform's SBOM in each format, each written whole or not at
    all."""
    if request.sbom_path is None:
        return
    several = len(request.platforms) > 1
    for platform in request.platforms:
        paths = sbom_paths(request.sbom_path, platform, several, request.sbom_formats)
        for sbom_format, path in paths.items():
            atomic_write(path, sboms[platform].data[sbom_format])
