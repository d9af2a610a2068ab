"""Reading an image back from a ``docker-archive`` (the ``docker save`` format).

``manifest.json`` lists each image's config file, its names (``RepoTags``) and its layer
files, which may be plain or compressed tars (``staves pack`` keeps them gzip-compressed;
podman and docker write them plain). There is no image manifest: the image is described
by a manifest made up here, whose layers are named by the config's ``diff_ids`` (the
digests of the uncompressed layers, as ``podman inspect`` shows them). Members are read in
place from the tar; nothing attaches artifacts to such an archive.
"""

import json
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from oci.digest import sha256_of
from oci.errors import OciError, open_problem
from oci.layout_reader import tar_member
from oci.media import MediaType
from oci.source import SourceImage

MANIFEST_FILE = "manifest.json"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_MAGIC = (
    (b"\x1f\x8b", MediaType.DOCKER_LAYER_GZIP),
    (b"\x28\xb5\x2f\xfd", MediaType.OCI_LAYER_ZSTD),
    (b"BZh", _DOCKER_LAYER + ".bzip2"),
    (b"\xfd7zXZ\x00", _DOCKER_LAYER + ".xz"),
)
_SHORT_PREFIXES = ("localhost/", "docker.io/library/", "docker.io/")


def _short(name: str) -> str:
    """``localhost/app:1`` and ``docker.io/library/app:1`` both match ``app:1``."""
    for prefix in _SHORT_PREFIXES:
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def _sniff(head: bytes) -> str:
    return next((media for magic, media in _MAGIC if head.startswith(magic)), _DOCKER_LAYER)


class DockerArchiveSource:
    """One image of a docker-archive: the one named ``reference`` (NAME:TAG), or the only one."""

    def __init__(self, tar: tarfile.TarFile, name: str, reference: str | None = None) -> None:
        self._tar = tar
        self._name = name
        self._reference = reference
        self._paths: dict[str, str] = {}

    def _member(self, member: str) -> BinaryIO:
        return tar_member(self._tar, member, self._name)

    def _json(self, member: str) -> tuple[Any, bytes]:
        with self._member(member) as data:
            raw = data.read()
        try:
            return json.loads(raw), raw
        except ValueError as exc:
            raise OciError(f"{self._name}: {member} is not JSON: {exc}") from None

    def _entry(self) -> Mapping[str, Any]:
        entries, _ = self._json(MANIFEST_FILE)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise OciError(f"{self._name}: {MANIFEST_FILE} is not a list of images")
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
            media_type = _sniff(data.read(8))
            size = data.seek(0, 2)
        self._paths.setdefault(diff_id, path)
        return {"mediaType": media_type, "digest": diff_id, "size": size}

    def image(self) -> SourceImage:
        entry = self._entry()
        config, raw = self._json(str(entry.get("Config", "")))
        diff_ids: Sequence[str] = (config.get("rootfs") or {}).get("diff_ids") or []
        paths: Sequence[str] = entry.get("Layers") or []
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

    def open_blob(self, digest: str) -> BinaryIO:
        if not self._paths:
            self.image()
        if digest not in self._paths:
            raise OciError(f"{self._name}: no layer {digest}")
        return self._member(self._paths[digest])

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        return []


@contextmanager
def open_docker_archive(path: Path, reference: str | None = None) -> Iterator[DockerArchiveSource]:
    """The image ``reference`` (or the only one) of the docker-archive at ``path``."""
    try:
        tar = tarfile.open(path)  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise OciError(f"{path}: not a readable docker-archive: {open_problem(exc)}") from exc
    with tar:
        yield DockerArchiveSource(tar, str(path), reference)
