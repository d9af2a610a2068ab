"""Reading an image back from a ``docker-archive`` (the ``docker save`` format).

``manifest.json`` lists each image's config file, its names (``RepoTags``) and its layer
files, which may be plain or compressed tars (``staves pack`` keeps them gzip-compressed;
podman and docker write them plain). There is no image manifest: the image is described
by a manifest made up here, whose layers are named by the config's ``diff_ids`` (the
digests of the uncompressed layers, as ``podman inspect`` shows them). Members are read in
place from the tar; nothing attaches artifacts to such an archive.
"""

import tarfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from oci.digest import sha256_of
from oci.document import MAX_CONFIG, check, parse_json, read_capped
from oci.errors import OciError, open_problem
from oci.layer_reader import DEFAULT_LIMITS, LayerLimits, compression_of
from oci.layout_reader import tar_member
from oci.media import MediaType
from oci.shapes import CONFIG, DOCKER_ARCHIVE
from oci.source import SourceImage
from oci.verified import DecompressedHash, verified

MANIFEST_FILE = "manifest.json"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_MEDIA_TYPES = {
    None: _DOCKER_LAYER,
    "gzip": MediaType.DOCKER_LAYER_GZIP,
    "zstd": MediaType.OCI_LAYER_ZSTD,
    "bzip2": _DOCKER_LAYER + ".bzip2",
    "xz": _DOCKER_LAYER + ".xz",
}
_SHORT_PREFIXES = ("localhost/", "docker.io/library/", "docker.io/")


def _short(name: str) -> str:
    """``localhost/app:1`` and ``docker.io/library/app:1`` both match ``app:1``."""
    for prefix in _SHORT_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


class DockerArchiveSource:
    """One image of a docker-archive: the one named ``reference`` (NAME:TAG), or the only one."""

    def __init__(
        self,
        tar: tarfile.TarFile,
        name: str,
        reference: str | None = None,
        limits: LayerLimits = DEFAULT_LIMITS,
    ) -> None:
        self._tar = tar
        self._name = name
        self._reference = reference
        self._paths: dict[str, tuple[str, str | None]] = {}
        self.limits = limits

    def _member(self, member: str) -> BinaryIO:
        return tar_member(self._tar, member, self._name)

    def _raw(self, member: str, limit: int) -> tuple[bytes, str]:
        source = f"{self._name}: {member}"
        with self._member(member) as data:
            return read_capped(data, source, limit), source

    def _entry(self) -> Mapping[str, Any]:
        raw, source = self._raw(MANIFEST_FILE, MAX_CONFIG)
        entries = check(parse_json(raw, source, limit=MAX_CONFIG), DOCKER_ARCHIVE, source)
        if self._reference is None:
            if len(entries) != 1:
                raise OciError(f"{self._name}: {len(entries)} images; name one with :NAME:TAG")
            return entries[0]
        wanted = _short(self._reference)
        for entry in entries:
            if any(_short(tag) == wanted for tag in entry.get("RepoTags") or []):
                return entry
        names = sorted(t for e in entries for t in e.get("RepoTags") or [])
        raise OciError(
            f"{self._name}: no image named {self._reference!r}"
            + (f" (has {', '.join(names)})" if names else " (its images have no names)")
        )

    def _layer(self, path: str, diff_id: str) -> dict[str, Any]:
        with self._member(path) as data:
            kind = compression_of(data.read(8))
            size = data.seek(0, 2)
        self._paths.setdefault(diff_id, (path, kind))
        return {"mediaType": _MEDIA_TYPES[kind], "digest": diff_id, "size": size}

    def image(self) -> SourceImage:
        entry = self._entry()
        raw, source = self._raw(entry["Config"], MAX_CONFIG)
        config = check(parse_json(raw, source, limit=MAX_CONFIG), CONFIG, source)
        diff_ids: list[str] = config.get("rootfs", {}).get("diff_ids", [])
        paths: list[str] = entry.get("Layers", [])
        if len(diff_ids) != len(paths):
            raise OciError(
                f"{self._name}: {len(paths)} layer files but {len(diff_ids)} diff_ids in the config"
            )
        manifest = {
            "schemaVersion": 2,
            "mediaType": MediaType.DOCKER_MANIFEST,
            "config": {
                "mediaType": MediaType.DOCKER_CONFIG,
                "digest": sha256_of(raw),
                "size": len(raw),
            },
            "layers": [self._layer(p, d) for p, d in zip(paths, diff_ids, strict=True)],
        }
        return SourceImage(None, manifest, config)

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        """The layer file whose uncompressed tar has the digest ``digest`` (a diff_id),
        checked against it as it streams."""
        if not self._paths:
            self.image()
        if digest not in self._paths:
            raise OciError(f"{self._name}: no layer {digest}")
        path, kind = self._paths[digest]
        actual = self._tar.getmember(path).size
        where = f"{self._name}: {path}"
        if size is not None and size != actual:
            raise OciError(f"{where}: has {actual} bytes, not the {size} listed")
        hashing = DecompressedHash(kind) if kind else None
        return verified(
            self._member(path), digest, where, size=actual, hashing=hashing, what="layer"
        )

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        return []


@contextmanager
def open_docker_archive(
    path: Path, reference: str | None = None, limits: LayerLimits = DEFAULT_LIMITS
) -> Iterator[DockerArchiveSource]:
    """The image ``reference`` (or the only one) of the docker-archive at ``path``."""
    try:
        tar = tarfile.open(path)  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise OciError(f"{path}: not a readable docker-archive: {open_problem(exc)}") from exc
    with tar:
        yield DockerArchiveSource(tar, str(path), reference, limits)
