"""Binary packages as files of a cache partition: which files to carry between machines,
what to call them, and which paths may come back in.

Portage keeps a partition as ``CATEGORY/PN/PF-BUILD_ID.gpkg.tar`` (``binpkg-multi-instance``;
``.xpak`` for the old format) plus its ``Packages`` index. The index is never carried: the
receiving side has Portage make its own (``emaint binhost --fix``) over what it then holds.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

ARTIFACT_TYPE = "application/vnd.staves.binpkg-cache.v1"
GPKG_MEDIA_TYPE = "application/vnd.gentoo.gpkg.v1.tar"
XPAK_MEDIA_TYPE = "application/vnd.gentoo.xpak.v1"
PACKAGE_ENV_MEDIA_TYPE = "application/vnd.staves.package-env.v1+json"
ANNOTATION_CPV = "io.staves.binpkg.cpv"
ANNOTATION_BUILD_ID = "io.staves.binpkg.build-id"
ANNOTATION_PARTITION = "io.staves.binpkg.partition"
# Which environment each package was built with (the in-builder script's record).
PACKAGE_ENV_RECORD = "staves-package-env.json"
_SUFFIXES = {".gpkg.tar": GPKG_MEDIA_TYPE, ".xpak": XPAK_MEDIA_TYPE}
_NAME = r"[A-Za-z0-9_][A-Za-z0-9+_.-]*"
# KEY/DIR/CATEGORY/PN/PF[-BUILD_ID]SUFFIX, or KEY/DIR/staves-package-env.json
_PACKAGE_PATH = re.compile(
    rf"(?P<partition>{_NAME}/{_NAME})/(?P<category>{_NAME})/(?P<pn>{_NAME})/"
    rf"(?P<stem>{_NAME}?)(?P<suffix>\.gpkg\.tar|\.xpak)"
)
_RECORD_PATH = re.compile(rf"(?P<partition>{_NAME}/{_NAME})/{re.escape(PACKAGE_ENV_RECORD)}")
_BUILD_ID = re.compile(r"-(\d+)$")


@dataclass(frozen=True)
class CacheFile:
    """A file of a partition worth carrying: its path under the volume, media type and
    annotations."""

    path: str
    media_type: str
    annotations: dict[str, str]


def cache_file(path: str) -> CacheFile | None:
    """What ``path`` (relative to the cache volume) is, or None for files not carried
    (the index, partial downloads, anything else)."""
    clean = PurePosixPath(path)
    if clean.is_absolute() or ".." in clean.parts or str(clean) != path:
        return None
    if match := _RECORD_PATH.fullmatch(path):
        return CacheFile(path, PACKAGE_ENV_MEDIA_TYPE, {ANNOTATION_PARTITION: match["partition"]})
    match = _PACKAGE_PATH.fullmatch(path)
    if match is None:
        return None
    stem = match["stem"]
    annotations = {ANNOTATION_PARTITION: match["partition"]}
    if build_id := _BUILD_ID.search(stem):
        annotations[ANNOTATION_BUILD_ID] = build_id[1]
        stem = stem[: build_id.start()]
    annotations[ANNOTATION_CPV] = f"{match['category']}/{stem}"
    return CacheFile(path, _SUFFIXES[match["suffix"]], annotations)


def is_binary_package(name: str) -> bool:
    """Whether a file name is a binary package's (gpkg or xpak)."""
    return name.endswith(tuple(_SUFFIXES))
