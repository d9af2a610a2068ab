"""Resolve phase: what a dependency calculation decided, read before anything is merged —
the licenses it refuses, the packages compiled or taken as binaries, the builder's
libraries that would drift from the image's, the packages a kept root no longer needs."""

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from .places import BUILDER_PORTAGE

# CATEGORY/PN-VERSION: the version as Gentoo spells it (PMS 3.2).
_VERSION = r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?"
# "- app-misc/motd-1.0::gentoo (masked by: FSFAP license(s))" in emerge's explanation of
# why nothing could satisfy an atom; several reasons are separated by commas.
_LICENSE_MASKED = re.compile(r"^- (\S+?)(?:::\S+)? \(masked by: (?:.*, )?(.+?) license\(s\)")
# Which package.env environment each atom's newest binary package was built with.
PACKAGE_ENV_RECORD = "staves-package-env.json"
# The inputs of the last build into this image PKGDIR that compiled nothing. A build with
# the same inputs compiles nothing either and accepts the same licenses, so it skips the
# license check's and the drift check's dependency calculations (emerge --pretend): the
# same plan, builder and snapshot images, and the same binary packages (the two PKGDIRs'
# Packages indexes, which Portage rewrites whenever a binary package comes or goes).
ALL_BINARY_RECORD = "staves-all-binary.json"


def cpv_name(cpv: str) -> str:
    """CATEGORY/PN of CATEGORY/PN-VERSION[-rN]."""
    return re.sub(rf"-{_VERSION}$", "", cpv)


def installed_in_builder(cp: str, vdb: Path = Path("/var/db/pkg")) -> list[str]:
    """Versions of CATEGORY/PN in the builder's package database, as CATEGORY/PF."""
    category, name = cp.split("/")
    found = (vdb / category).glob(f"{name}-[0-9]*")
    return [f"{category}/{p.name}" for p in found if cpv_name(f"{category}/{p.name}") == cp]


def builder_libc(vdb: Path = Path("/var/db/pkg")) -> set[str]:
    """CATEGORY/PN of the builder's C library provider (what its virtual/libc needs)."""
    rdepend = " ".join(p.read_text() for p in (vdb / "virtual").glob("libc-*/RDEPEND"))
    return {re.sub(r"^[<>=~!]*|[:\[].*$", "", atom) for atom in rdepend.split() if "/" in atom}


# What the builder keeps as it is, whatever version the image gets: its filesystem
# skeleton (a baselayout for another root would rearrange the builder's own), and its C
# library, which ``builder_libc`` names.
BUILDER_KEEPS = frozenset({"sys-apps/baselayout", "virtual/libc"})


def drifting_build_libraries(
    image_packages: Iterable[str], vdb: Path = Path("/var/db/pkg")
) -> list[str]:
    """Packages the image holds (CATEGORY/PF, installed in it or merged now) that the
    builder has at another version, when something is compiled: the builder gets the
    image's version first, so that nothing is compiled against a library (or subslot) the
    image will not have. The C library stays as it is: what is built against an older
    glibc runs on a newer one, and Portage records that (">=") in each binary package."""
    keeps = BUILDER_KEEPS | builder_libc(vdb)
    drifting = []
    for cpv in sorted(image_packages):
        installed = installed_in_builder(cpv_name(cpv), vdb)
        if installed and cpv not in installed and cpv_name(cpv) not in keeps:
            drifting.append(f"={cpv}")
    return drifting


def license_refusals(output: str) -> list[tuple[str, str]]:
    """(package, licenses) for each package emerge says ACCEPT_LICENSE masks."""
    found = (_LICENSE_MASKED.match(line.strip()) for line in output.splitlines())
    return list(dict.fromkeys((m[1], m[2]) for m in found if m))


def installed_slots(root: Path) -> set[str]:
    """CATEGORY/PN:SLOT of every package in a root's package database."""
    found = set()
    for entry in (root / "var/db/pkg").glob("*/*"):
        try:
            slot = (entry / "SLOT").read_text(encoding="utf-8").split("/")[0].strip()
        except OSError:
            continue
        found.add(f"{cpv_name(f'{entry.parent.name}/{entry.name}')}:{slot}")
    return found


def left_behind(root: Path, reached: frozenset[str]) -> list[str]:
    """The slots installed in ``root`` that the calculation no longer reached: packages the
    image does not need any more."""
    return sorted(installed_slots(root) - reached)


def package_envs(plan: dict) -> dict[str, str]:
    """Atom -> digest of the environments package.env gives it (names and contents)."""
    lines = plan["files"].get(f"{BUILDER_PORTAGE}/package.env/staves", "")
    envs = {}
    for line in lines.splitlines():
        if line.strip() and not line.startswith("#"):
            atom, *names = line.split()
            texts = [plan["files"].get(f"{BUILDER_PORTAGE}/env/{name}", "") for name in names]
            envs[atom] = hashlib.sha256(json.dumps([names, texts]).encode()).hexdigest()[:16]
    return envs


def changed_envs(record: Path, envs: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Atoms whose environment differs from the one their binary package was built with
    (Portage does not look), and the record to keep once this build has succeeded."""
    try:
        built = json.loads(record.read_text())
    except (OSError, ValueError):
        built = {}
    now = {atom: envs.get(atom, "") for atom in {*built, *envs}}
    changed = sorted(atom for atom, digest in now.items() if built.get(atom, "") != digest)
    return changed, {atom: digest for atom, digest in now.items() if digest}


def merge_inputs(plan: dict, pkgdirs: tuple[str, ...]) -> str | None:
    """A digest of what decides emerge's merge list; None without the images' IDs."""
    if not plan["inputs"]:
        return None
    # Not the helpers: they compile what the builder would (checked before the build).
    shaping = {k: v for k, v in plan.items() if k not in ("jobs", "lease", "distcc")}
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode())
    for pkgdir in pkgdirs:
        try:
            digest.update((Path(pkgdir) / "Packages").read_bytes())
        except OSError:
            digest.update(b"no index")
    return digest.hexdigest()


def compiled_nothing_before(record: Path, inputs: str | None) -> bool:
    try:
        return inputs is not None and record.read_text().strip() == inputs
    except OSError:
        return False


def remember_all_binary(record: Path, inputs: str | None) -> None:
    if inputs is None:
        record.unlink(missing_ok=True)
    else:
        record.write_text(inputs + "\n")
