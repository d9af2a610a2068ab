"""Planning an image's layers from its installed packages: pure and deterministic.

With a budget of N layers (``layers = N``):

- N = 1: one layer holding everything (what Staves always did).
- Otherwise the last layer holds what no package owns (files made after emerge: ld.so.cache,
  locales; the compiler runtime is entered under the builder's gcc) and the packages share
  the N - 1 others. Packages get a layer each, largest first, while the budget lasts; when
  there are more packages than that, the N - 2 largest get their own layer and all others
  share one. Packages that installed no file (virtuals) never get a layer of their own.

A package's layer holds its files, the directories above them, and its entry in the package
database (``var/db/pkg/CATEGORY/PF``, as the ``vdb`` mode keeps it). Every entry's mtime is
the package's own time: the SOURCE_DATE_EPOCH it was built with (its BUILD_TIME for binary
packages built without one); so the same binary package gives a byte-identical layer in
every image, and two builds from scratch (both built with the build's epoch) the same one.
The times the database records (CONTENTS mtimes, BUILD_TIME) are set to that time too.

N is at most 100: containerd and Docker's overlay stop at 127/128 layers, and images built
``FROM`` a Staves image need room for layers of their own.
"""

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from oci.split import GroupSpec
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.vdb import InstalledPackage

LAYER_LIMIT = 127  # containerd's limit on the layers of one image
RESERVED_LAYERS = 27  # left for images built on top
MAX_LAYERS = LAYER_LIMIT - RESERVED_LAYERS
DEFAULT_LAYERS = 1

VDB_DIR = "var/db/pkg"
TRIM_FILES = frozenset({"CONTENTS", "LICENSE", "SIZE", "SLOT", "USE", "repository"})
# vdb files that differ between two installs of the same binary package (Portage's
# consolidated ``metadata`` file repeats COUNTER): they go to the last layer.
INSTALL_SPECIFIC_FILES = frozenset({"COUNTER", "metadata"})
# vdb files about the builder's cache, not the image: the digest of the binary-package file
# the package came from, which records when that file was made. Never in an image.
CACHE_SPECIFIC_FILES = frozenset({"BINPKGMD5"})

ANNOTATION_PACKAGES = "io.staves.packages"
ANNOTATION_LAYER = "io.staves.layer"
ALL_GROUP = "rootfs"
SHARED_GROUP = "packages"
UNOWNED_GROUP = "unowned"


class VdbMode(StrEnum):
    TRIM = "trim"  # keep CONTENTS, LICENSE, SIZE, SLOT, USE, repository: scanners, audit
    NONE = "none"  # drop the package database
    FULL = "full"  # keep all of it but BINPKGMD5, a record of the builder's cache


@dataclass(frozen=True)
class LayerGroup:
    name: str
    packages: tuple[str, ...]  # CATEGORY/PF keys
    mtime: int | None
    kind: str  # "package", "packages", "unowned" or "rootfs"

    @property
    def annotations(self) -> dict[str, str]:
        out = {ANNOTATION_LAYER: self.kind}
        if self.packages:
            out[ANNOTATION_PACKAGES] = " ".join(self.packages)
        return out

    @property
    def history(self) -> str:
        if self.kind == "unowned":
            return "staves: files owned by no package"
        if self.kind == "rootfs":
            return "staves: root filesystem"
        return "staves: " + " ".join(self.packages)

    def spec(self) -> GroupSpec:
        return GroupSpec(self.mtime, MappingProxyType(self.annotations))


