"""What differs between two builds of one image, told by the package that installed it.

A path belongs to the package whose CONTENTS lists it (the last merged, when several do) or
whose database entry it is (``var/db/pkg/CATEGORY/PF/…``); other paths were made after
emerge (ld.so.cache, locales, the compiler runtime) and belong to no package.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oci.compare import EntryDifference
from staves.gentoo.layering import VDB_DIR, path_resolver
from staves.gentoo.vdb import InstalledPackage

NO_PACKAGE = "(no package)"


@dataclass(frozen=True)
class PackageDifferences:
    package: str  # CATEGORY/PF, or NO_PACKAGE
    paths: tuple[EntryDifference, ...]


def path_owners(
    packages: Sequence[InstalledPackage], root_links: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Path in the root (no leading slash) → CATEGORY/PF of the package that installed it,
    CONTENTS paths followed through the root's directory links (see path_resolver)."""
    resolve = path_resolver(packages, root_links)
    owners: dict[str, str] = {}
    for package in sorted(packages, key=lambda p: (p.counter or 0, p.key)):
        for entry in package.contents:
            owners[resolve(entry.path)] = package.key
    return owners


def owner_of(name: str, owners: Mapping[str, str]) -> str:
    if name in owners:
        return owners[name]
    parts = name.split("/")
    if name.startswith(VDB_DIR + "/") and len(parts) >= 5:
        return f"{parts[3]}/{parts[4]}"
    return NO_PACKAGE


def by_package(
    differences: Sequence[EntryDifference],
    packages: Sequence[InstalledPackage],
    root_links: Mapping[str, str] | None = None,
) -> tuple[PackageDifferences, ...]:
    """The differences grouped by owning package, packages sorted, NO_PACKAGE last."""
    owners = path_owners(packages, root_links)
    grouped: dict[str, list[EntryDifference]] = {}
    for difference in differences:
        grouped.setdefault(owner_of(difference.name, owners), []).append(difference)
    order = sorted(grouped, key=lambda key: (key == NO_PACKAGE, key))
    return tuple(PackageDifferences(key, tuple(grouped[key])) for key in order)


def describe(groups: Sequence[PackageDifferences]) -> list[str]:
    """One line per package: ``CATEGORY/PF: path (what differs), …``."""
    return [
        f"{group.package}: " + ", ".join(f"/{d.name} ({', '.join(d.what)})" for d in group.paths)
        for group in groups
    ]
