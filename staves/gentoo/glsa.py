"""Gentoo Linux Security Advisories (GLSAs) and which installed packages they affect. Pure.

A snapshot of the Gentoo repository carries them as ``metadata/glsa/glsa-YYYYMM-NN.xml``
(``glsa.dtd``). Each ``<affected>`` holds ``<package name="CATEGORY/PN" auto="yes|no"
arch="* | amd64 x86 …">`` elements with ``<vulnerable>`` and ``<unaffected>`` version
ranges: ``range`` is ``ge gt le lt eq`` (the version compared as Portage does) or
``rge rgt rle rlt`` (the same version, its revision compared), and an optional ``slot``
("*": any). An installed package is affected by a ``<package>`` when its arch is listed,
a vulnerable range matches it and no unaffected range does — as Portage's glsa-check
decides it.
"""

import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from staves.gentoo.versions import Version, VersionError, compare, parse_version

# How each range reads as an atom operator (the r* ranges as Portage's glsa-check writes
# them: the same version, any revision, compared by revision).
RANGE_OPERATORS = {
    "ge": ">=",
    "gt": ">",
    "le": "<=",
    "lt": "<",
    "eq": "=",
    "rge": ">=~",
    "rgt": ">~",
    "rle": "<=~",
    "rlt": "<~",
}
_ORDER_TESTS = {
    ">=": lambda order: order >= 0,
    ">": lambda order: order > 0,
    "<=": lambda order: order <= 0,
    "<": lambda order: order < 0,
    "=": lambda order: order == 0,
}


GLSA_DIR = "metadata/glsa"  # in an ebuild repository
_GLSA_NAME = re.compile(r"^glsa-\d{6}-\d{2,}\.xml$")
FILE_LIMIT = 4 << 20  # Gentoo's largest advisories are a few hundred KiB
# OCI's architecture names → Gentoo's ARCH, which an advisory's arch attribute lists.
GENTOO_ARCHES = {
    "amd64": "amd64",
    "386": "x86",
    "arm64": "arm64",
    "arm": "arm",
    "ppc64le": "ppc64",
    "ppc64": "ppc64",
    "riscv64": "riscv",
    "s390x": "s390",
    "loong64": "loong",
    "mips64le": "mips",
}


class GlsaError(ValueError):
    """A GLSA file that is not what glsa.dtd describes."""


@dataclass(frozen=True)
class VersionRange:
    """One ``<vulnerable>`` or ``<unaffected>`` element."""

    range: str  # a key of RANGE_OPERATORS
    version: str
    slot: str | None = None  # None: any slot

    def __str__(self) -> str:
        slot = f":{self.slot}" if self.slot else ""
        return f"{RANGE_OPERATORS[self.range]}{self.version}{slot}"

    def matches(self, installed: Version, slot: str) -> bool:
        """Whether the installed version, in ``slot`` (``SLOT[/SUBSLOT]``), is in range."""
        if not _slot_matches(self.slot, slot):
            return False
        wanted = parse_version(self.version)
        operator = RANGE_OPERATORS[self.range]
        if operator.endswith("~"):
            # Portage's "~": the version as written, any revision; then the revisions.
            if installed.base != wanted.base:
                return False
            order = (installed.revision > wanted.revision) - (installed.revision < wanted.revision)
            return _ORDER_TESTS[operator[:-1]](order)
        return _ORDER_TESTS[operator](compare(installed, wanted))


def _slot_matches(wanted: str | None, slot: str) -> bool:
    if wanted is None:
        return True
    main, _, sub = slot.partition("/")
    wanted_main, _, wanted_sub = wanted.partition("/")
    return main == wanted_main and (not wanted_sub or sub == wanted_sub)


@dataclass(frozen=True)
class AffectedPackage:
    """One ``<package>`` of an advisory's ``<affected>``."""

    name: str  # CATEGORY/PN
    arches: tuple[str, ...]  # ("*",) for every arch
    auto: bool
    vulnerable: tuple[VersionRange, ...]
    unaffected: tuple[VersionRange, ...]

    def affects(self, version: str, slot: str, arch: str) -> bool:
        """Whether an installed ``version`` in ``slot`` on ``arch`` is vulnerable."""
        if "*" not in self.arches and arch not in self.arches:
            return False
        installed = parse_version(version)
        return any(r.matches(installed, slot) for r in self.vulnerable) and not any(
            r.matches(installed, slot) for r in self.unaffected
        )