@dataclass(frozen=True)
class LayerPlan:
    """Which group each entry of the root filesystem goes to, and the groups in image order
    (the last one takes whatever nobody owns)."""

    groups: tuple[LayerGroup, ...]
    vdb: VdbMode
    owners: Mapping[str, str] = field(default_factory=dict)  # path → group, non-directories
    dir_owners: Mapping[str, str] = field(default_factory=dict)  # dirs owned by one group
    package_groups: Mapping[str, str] = field(default_factory=dict)  # CATEGORY/PF → group

    @property
    def fallback(self) -> str:
        return self.groups[-1].name

    def group_specs(self) -> dict[str, GroupSpec]:
        return {g.name: g.spec() for g in self.groups}

    def assign(self, name: str) -> str | None:
        """The group of entry ``name`` (no leading slash); None: where it is needed."""
        owner = self.owners.get(name) or self.dir_owners.get(name)
        if owner is not None:
            return owner
        parts = name.split("/")
        if name.startswith(VDB_DIR + "/") and len(parts) >= 5:
            if len(parts) == 6 and parts[5] in INSTALL_SPECIFIC_FILES:
                return self.fallback
            return self.package_groups.get(f"{parts[3]}/{parts[4]}")
        return None

    def keep(self, name: str) -> bool:
        return keep_in_image(name, self.vdb)

    def rewrite(self, name: str) -> Callable[[bytes], bytes] | None:
        """The times a package's database entry records (when each file was installed and
        merged, when it was built) become its layer's time, which its files carry: so the
        same binary package always gives the same layer, and CONTENTS matches the files."""
        parts = name.split("/")
        if len(parts) != 6 or not name.startswith(VDB_DIR + "/"):
            return None
        stamp = STAMPED_FILES.get(parts[5])
        group = self.package_groups.get(f"{parts[3]}/{parts[4]}", self.groups[0].name)
        mtime = self._mtime(group)
        if parts[5] == METADATA_FILE:
            # The package's directory is also in the last layer (with COUNTER), whose
            # entries' time it therefore has in the image.
            dir_mtime = self._mtime(self.fallback)
            if mtime is None or dir_mtime is None:
                return None
            return lambda data: stamp_metadata(data, mtime, dir_mtime)
        if stamp is None or mtime is None:
            return None
        return lambda data: stamp(data, mtime)

    def _mtime(self, group: str) -> int | None:
        return next((g.mtime for g in self.groups if g.name == group), None)


def stamp_contents(contents: bytes, mtime: int) -> bytes:
    """CONTENTS with every ``obj`` and ``sym`` line's trailing mtime set to ``mtime``."""
    lines = []
    for line in contents.split(b"\n"):
        if line.startswith((b"obj ", b"sym ")):
            head, _, stamp = line.rpartition(b" ")
            if stamp.isdigit():
                line = head + b" " + str(mtime).encode()
        lines.append(line)
    return b"\n".join(lines)


def stamp_build_time(data: bytes, mtime: int) -> bytes:
    return f"{mtime}\n".encode() if data.strip().isdigit() else data


METADATA_FILE = "metadata"


def stamp_metadata(data: bytes, build_time: int, dir_mtime: int) -> bytes:
    """Portage's consolidated ``metadata`` file with its BUILD_TIME set as the BUILD_TIME
    file is, and its ``#dir_mtime=`` (the package directory's st_mtime_ns, which Portage
    checks before trusting the file) set to the directory's time in the image."""
    lines = []
    for line in data.split(b"\n"):
        if line.startswith(b"BUILD_TIME="):
            line = b"BUILD_TIME=%d" % build_time
        elif line.startswith(b"#dir_mtime="):
            line = b"#dir_mtime=%d" % (dir_mtime * 1_000_000_000)
        lines.append(line)
    return b"\n".join(lines)


# vdb files holding times, and how each is set to the layer's time.
STAMPED_FILES: Mapping[str, Callable[[bytes, int], bytes]] = MappingProxyType(
    {"CONTENTS": stamp_contents, "BUILD_TIME": stamp_build_time}
)


def keep_in_image(name: str, vdb: VdbMode) -> bool:
    """Whether entry ``name`` of the root filesystem stays in the image under ``vdb``."""
    if name != VDB_DIR and not name.startswith(VDB_DIR + "/"):
        return True
    if vdb is VdbMode.NONE:
        return False
    rel = name.split("/")[3:]
    if vdb is VdbMode.FULL:
        return not (len(rel) == 3 and rel[2] in CACHE_SPECIFIC_FILES)
    if len(rel) >= 2 and rel[1].startswith((".", "-")):
        return False  # lock files and interrupted merges
    return len(rel) <= 2 or (len(rel) == 3 and rel[2] in TRIM_FILES)


def _rank(packages: Iterable[InstalledPackage]) -> list[InstalledPackage]:
    return sorted(packages, key=lambda p: (-(p.size or 0), p.key))


def _has_files(package: InstalledPackage) -> bool:
    return any(entry.kind != "dir" for entry in package.contents)


def package_time(package: InstalledPackage, epoch: int | None) -> int | None:
    """The time a package's layer carries: the SOURCE_DATE_EPOCH it was built with, else
    its BUILD_TIME, else the build's epoch. Not clamped to the epoch: a binary package
    gives the same layer in every image, whenever and under whatever epoch it is reused."""
    if package.built_epoch is not None:
        return package.built_epoch
    return package.build_time if package.build_time is not None else epoch


