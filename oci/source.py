"""Reading one image back, from wherever it is: the reading side of the transports.

An ``ImageSource`` gives the image's manifest and config, streams its blobs (layers are
never read into memory) and finds the artifacts that refer to it (OCI 1.1 referrers,
such as an SBOM). There is one implementation per transport: ``LayoutSource``
(``oci:``, ``oci-archive:``), ``DockerArchiveSource`` (``docker-archive:``, and what
container storage exports) and ``RegistrySource`` (``docker://``).
"""

from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from oci.layer_reader import LayerLimits


@dataclass(frozen=True)
class SourceImage:
    """An image as read back.

    ``digest`` is the manifest's digest; None where the transport keeps no manifest
    (a docker-archive: its ``manifest`` here is made up from the archive's listing and
    its layers are named by their uncompressed digests, the config's ``diff_ids``).
    """

    digest: str | None
    manifest: dict[str, Any]
    config: dict[str, Any]

    @property
    def config_digest(self) -> str:
        """The image ID, as podman and docker show it."""
        return str(self.manifest["config"]["digest"])

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The layer descriptors (``digest``, ``size``, ``mediaType``, ``annotations``)."""
        return list(self.manifest.get("layers", []))


class ImageSource(Protocol):
    """One image and what refers to it, in one place (a layout, an archive, a registry).

    Every blob it streams is checked against its digest as it is read; ``limits`` bound
    what reading its layers may cost.
    """

    limits: LayerLimits

    def image(self) -> SourceImage:
        """The image's manifest and config."""
        ...

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        """A stream of the blob ``digest`` (a layer, or an artifact's payload) of ``size``
        bytes where its descriptor says; one line, no data, if it has another size."""
        ...

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        """The manifests of the artifacts (of ``artifact_type``) whose subject is ``subject``."""
        ...