@dataclass(frozen=True)
class Advisory:
    """One GLSA: its id (``202611-01``), what it is about and the packages it affects."""

    id: str
    title: str
    synopsis: str
    severity: str  # <impact type=…>: low, normal or high
    announced: str
    revised: str
    bugs: tuple[str, ...]
    packages: tuple[AffectedPackage, ...]


def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _range(element: ET.Element, name: str) -> VersionRange:
    kind = element.get("range", "")
    if kind not in RANGE_OPERATORS:
        raise GlsaError(f"{name}: range {kind!r} is not one of {', '.join(RANGE_OPERATORS)}")
    version = _text(element)
    try:
        parse_version(version)
    except VersionError as exc:
        raise GlsaError(f"{name}: {exc}") from None
    slot = (element.get("slot") or "").strip()
    return VersionRange(kind, version, None if slot in ("", "*") else slot)


def _package(element: ET.Element) -> AffectedPackage:
    name = element.get("name", "")
    if name.count("/") != 1:
        raise GlsaError(f"package name {name!r} is not CATEGORY/PN")
    return AffectedPackage(
        name=name,
        arches=tuple((element.get("arch") or "*").split()),
        auto=element.get("auto") == "yes",
        vulnerable=tuple(_range(e, name) for e in element.findall("vulnerable")),
        unaffected=tuple(_range(e, name) for e in element.findall("unaffected")),
    )


def parse_glsa(data: bytes) -> Advisory:
    """An advisory from a GLSA file's bytes (entities are never resolved)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise GlsaError(f"not XML: {exc}") from None
    if root.tag != "glsa" or not root.get("id"):
        raise GlsaError("not a GLSA: the root is not <glsa id=…>")
    impact = root.find("impact")
    return Advisory(
        id=root.get("id", ""),
        title=_text(root.find("title")),
        synopsis=_text(root.find("synopsis")),
        severity=impact.get("type", "") if impact is not None else "",
        announced=_text(root.find("announced")),
        revised=_text(root.find("revised")),
        bugs=tuple(_text(b) for b in root.findall("bug")),
        packages=tuple(_package(p) for p in root.findall("affected/package")),
    )


@dataclass(frozen=True)
class Installed:
    """What an audit needs of an installed package."""

    name: str  # CATEGORY/PN
    version: str  # PVR
    slot: str  # SLOT[/SUBSLOT]


@dataclass(frozen=True)
class Finding:
    """An advisory that applies to an installed package."""

    advisory: Advisory
    package: Installed
    affected: tuple[VersionRange, ...]  # the vulnerable ranges of its <package> entries
    fixed: tuple[VersionRange, ...]  # the unaffected ranges: versions to upgrade to


def findings(
    installed: Iterable[Installed], advisories: Sequence[Advisory], arch: str
) -> list[Finding]:
    """Every (advisory, package) where the advisory applies to the installed version,
    sorted by advisory id and package."""
    by_name: dict[str, list[Installed]] = {}
    for package in installed:
        by_name.setdefault(package.name, []).append(package)
    found = []
    for advisory in advisories:
        for name in sorted({entry.name for entry in advisory.packages}):
            entries = [e for e in advisory.packages if e.name == name]
            for package in sorted(by_name.get(name, []), key=lambda p: p.version):
                if any(_affects(e, package, arch) for e in entries):
                    found.append(
                        Finding(
                            advisory,
                            package,
                            tuple(r for e in entries for r in e.vulnerable),
                            tuple(r for e in entries for r in e.unaffected),
                        )
                    )
    return sorted(found, key=lambda f: (f.advisory.id, f.package.name, f.package.version))


def _affects(entry: AffectedPackage, package: Installed, arch: str) -> bool:
    try:
        return entry.affects(package.version, package.slot, arch)
    except VersionError:
        return False  # not a version Portage could have installed


def gentoo_arch(oci_architecture: str) -> str:
    """Gentoo's ARCH for an OCI architecture (``386`` → ``x86``); unknown ones as given."""
    return GENTOO_ARCHES.get(oci_architecture, oci_architecture)


def advisories_in_tar(stream: BinaryIO) -> tuple[list[Advisory], list[str]]:
    """The advisories of a tar of a ``metadata/glsa`` directory, by id, and a line for
    each file that could not be read (skipped, as glsa-check skips them)."""
    advisories, problems = [], []
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            name = member.name.rsplit("/", 1)[-1]
            if not member.isreg() or not _GLSA_NAME.match(name):
                continue
            data = tar.extractfile(member)
            if data is None:
                continue
            try:
                advisories.append(parse_glsa(data.read(FILE_LIMIT)))
            except GlsaError as exc:
                problems.append(f"{name}: {exc}")
    return sorted(advisories, key=lambda a: a.id), problems
