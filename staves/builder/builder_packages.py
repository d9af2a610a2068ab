"""Packages the builder has, reused as the image's binary packages.

A stage3 already holds glibc, ncurses, bash, zlib…; a first build would compile them again
for the image root. Where the image root would build one identically — the same version,
the same USE flags, and the image configuration's make.conf no different from the
builder's (the spec adds none of its own and gives the package no environment) — and the
builder's copy is as it was installed (every file as its CONTENTS records it, and its
saved environment there to run its phases), ``quickpkg`` packs it into the image's
binary-package partition, where Portage takes it like any other binary package.

The partition remembers which of its packages came from the builder, so that the image's
provenance can say so.
"""

import hashlib
import json
import os
from pathlib import Path

from .console import run, say
from .places import BUILDER_PORTAGE

# Which packages of the partition were packed from a builder: CATEGORY/PF → the digests of
# those binary packages (BINPKGMD5, which Portage records for each binary it merges).
FROM_BUILDER_RECORD = "staves-from-builder.json"
BINARY_DIGEST = "BINPKGMD5"


def spec_changes_make_conf(plan: dict) -> bool:
    """Whether the spec gives make.conf settings of its own (or package environments):
    then the image's packages are built otherwise than the builder's were."""
    named = {*plan["files"], *plan["append"]}
    prefixes = (f"{BUILDER_PORTAGE}/make.conf", f"{BUILDER_PORTAGE}/package.env")
    return any(
        name.startswith(prefixes) and (plan["files"].get(name) or plan["append"].get(name))
        for name in named
    )


def _flags(path: Path) -> set[str]:
    try:
        words = path.read_text(encoding="utf-8").split()
    except OSError:
        return set()
    return {word.lstrip("+-") for word in words}


def same_use(entry: Path, enabled: frozenset[str], iuse: frozenset[str]) -> bool:
    """Whether the builder's copy was built with the USE flags the image's would get."""
    return _flags(entry / "USE") & iuse == set(enabled) & iuse


def as_installed(entry: Path, root: Path = Path("/")) -> bool:
    """Every regular file of the package still as its CONTENTS records it (the builder
    changed none of its configuration), and its saved environment there."""
    if not (entry / "environment.bz2").is_file():
        return False
    try:
        lines = (entry / "CONTENTS").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    for line in lines:
        if not line.startswith("obj "):
            continue
        path, digest = line[4:].rsplit(" ", 2)[:2]
        try:
            data = (root / path.lstrip("/")).read_bytes()
        except OSError:
            return False
        if hashlib.md5(data, usedforsecurity=False).hexdigest() != digest:
            return False
    return True


def reusable(
    cpv: str, enabled: frozenset[str], iuse: frozenset[str], vdb: Path = Path("/var/db/pkg")
) -> bool:
    """Whether the builder's installed ``cpv`` can stand in for the image's build of it."""
    entry = vdb / cpv
    return entry.is_dir() and same_use(entry, enabled, iuse) and as_installed(entry)


def pack_from_builder(cpvs: list[str], image_pkgdir: str) -> bool:
    """quickpkg the builder's ``cpvs`` into the image's partition; whether it worked."""
    say(f"taking from the builder, as it has them: {' '.join(cpvs)}")
    env = {**os.environ, "PKGDIR": image_pkgdir}
    argv = ["quickpkg", "--include-config=y", *(f"={cpv}" for cpv in cpvs)]
    return run(argv, env) == 0


def remember_from_builder(image_pkgdir: str, root: Path, cpvs: list[str]) -> None:
    """Record the binary packages (CATEGORY/PF and the package file's digest, as merged
    into ``root``) that were packed from the builder."""
    record = Path(image_pkgdir) / FROM_BUILDER_RECORD
    known = read_from_builder(image_pkgdir)
    for cpv in cpvs:
        digest = _read(root / "var/db/pkg" / cpv / BINARY_DIGEST)
        if digest:
            known[cpv] = sorted({*known.get(cpv, []), digest})
    record.write_text(json.dumps(known, sort_keys=True) + "\n", encoding="utf-8")


def read_from_builder(image_pkgdir: str) -> dict[str, list[str]]:
    try:
        known = json.loads((Path(image_pkgdir) / FROM_BUILDER_RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def came_from_builder(entry: Path, known: dict[str, list[str]]) -> bool:
    """Whether the merged package ``entry`` (a root's vdb entry) is one the builder gave."""
    cpv = f"{entry.parent.name}/{entry.name}"
    return _read(entry / BINARY_DIGEST) in known.get(cpv, [])


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