def _group_mtime(members: Sequence[InstalledPackage], epoch: int | None) -> int | None:
    times = [t for p in members if (t := package_time(p, epoch)) is not None]
    return max(times) if times else epoch


def _dir_symlinks(packages: Sequence[InstalledPackage]) -> dict[str, str]:
    """Symlinks that packages install to directories (``/lib64 -> usr/lib64``), resolved."""
    dirs = {e.path for p in packages for e in p.contents if e.kind == "dir"}
    links = {}
    for p in packages:
        for e in p.contents:
            if e.kind == "sym" and e.target is not None:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(e.path), e.target))
                if target in dirs:
                    links[e.path] = target
    return links


def _canonical(path: str, links: Mapping[str, str]) -> str:
    """``path`` with directory symlinks among its parents resolved (as the files lie)."""
    for _ in range(16):
        parts = path.split("/")
        for i in range(2, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in links:
                path = links[prefix] + "/" + "/".join(parts[i:])
                break
        else:
            return path
    return path


def path_resolver(
    packages: Sequence[InstalledPackage], root_links: Mapping[str, str] | None = None
) -> Callable[[str], str]:
    """Maps a CONTENTS path to where the file lies in the root filesystem (no leading
    slash), following the directory symlinks the packages install (merged /usr), and
    ``root_links`` (absolute path → absolute target) the root holds outside any package's
    CONTENTS, as baselayout's ``USE=build`` lays out ``/lib64 -> usr/lib64``."""
    links = {**(root_links or {}), **_dir_symlinks(packages)}
    return lambda path: _canonical(path, links).lstrip("/")


def _choose_groups(
    packages: Sequence[InstalledPackage], layers: int, epoch: int | None
) -> tuple[list[LayerGroup], dict[str, str]]:
    ranked = _rank(p for p in packages if _has_files(p))
    room = layers - 1
    own = ranked if len(ranked) <= room else ranked[: room - 1]
    shared = [p for p in packages if p not in own]
    groups = [LayerGroup(p.key, (p.key,), _group_mtime([p], epoch), "package") for p in own]
    if len(ranked) > room:
        keys = tuple(sorted(p.key for p in shared))
        groups.append(LayerGroup(SHARED_GROUP, keys, _group_mtime(shared, epoch), "packages"))
    membership = {p.key: p.key for p in own}
    if len(ranked) > room:
        membership.update({p.key: SHARED_GROUP for p in shared})
    groups.append(LayerGroup(UNOWNED_GROUP, (), epoch, "unowned"))
    return groups, membership


def plan_layers(
    packages: Sequence[InstalledPackage],
    layers: int = DEFAULT_LAYERS,
    vdb: VdbMode = VdbMode.TRIM,
    epoch: int | None = None,
    root_links: Mapping[str, str] | None = None,
) -> LayerPlan:
    """The layer plan for a root filesystem holding ``packages``, in at most ``layers``;
    ``root_links`` are the root's directory symlinks no package lists (see path_resolver)."""
    if not 1 <= layers <= MAX_LAYERS:
        raise StavesError(
            f"layers = {layers} is out of range",
            key="layers",
            hint=f"use 1 to {MAX_LAYERS} (containerd allows {LAYER_LIMIT} layers in all; "
            f"{RESERVED_LAYERS} are left for images built on top)",
            exit_code=EXIT_USAGE,
        )
    if layers == 1:
        return LayerPlan((LayerGroup(ALL_GROUP, (), epoch, "rootfs"),), vdb)
    groups, membership = _choose_groups(packages, layers, epoch)
    resolve = path_resolver(packages, root_links)
    owners: dict[str, str] = {}
    dir_groups: dict[str, set[str]] = {}
    # Later merges (higher COUNTER) own a file that several packages list.
    for package in sorted(packages, key=lambda p: (p.counter or 0, p.key)):
        group = membership.get(package.key, UNOWNED_GROUP)
        for entry in package.contents:
            path = resolve(entry.path)
            if entry.kind == "dir":
                dir_groups.setdefault(path, set()).add(group)
            elif path:
                owners[path] = group
    dir_owners = {d: next(iter(g)) for d, g in dir_groups.items() if len(g) == 1}
    # A package without a layer (a virtual) keeps its database entry with the unowned files.
    package_groups = {p.key: membership.get(p.key, UNOWNED_GROUP) for p in packages}
    return LayerPlan(
        tuple(groups),
        vdb,
        MappingProxyType(owners),
        MappingProxyType(dir_owners),
        MappingProxyType(package_groups),
    )
