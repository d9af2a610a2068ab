"""The files of an image as a container sees them, read from its layer tars, each with the
package that installed it.

Layers are streamed in order and only their tar headers are read (plus the small
``CONTENTS`` files of the package database): a file a later layer replaces or whites out
(``.wh.NAME``, ``.wh..wh..opq``, as the OCI layer spec defines them) is gone from the
listing. Owners come from the packages' ``CONTENTS`` in the layers, or, where the
database was left out (``vdb = "none"``), from the SBOM's package → file relationships.
"""

import hashlib
import posixpath
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oci.layer_reader import open_layer_tar
from oci.source import ImageSource
from staves.gentoo.layering import VDB_DIR, path_resolver
from staves.gentoo.vdb import READ_FILES, InstalledPackage, metadata_texts, package_from_files
from staves.sources.packages import (
    VDB_FILES,
    ImageReport,
    image_sbom,
    purl_name,
    sbom_report,
    vdb_report,
)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_VDB_PARTS = VDB_DIR.split("/")


@dataclass(frozen=True)
class ImageFile:
    """A regular file of the image's final tree."""

    path: str  # no leading slash
    size: int
    layer: int  # index of the layer it comes from
    package: str | None  # CATEGORY/PF of the package that installed it


@dataclass
class _Tree:
    """The tree so far: path → (size, layer), and each package's database files
    ((CATEGORY, PF) → file name → text) with the digest of the layer holding them."""

    files: dict[str, tuple[int, int]]
    vdb: dict[tuple[str, str], dict[str, str]]
    vdb_layer: dict[tuple[str, str], str]
    # Symlinks of the tree, "/path" → "/target": CONTENTS paths resolve through them.
    links: dict[str, str] = field(default_factory=dict)
    # With ``hashing``: every regular file's sha1 and sha256 (path → name → hex), and every
    # database file read (not only what the report shows).
    hashing: bool = False
    digests: dict[str, dict[str, str]] = field(default_factory=dict)


def _clean(name: str) -> str:
    return "/".join(p for p in name.split("/") if p not in ("", "."))


def _remove_below(tree: _Tree, top: str, before_layer: int, itself: bool) -> None:
    """Whiteouts hide what lower layers hold: ``top`` (if ``itself``) and all below it."""
    prefix = f"{top}/" if top else ""
    for path in [p for p, (_, layer) in tree.files.items() if layer < before_layer]:
        if path.startswith(prefix) or (itself and path == top):
            del tree.files[path]


def _apply_member(
    tree: _Tree, tar: tarfile.TarFile, info: tarfile.TarInfo, index: int, digest: str
) -> None:
    path = _clean(info.name)
    parent, base = posixpath.split(path)
    if base == OPAQUE:
        _remove_below(tree, parent, index, itself=False)
        return
    if base.startswith(WHITEOUT):
        _remove_below(tree, posixpath.join(parent, base[len(WHITEOUT) :]), index, itself=True)
        return
    tree.files.pop(path, None)  # whatever lay there (a file, now a link or a directory)
    tree.links.pop(f"/{path}", None)
    if info.issym():
        target = posixpath.normpath(posixpath.join("/" + parent, info.linkname))
        tree.links[f"/{path}"] = target
    if not info.isreg():
        return
    tree.files[path] = (info.size, index)
    parts = path.split("/")
    wanted = READ_FILES if tree.hashing else VDB_FILES
    if parts[:3] == _VDB_PARTS and len(parts) == 6 and parts[5] in wanted:
        member = tar.extractfile(info)  # small files, read whole
        if member is not None:
            key = (parts[3], parts[4])
            data = member.read()
            tree.vdb.setdefault(key, {}).update(metadata_texts(parts[5], data))
            tree.vdb_layer[key] = digest
            if tree.hashing:
                tree.digests[path] = _hashed([data])
    elif tree.hashing:
        member = tar.extractfile(info)
        if member is not None:
            tree.digests[path] = _hashed(iter(lambda: member.read(1 << 20), b""))


def _hashed(chunks: Iterable[bytes]) -> dict[str, str]:
    sha1, sha256 = hashlib.sha1(), hashlib.sha256()
    for chunk in chunks:
        sha1.update(chunk)
        sha256.update(chunk)
    return {"sha1": sha1.hexdigest(), "sha256": sha256.hexdigest()}


def _scan_layer(source: ImageSource, layer: Mapping[str, Any], index: int, tree: _Tree) -> None:
    with (
        source.open_blob(layer["digest"], layer["size"]) as data,
        open_layer_tar(
            data, f"layer {layer['digest']}", limits=source.limits, compressed_size=layer["size"]
        ) as tar,
    ):
        for info in tar:
            _apply_member(tree, tar, info, index, layer["digest"])


