"""``patches = [...]`` in a package table: the files read from beside the spec, and where
Portage's eapply_user looks for them (``/etc/portage/patches/CATEGORY/PN[-PV[-rN]][:SLOT]``
of the image's configuration root).

eapply_user (Portage's phase-helpers.sh) applies, in src_prepare of every EAPI 6+ ebuild,
the ``*.patch`` and ``*.diff`` files of the directories named after the package being
built — ``CATEGORY/PN``, ``CATEGORY/P`` (any revision) and ``CATEGORY/P-PR`` (one revision),
each also with ``:SLOT`` — in the POSIX order of their names. So an atom maps to one
directory when it names a package, ``~`` a version or ``=`` a version and revision, and a
slot; other operators match several versions no directory names.
"""

import base64
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from staves.gentoo.atom import Atom, AtomError, parse_atom
from staves.spec import fields
from staves.spec.errors import Collector
from staves.spec.errors import Path as KeyPath
from staves.spec.model import PackageConfig, Patch, Spec

PATCHES_DIR = "/etc/portage/patches"
# The suffixes eapply_user applies; it skips any other file.
PATCH_SUFFIXES = (".patch", ".diff")
# A patch is read whole into the build plan: large backports are a few MiB.
MAX_PATCH_BYTES = 16 << 20
PATCHES_HINT = (
    'paths of *.patch or *.diff files relative to the spec, e.g. patches = ["patches/fix.patch"]'
)


class NoDirectory(ValueError):
    """No eapply_user directory matches exactly the packages the atom names."""


def patch_directory(atom: Atom) -> str:
    """The directory under ``/etc/portage/patches`` whose patches eapply_user applies to
    the packages ``atom`` names: ``CATEGORY/PN``, ``CATEGORY/PN-PV`` for ``~``,
    ``CATEGORY/PN-PV-rN`` for ``=`` (``-r0`` when the atom gives no revision), each with
    ``:SLOT`` when the atom names one."""
    if atom.repo is not None:
        raise NoDirectory("names a repository, which eapply_user cannot tell apart")
    if atom.subslot is not None:
        raise NoDirectory("names a subslot; eapply_user matches the slot alone")
    name = atom.package
    if atom.operator == "~" and atom.version is not None:
        name = f"{atom.package}-{atom.version.split('-r')[0]}"
    elif atom.operator == "=" and atom.version is not None and not atom.wildcard:
        revision = "" if "-r" in atom.version else "-r0"
        name = f"{atom.package}-{atom.version}{revision}"
    elif atom.operator is not None:
        raise NoDirectory(
            f"matches versions with {atom.operator}{'*' if atom.wildcard else ''}, "
            "and eapply_user matches one version or all"
        )
    slot = f":{atom.slot}" if atom.slot else ""
    return f"{atom.category}/{name}{slot}"


def read_patches(
    out: Collector, path: KeyPath, atom_text: str, value: object, base: Path
) -> tuple[Patch, ...] | None:
    """The patch files a package table lists, each read from ``base`` (the spec's
    directory) and checked: there, inside it, a regular file named as eapply_user applies."""
    texts = fields.each(out, path, value, "patch paths", lambda p, v: fields.string(out, p, v))
    if texts is None:
        return None
    try:
        patch_directory(parse_atom(atom_text))
    except AtomError:
        return None  # the table's key is reported already
    except NoDirectory as exc:
        if texts:
            out.add(
                path,
                f"{atom_text!r} {exc}",
                "give patches in a table keyed CATEGORY/PN, ~CATEGORY/PN-PV or "
                "=CATEGORY/PN-PV[-rN], optionally with :SLOT",
            )
            return None
    patches = [_read_one(out, (*path, index), text, base) for index, text in enumerate(texts)]
    if any(patch is None for patch in patches):
        return None
    return tuple(patch for patch in patches if patch is not None)


def _read_one(out: Collector, path: KeyPath, text: str, base: Path) -> Patch | None:
    if not text or "\x00" in text:
        out.add(path, "is empty or holds a NUL character", PATCHES_HINT)
        return None
    if text.startswith("/"):
        out.add(path, f"{text!r} is an absolute path", PATCHES_HINT)
        return None
    if not text.endswith(PATCH_SUFFIXES):
        out.add(path, f"{text!r} is not named *.patch or *.diff", "eapply_user applies no other")
        return None
    top = Path(os.path.realpath(base))
    target = Path(os.path.realpath(base / text))
    if target != top and top not in target.parents:
        out.add(
            path,
            f"{text!r} is outside the spec's directory {os.path.abspath(base)}",
            "keep patches in the spec's directory tree, e.g. patches/NAME.patch",
        )
        return None
    data = _read_file(out, path, text, target, base)
    if data is None:
        return None
    return Patch(path=text, sha256=hashlib.sha256(data).hexdigest(), data=data)


def _read_file(out: Collector, path: KeyPath, text: str, target: Path, base: Path) -> bytes | None:
    try:
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            out.add(path, f"{text!r} is not a regular file", PATCHES_HINT)
            return None
        with target.open("rb") as file:
            data = file.read(MAX_PATCH_BYTES + 1)
    except FileNotFoundError:
        where = os.path.abspath(base)
        out.add(path, f"no such file: {text}", f"patch paths are relative to the spec's, {where}")
        return None
    except OSError as exc:
        out.add(path, f"cannot read {text}: {exc.strerror}", "check the path and permissions")
        return None
    if len(data) > MAX_PATCH_BYTES:
        out.add(path, f"{text!r} is over {MAX_PATCH_BYTES >> 20} MiB", "split it")
        return None
    if not data.strip():
        # An empty patch in eapply_user's directories cancels one of the same name.
        out.add(path, f"{text!r} is empty", "list patches that change something")
        return None
    return data


def patch_name(position: int, patch: Patch) -> str:
    """The copy's name in its directory: eapply_user applies the patches of all its
    directories in the order of their names, so the spec's order is kept by each patch's
    place among all of the spec's patches, in front (no two copies share a name, and none
    stands in for another as a same-named file of a more specific directory would)."""
    return f"{position:03d}-{Path(patch.path).name}"


def patch_entries(configs: tuple[PackageConfig, ...]) -> list[dict[str, Any]]:
    """The plan's ``patches``: for each file, its directory and name under
    /etc/portage/patches, the path the spec gives, its sha256 and its content (base64)."""
    entries: list[dict[str, Any]] = []
    for config in configs:
        if not config.patches:
            continue
        directory = patch_directory(parse_atom(config.atom))
        for patch in config.patches:
            entries.append(
                {
                    "atom": config.atom,
                    "directory": directory,
                    "name": patch_name(len(entries) + 1, patch),
                    "source": patch.path,
                    "sha256": patch.sha256,
                    "data": base64.b64encode(patch.data).decode("ascii"),
                }
            )
    return entries


def listed_patches(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's patches without their content: what a dry run shows."""
    return [{k: v for k, v in entry.items() if k != "data"} for entry in plan.get("patches", [])]


def has_patches(spec: Spec) -> bool:
    return any(config.patches for config in spec.package_config)
