"""A patched build's binary-package partition starts from the unpatched build's: the user
patches key a partition of their own (a patched and an unpatched build never share a
binary package of a patched package), and every package no patch touches is built there
exactly as in the partition without patches — same configuration, build dependencies
from the builder — so its binary packages are taken from there (hard links, indexed by
Portage) instead of compiled again. Changing one package's patch recompiles that package,
not the image."""

import json
import os
import shutil
from pathlib import Path

from .builder_packages import FROM_BUILDER_RECORD, read_from_builder
from .console import say
from .partition import index_partition
from .resolve import cpv_name

# Binary packages as Portage names them: gpkg, and xpak (binpkg-multi-instance or not).
PACKAGE_SUFFIXES = (".gpkg.tar", ".xpak", ".tbz2")


def _package_of(relative: Path) -> str | None:
    """CATEGORY/PN of a binary package's path in its partition: CATEGORY/PN/PF-N.gpkg.tar
    (binpkg-multi-instance) or CATEGORY/PF.tbz2."""
    parts = relative.parts
    if len(parts) == 3:
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 2:
        stem = next(parts[1][: -len(s)] for s in PACKAGE_SUFFIXES if parts[1].endswith(s))
        return cpv_name(f"{parts[0]}/{stem}")
    return None


def touched(package: str, directories: frozenset[str]) -> bool:
    """Whether a patch directory (CATEGORY/PN, CATEGORY/PN-PV…, slot stripped) names
    CATEGORY/PN ``package``, whatever version."""
    return any(cpv_name(directory) == package for directory in directories)


def take_unpatched(base: str, target: str, directories: frozenset[str]) -> list[str]:
    """Link into ``target`` every binary package of ``base`` that ``target`` lacks and
    no patch directory touches; the paths linked, relative to the partition."""
    top = Path(base)
    if not top.is_dir():
        return []
    linked = []
    for path in sorted(top.rglob("*")):
        if path.name.startswith(".") or not path.name.endswith(PACKAGE_SUFFIXES):
            continue  # Portage's temporary files and its index
        relative = path.relative_to(top)
        package = _package_of(relative)
        if package is None or touched(package, directories) or not path.is_file():
            continue
        destination = Path(target) / relative
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except FileExistsError:
            continue  # a build beside this one linked it first
        except OSError:
            shutil.copy2(path, destination)
        linked.append(str(relative))
    return linked


def start_from_unpatched(base: str, target: str, directories: frozenset[str]) -> None:
    """Take the unpatched partition's packages no patch touches, with the record of those
    the builder gave (for the provenance), and index the partition for Portage."""
    linked = take_unpatched(base, target, directories)
    if not linked:
        return
    say(f"binary packages no patch touches, from the unpatched build's partition: {len(linked)}")
    known = read_from_builder(target)
    for cpv, digests in read_from_builder(base).items():
        known[cpv] = sorted({*known.get(cpv, []), *digests})
    record = Path(target) / FROM_BUILDER_RECORD
    record.write_text(json.dumps(known, sort_keys=True) + "\n", encoding="utf-8")
    index_partition((target,))
