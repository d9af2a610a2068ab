"""Reading Portage's installed-package database (``/var/db/pkg``, the "vdb").

Each ``CATEGORY/PF/`` directory holds one file per piece of metadata (USE, LICENSE, SIZE,
…) and ``CONTENTS``, the files the package installed. The vdb is given as a directory or
as a tar stream whose members end in ``CATEGORY/PF/FILE``. Pure: no Portage needed.
"""

import bz2
import re
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from staves.errors import StavesError

# The vdb files read; the others (environment.bz2, *DEPEND, …) are not needed here.
METADATA_FILES = frozenset(
    {
        "CONTENTS",
        "USE",
        "IUSE",
        "LICENSE",
        "CFLAGS",
        "CXXFLAGS",
        "LDFLAGS",
        "CHOST",
        "BUILD_TIME",
        "BUILD_ID",
        "SIZE",
        "SLOT",
        "repository",
        "COUNTER",
        "DESCRIPTION",
        "HOMEPAGE",
        "RDEPEND",
        "PROPERTIES",
    }
)

# The package's saved build environment: read only for the SOURCE_DATE_EPOCH it was built
# with and its SRC_URI (the database keeps no SRC_URI file).
ENVIRONMENT_FILE = "environment.bz2"
BUILT_EPOCH = "SOURCE_DATE_EPOCH"  # the name it is kept under among the metadata texts
SRC_URI = "SRC_URI"
# As bash's declare -p writes them into the environment Portage saves.
_EPOCH_DECLARED = re.compile(rb'^declare -x SOURCE_DATE_EPOCH="?(\d+)"?$', re.MULTILINE)
_SRC_URI_DECLARED = re.compile(rb'^declare -\S+ SRC_URI="((?:[^"\\]|\\.)*)"$', re.MULTILINE)
_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)

# PMS 3.2: a version, with an optional revision.
_VERSION = r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*"
_PF_RE = re.compile(
    rf"^(?P<pn>[A-Za-z0-9_][A-Za-z0-9+_-]*?)-(?P<pv>{_VERSION})(?:-r(?P<rev>\d+))?$"
)
_CATEGORY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9+_.-]*$")


class VdbError(StavesError):
    """The package database is not what Portage writes."""


@dataclass(frozen=True)
class ContentsEntry:
    """One CONTENTS line: ``dir PATH``, ``obj PATH MD5 MTIME``, ``sym PATH -> TARGET MTIME``
    (also ``dev PATH`` and ``fif PATH``). Paths are absolute, as Portage writes them."""

    kind: str
    path: str
    md5: str | None = None
    mtime: int | None = None
    target: str | None = None


@dataclass(frozen=True)
class InstalledPackage:
    category: str
    pf: str
    pn: str
    pv: str
    pvr: str
    slot: str = "0"
    repository: str | None = None
    use: tuple[str, ...] = ()  # enabled flags, as USE lists them
    iuse: tuple[str, ...] = ()  # flags the ebuild has, defaults (+/-) stripped
    license: str = ""
    cflags: str | None = None
    cxxflags: str | None = None
    ldflags: str | None = None
    chost: str | None = None
    build_time: int | None = None
    # SOURCE_DATE_EPOCH in the package's build environment, when it had one.
    built_epoch: int | None = None
    build_id: str | None = None
    size: int | None = None
    counter: int | None = None
    description: str | None = None
    homepage: str | None = None
    contents: tuple[ContentsEntry, ...] = ()
    rdepend: str = ""  # as the database keeps it: USE conditionals evaluated
    src_uri: str = ""  # from the saved build environment, as the ebuild wrote it
    properties: tuple[str, ...] = ()  # PROPERTIES, USE conditionals evaluated

    @property
    def live(self) -> bool:
        """Built from its upstream's branch (``PROPERTIES=live``), whatever came before."""
        return "live" in self.properties

    @property
    def key(self) -> str:
        """``CATEGORY/PF``, unique among installed packages."""
        return f"{self.category}/{self.pf}"

    @property
    def cp(self) -> str:
        return f"{self.category}/{self.pn}"

    @property
    def enabled_use(self) -> tuple[str, ...]:
        """The IUSE flags that are on (USE also holds profile flags such as arch names)."""
        on = set(self.use)
        return tuple(sorted(f for f in self.iuse if f in on))

    @property
    def disabled_use(self) -> tuple[str, ...]:
        on = set(self.use)
        return tuple(sorted(f for f in self.iuse if f not in on))


