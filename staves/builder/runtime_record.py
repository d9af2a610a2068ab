"""The compiler runtime the image-root phase copied from the builder, entered in the root's
package database under the builder's package that installed it (sys-devel/gcc: its
version, license and flags) with only the copied files, so that Portage, scanners and the
SBOM know whose files they are."""

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .console import say
from .record import read_text

# What an entry made for copied runtime libraries keeps of the builder's own entry: what
# the package is, how it was built, its license; not its CONTENTS, dependencies or
# build environment, which are the whole compiler's.
RUNTIME_ENTRY_FILES = (
    "CATEGORY",
    "PF",
    "SLOT",
    "EAPI",
    "KEYWORDS",
    "repository",
    "LICENSE",
    "DESCRIPTION",
    "HOMEPAGE",
    "IUSE",
    "IUSE_EFFECTIVE",
    "USE",
    "CHOST",
    "CBUILD",
    "CFLAGS",
    "CXXFLAGS",
    "LDFLAGS",
    "BUILD_TIME",
)


def contents_paths(contents: Path) -> Iterator[str]:
    """The ``obj`` and ``sym`` paths of a CONTENTS file."""
    for line in contents.read_text(encoding="utf-8", errors="replace").splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "obj":
            yield rest.rsplit(" ", 2)[0]
        elif kind == "sym":
            yield rest.rsplit(" ", 1)[0].partition(" -> ")[0]


def builder_owner(found: str, vdb: Path) -> Path | None:
    """The builder's package database entry that installed the file ``found`` (compared
    where each resolves to: CONTENTS names it through /lib or a soname's link)."""
    real = os.path.realpath(found)
    names = {os.path.basename(found), os.path.basename(real)}
    for contents in sorted(vdb.glob("*/*/CONTENTS")):
        for path in contents_paths(contents):
            if os.path.basename(path) in names and os.path.realpath(path) == real:
                return contents.parent
    return None


def record_compiler_runtime(
    root: Path, copied: list[tuple[Path, str]], builder_vdb: Path = Path("/var/db/pkg")
) -> list[str]:
    """Enter the copied libraries in the root's package database under the builder's
    package that installed them (sys-devel/gcc, its version, license and flags), with
    only their files in CONTENTS, so that Portage, scanners and the SBOM know them; the
    CATEGORY/PF of each entry made."""
    owners: dict[Path, list[Path]] = {}
    for copy, found in copied:
        owner = builder_owner(found, builder_vdb)
        if owner is None:
            say(f"note: no package of the builder installed {found}")
            continue
        owners.setdefault(owner, []).append(copy)
    vdb = root / "var/db/pkg"
    counters = [read_text(p) for p in vdb.glob("*/*/COUNTER")]
    counter = max((int(c) for c in counters if c.isdigit()), default=0)
    made = []
    for owner, files in sorted(owners.items()):
        key = f"{owner.parent.name}/{owner.name}"
        entry = vdb / key
        if entry.exists():
            continue  # the root has that very package
        entry.mkdir(parents=True)
        for name in RUNTIME_ENTRY_FILES:
            if (owner / name).is_file():
                shutil.copyfile(owner / name, entry / name)
        counter += 1
        (entry / "COUNTER").write_text(f"{counter}\n")
        (entry / "SIZE").write_text(f"{sum(f.stat().st_size for f in files)}\n")
        (entry / "CONTENTS").write_text(runtime_contents(root, files), encoding="utf-8")
        provides = runtime_provides(read_text(owner / "PROVIDES"), {f.name for f in files})
        if provides:
            (entry / "PROVIDES").write_text(provides + "\n")
        made.append(key)
        say(f"recorded {', '.join(f.name for f in files)} as {key} (the builder's)")
    return made


def runtime_contents(root: Path, files: list[Path]) -> str:
    """CONTENTS for ``files`` of the root: their directories, then each ``obj`` with its
    MD5 and mtime, as Portage writes them."""
    relative = [f.relative_to(root) for f in files]
    dirs = {f"/{parent}" for rel in relative for parent in rel.parents if str(parent) != "."}
    lines = [f"dir {d}" for d in sorted(dirs)]
    for path in sorted(files):
        md5 = hashlib.md5(path.read_bytes()).hexdigest()
        lines.append(f"obj /{path.relative_to(root)} {md5} {int(path.stat().st_mtime)}")
    return "".join(line + "\n" for line in lines)


def runtime_provides(provides: str, sonames: set[str]) -> str:
    """The builder's ``PROVIDES`` (``ABI: SONAME …`` lines) kept to the sonames copied."""
    out = []
    for line in provides.splitlines():
        abi, _, names = line.partition(":")
        kept = [n for n in names.split() if n in sonames]
        if kept:
            out.append(f"{abi}: {' '.join(kept)}")
    return "\n".join(out)
