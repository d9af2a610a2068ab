"""The SBOM, an attestation of each image: the SPDX document of its packages, attached to
the image as an OCI 1.1 referrer, and written to ``--sbom FILE`` when asked."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from oci.artifact import Artifact, build_artifact
from oci.descriptor import Platform
from oci.files import atomic_write
from oci.image import Image
from staves.build.records import from_builder
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.gentoo.sbom import SPDX_MEDIA_TYPE, SbomSubject, build_sbom, sbom_blob

SBOM_FILE = "sbom.spdx.json"


@dataclass(frozen=True)
class Sbom:
    """An image's SBOM: the referrer that attaches it, and its bytes for ``--sbom``."""

    artifact: Artifact
    data: bytes


def sbom_of(request: BuildRequest, root: BuiltRoot, image: Image) -> Sbom:
    """The SPDX SBOM of the image built from ``root``, attached to it."""
    blob = sbom_blob(
        build_sbom(
            root.packages,
            SbomSubject(request.name.reference or "image", image.manifest.digest, root.created),
            root.packed.file_digests,
            list(root.inputs),
            root.root_links,
            root.license_table,
            from_builder(root.sources),
        )
    )
    return Sbom(build_artifact(image.descriptor(), [(blob, SBOM_FILE)], SPDX_MEDIA_TYPE), blob.data)


def sbom_path_for(path: Path, platform: Platform, several: bool) -> Path:
    """``--sbom FILE``, or with several platforms one file each: sbom.linux-arm64.spdx.json."""
    if not several:
        return path
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}.{str(platform).replace('/', '-')}{dot}{rest}")


def write_sbom_files(request: BuildRequest, sboms: Mapping[Platform, Sbom]) -> None:
    """``--sbom FILE``: each platform's SBOM, written whole or not at all."""
    if request.sbom_path is None:
        return
    several = len(request.platforms) > 1
    for platform in request.platforms:
        atomic_write(sbom_path_for(request.sbom_path, platform, several), sboms[platform].data)