def split_pf(pf: str) -> tuple[str, str, str]:
    """``PF`` into (PN, PV, PVR): ``foo-bar-1.2_rc1-r3`` → (foo-bar, 1.2_rc1, 1.2_rc1-r3)."""
    match = _PF_RE.match(pf)
    if match is None:
        raise VdbError(f"{pf!r} is not PN-VERSION[-rN]")
    pv = match["pv"]
    pvr = f"{pv}-r{match['rev']}" if match["rev"] is not None else pv
    return match["pn"], pv, pvr


def parse_contents_line(line: str) -> ContentsEntry | None:
    """One CONTENTS line; None for a blank one. Paths may hold spaces: ``obj`` and ``sym``
    are read from the right."""
    line = line.rstrip("\n")
    if not line.strip():
        return None
    kind, _, rest = line.partition(" ")
    try:
        if kind == "obj":
            path, md5, mtime = rest.rsplit(" ", 2)
            return ContentsEntry("obj", path, md5=md5, mtime=int(mtime))
        if kind == "sym":
            link, mtime = rest.rsplit(" ", 1)
            path, arrow, target = link.partition(" -> ")
            if not arrow:
                raise ValueError("no ' -> '")
            return ContentsEntry("sym", path, target=target, mtime=int(mtime))
        if kind in ("dir", "dev", "fif"):
            return ContentsEntry(kind, rest)
    except ValueError as exc:
        raise VdbError(f"CONTENTS line {line!r} is not valid: {exc}") from exc
    raise VdbError(f"CONTENTS line {line!r} has unknown type {kind!r}")


def parse_contents(text: str) -> tuple[ContentsEntry, ...]:
    entries = (parse_contents_line(line) for line in text.splitlines())
    return tuple(e for e in entries if e is not None)