def _owners_from_contents(
    packages: Sequence[InstalledPackage], root_links: Mapping[str, str] | None = None
) -> dict[str, str]:
    resolve = path_resolver(packages, root_links)
    return {
        resolve(entry.path): package.key
        for package in sorted(packages, key=lambda p: p.key)
        for entry in package.contents
        if entry.kind == "obj"
    }


def owners_from_sbom(document: Mapping[str, Any]) -> dict[str, str]:
    """File path (no leading slash) → CATEGORY/PF, from an SPDX document's CONTAINS
    relationships between packages (named by their purls) and files."""
    keys = {}
    for package in document.get("packages", []):
        for ref in package.get("externalRefs", []):
            named = purl_name(ref.get("referenceLocator", ""))
            if ref.get("referenceType") == "purl" and named is not None and "SPDXID" in package:
                keys[package["SPDXID"]] = f"{named[0]}-{named[1]}"
    names = {f["SPDXID"]: _clean(f["fileName"]) for f in document.get("files", [])}
    return {
        names[r["relatedSpdxElement"]]: keys[r["spdxElementId"]]
        for r in document.get("relationships", [])
        if r.get("relationshipType") == "CONTAINS"
        and r.get("spdxElementId") in keys
        and r.get("relatedSpdxElement") in names
    }


def _installed(tree: _Tree) -> list[InstalledPackage]:
    # An entry whose CONTENTS a later layer whited out is no longer installed.
    return [
        package_from_files(category, pf, files)
        for (category, pf), files in sorted(tree.vdb.items())
        if f"{VDB_DIR}/{category}/{pf}/CONTENTS" in tree.files
    ]


def _scan(source: ImageSource, layers: Sequence[Mapping[str, Any]], hashing: bool = False) -> _Tree:
    tree = _Tree({}, {}, {}, hashing=hashing)
    for index, layer in enumerate(layers):
        _scan_layer(source, layer, index, tree)
    return tree


@dataclass(frozen=True)
class ImageRoot:
    """What the SBOM of an image is made from when it has none attached: its package
    database, the digests of its files, its symlinks."""

    packages: tuple[InstalledPackage, ...]
    file_digests: Mapping[str, Mapping[str, str]]
    links: Mapping[str, str]


def read_image_root(source: ImageSource, layers: Sequence[Mapping[str, Any]]) -> ImageRoot:
    """The image's packages and every file's digests, each layer read once."""
    tree = _scan(source, layers, hashing=True)
    digests = {path: tree.digests[path] for path in tree.files if path in tree.digests}
    return ImageRoot(tuple(_installed(tree)), digests, dict(tree.links))


def _files(tree: _Tree, owners: Mapping[str, str]) -> tuple[ImageFile, ...]:
    return tuple(
        ImageFile(path, size, layer, owners.get(path))
        for path, (size, layer) in sorted(tree.files.items())
    )


def image_files(
    source: ImageSource,
    layers: Sequence[Mapping[str, Any]],
    sbom: Mapping[str, Any] | None = None,
) -> tuple[ImageFile, ...]:
    """The regular files of the image whose ``layers`` ``source`` holds, sorted by path."""
    tree = _scan(source, layers)
    installed = _installed(tree)
    return _files(tree, _owners(installed, sbom, tree))


def _owners(
    installed: Sequence[InstalledPackage], sbom: Mapping[str, Any] | None, tree: _Tree
) -> dict[str, str]:
    if installed:
        return _owners_from_contents(installed, tree.links)
    return owners_from_sbom(sbom or {})


def bytes_by_package(files: Sequence[ImageFile]) -> dict[str | None, int]:
    """Bytes of each owner's files; None for the files of no package."""
    totals: dict[str | None, int] = {}
    for f in files:
        totals[f.package] = totals.get(f.package, 0) + f.size
    return totals


@dataclass(frozen=True)
class ImageContents:
    """What ``inspect`` and ``diff`` show of one image: its report and its files."""

    report: ImageReport
    files: tuple[ImageFile, ...]
    # As read back: the manifest (made up for a docker-archive, which keeps none) and the
    # config, for what ``diff`` says when the content is the same and they are not.
    manifest: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def file_bytes(self) -> int:
        return sum(f.size for f in self.files)


def read_image_contents(source: ImageSource) -> ImageContents:
    """The report and the file listing of the image ``source`` reads, each layer read once."""
    image = source.image()
    document = image_sbom(source, image)
    tree = _scan(source, image.layers)
    installed = _installed(tree)
    if document is not None:
        report = sbom_report(image, document)
    else:
        located: dict[str, list[str]] = {}
        for package in installed:
            located.setdefault(tree.vdb_layer[(package.category, package.pf)], []).append(
                package.key
            )
        report = vdb_report(image, installed, located)
    files = _files(tree, _owners(installed, document, tree))
    return ImageContents(report, files, image.manifest, image.config)