def _int(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _text(files: Mapping[str, str], name: str) -> str | None:
    value = files.get(name)
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _strip_default(flag: str) -> str:
    return flag[1:] if flag[:1] in "+-" else flag


def package_from_files(category: str, pf: str, files: Mapping[str, str]) -> InstalledPackage:
    """An InstalledPackage from the text of its vdb files (name → content)."""
    if not _CATEGORY_RE.match(category):
        raise VdbError(f"{category!r} is not a package category")
    pn, pv, pvr = split_pf(pf)
    return InstalledPackage(
        category=category,
        pf=pf,
        pn=pn,
        pv=pv,
        pvr=pvr,
        slot=_text(files, "SLOT") or "0",
        repository=_text(files, "repository"),
        use=tuple(files.get("USE", "").split()),
        iuse=tuple(sorted({_strip_default(f) for f in files.get("IUSE", "").split()})),
        license=_text(files, "LICENSE") or "",
        cflags=_text(files, "CFLAGS"),
        cxxflags=_text(files, "CXXFLAGS"),
        ldflags=_text(files, "LDFLAGS"),
        chost=_text(files, "CHOST"),
        build_time=_int(files.get("BUILD_TIME")),
        built_epoch=_int(files.get(BUILT_EPOCH)),
        build_id=_text(files, "BUILD_ID"),
        size=_int(files.get("SIZE")),
        counter=_int(files.get("COUNTER")),
        description=_text(files, "DESCRIPTION"),
        homepage=_text(files, "HOMEPAGE"),
        contents=parse_contents(files.get("CONTENTS", "")),
        rdepend=" ".join(files.get("RDEPEND", "").split()),
        src_uri=" ".join(files.get(SRC_URI, "").split()),
        properties=tuple(files.get("PROPERTIES", "").split()),
    )


def epoch_of_environment(compressed: bytes) -> str | None:
    """The SOURCE_DATE_EPOCH exported in a saved build environment (environment.bz2)."""
    return dict(_environment_texts(compressed)).get(BUILT_EPOCH) or None


# A saved build environment is a few hundred KiB; one that expands past this is none that
# Portage wrote (a bz2 bomb in an image's layer) and is not read.
MAX_ENVIRONMENT = 64 << 20


def _decompressed(compressed: bytes) -> bytes | None:
    decompressor = bz2.BZ2Decompressor()
    try:
        data = decompressor.decompress(compressed, max_length=MAX_ENVIRONMENT + 1)
    except (OSError, ValueError, EOFError):
        return None
    return None if len(data) > MAX_ENVIRONMENT else data


def _environment_texts(compressed: bytes) -> list[tuple[str, str]]:
    """What is read of a saved build environment: SOURCE_DATE_EPOCH and SRC_URI; nothing
    from one that does not decompress or decompresses past MAX_ENVIRONMENT."""
    environment = _decompressed(compressed)
    if environment is None:
        return []
    out = []
    if epoch := _EPOCH_DECLARED.search(environment):
        out.append((BUILT_EPOCH, epoch[1].decode()))
    if src_uri := _SRC_URI_DECLARED.search(environment):
        out.append((SRC_URI, _decode(_ESCAPED.sub(rb"\1", src_uri[1]))))
    return out


def metadata_texts(name: str, data: bytes) -> list[tuple[str, str]]:
    """A vdb file as the (name, text) pairs it is kept under."""
    if name == ENVIRONMENT_FILE:
        return _environment_texts(data)
    return [(name, _decode(data))]


def _decode(data: bytes) -> str:
    # Portage writes UTF-8; odd bytes in file names survive as surrogates.
    return data.decode("utf-8", "surrogateescape")


def _packages(
    found: Mapping[tuple[str, str], Mapping[str, str]],
) -> tuple[InstalledPackage, ...]:
    return tuple(
        package_from_files(category, pf, files) for (category, pf), files in sorted(found.items())
    )


def read_vdb_dir(root: Path) -> tuple[InstalledPackage, ...]:
    """The packages under ``root`` (a ``/var/db/pkg`` directory), sorted by CATEGORY/PF."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for pkg_dir in sorted(root.glob("*/*")):
        if not pkg_dir.is_dir() or pkg_dir.name.startswith((".", "-")):
            continue  # Portage's lock and merge directories start with '.' or '-MERGING-'
        files = dict(
            pair
            for name in (*METADATA_FILES, ENVIRONMENT_FILE)
            if (pkg_dir / name).is_file()
            for pair in metadata_texts(name, (pkg_dir / name).read_bytes())
        )
        found[(pkg_dir.parent.name, pkg_dir.name)] = files
    return _packages(found)


def _vdb_members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, list[str]]]:
    for info in tar:
        parts = [p for p in info.name.split("/") if p not in ("", ".")]
        yield info, parts


READ_FILES = METADATA_FILES | {ENVIRONMENT_FILE}


def read_vdb_tar(stream: BinaryIO, strip_components: int = 0) -> tuple[InstalledPackage, ...]:
    """The packages in a tar stream whose members (after ``strip_components``) are
    ``CATEGORY/PF/FILE``, such as Podman's archive of ``/var/db/pkg`` (strip 1)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|*", encoding="utf-8") as tar:
            for info, parts in _vdb_members(tar):
                rel = parts[strip_components:]
                if len(rel) == 2 and info.isdir() and not rel[1].startswith((".", "-")):
                    found.setdefault((rel[0], rel[1]), {})
                if len(rel) != 3 or not info.isreg() or rel[2] not in READ_FILES:
                    continue
                if rel[1].startswith((".", "-")):
                    continue
                data = tar.extractfile(info)
                if data is not None:
                    entry = found.setdefault((rel[0], rel[1]), {})
                    entry.update(metadata_texts(rel[2], data.read()))
    except tarfile.TarError as exc:
        raise VdbError(f"the package database archive is not a valid tar: {exc}") from exc
    return _packages(found)


def packages_by_key(packages: Iterable[InstalledPackage]) -> dict[str, InstalledPackage]:
    return {p.key: p for p in packages}
