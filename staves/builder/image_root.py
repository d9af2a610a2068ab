"""Image-root phase: what the root needs after the merge that no package gives it — the
compiler's runtime libraries its programs need, the locale, a fresh ld.so.cache — and the
merge's own bookkeeping taken out."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .console import fail, run, say
from .plan import PlanError

# Shared libraries of the compiler itself (sys-devel/gcc): no package depends on them,
# so Portage never puts them in a root; programs that need them get them copied in.
COMPILER_RUNTIME = (
    "libgcc_s.so",
    "libstdc++.so",
    "libgomp.so",
    "libatomic.so",
    "libgfortran.so",
    "libquadmath.so",
    "libitm.so",
    "libssp.so",
    "libobjc.so",
    "libasan.so",
    "libubsan.so",
    "liblsan.so",
    "libtsan.so",
)


@dataclass(frozen=True)
class CLibrary:
    """The C library a profile's ELIBC names: the program interpreter and the libc."""

    elibc: str
    loader: str
    libc: str
    # glibc loads libgcc_s itself (pthread_cancel, backtrace) though nothing lists it.
    dlopens_libgcc: bool


_GLIBC_LOADERS = {
    "amd64": "ld-linux-x86-64.so.2",
    "x86": "ld-linux.so.2",
    "arm64": "ld-linux-aarch64.so.1",
    "ppc64": "ld64.so.2",
    "riscv": "ld-linux-riscv64-lp64d.so.1",
}
_MUSL_ARCH = {"amd64": "x86_64", "x86": "i386", "arm64": "aarch64", "ppc64": "powerpc64"}


def c_library(elibc: str, arch: str) -> CLibrary | None:
    """What the profile's C library is called (None for an ELIBC Staves does not know)."""
    if elibc == "glibc":
        loader = _GLIBC_LOADERS.get(arch, "ld-linux.so.2")
        return CLibrary("glibc", loader, "libc.so.6", dlopens_libgcc=True)
    if elibc == "musl":
        # musl's libc is its own loader; there is no libc.so.6.
        loader = f"ld-musl-{_MUSL_ARCH.get(arch, arch)}.so.1"
        return CLibrary("musl", loader, loader, dlopens_libgcc=False)
    return None


def needed_sonames(vdb: Path) -> set[str]:
    """Every soname an ELF file in the root needs, from Portage's NEEDED.ELF.2 records
    (``ARCH;PATH;SONAME;RPATH;NEEDED,...``)."""
    found: set[str] = set()
    for record in sorted(vdb.glob("*/*/NEEDED.ELF.2")):
        for line in record.read_text(errors="replace").splitlines():
            fields = line.split(";")
            if len(fields) >= 5 and fields[4]:
                found.update(fields[4].split(","))
    return found


def runtime_libraries(needed: set[str], clib: CLibrary | None, stdlib: bool) -> list[str]:
    """The compiler's libraries the root gets: those its ELF files need, libgcc_s where
    the C library loads it, libstdc++ with ``stdlib``."""
    chosen = {name for name in needed if name.startswith(COMPILER_RUNTIME)}
    if clib is not None and clib.dlopens_libgcc:
        chosen.add("libgcc_s.so.1")
    if stdlib:
        chosen.add("libstdc++.so.6")
    return sorted(chosen)


# What the steps after the merge ask Portage about the image's profile, in one run.
PROFILE_VARS = ["ELIBC", "ARCH", "DEFAULT_ABI", "ABI", "LIBDIR_*"]


def native_libdir(profile: dict[str, str]) -> str:
    """The library directory of the profile's native ABI, as Portage names it."""
    abi = profile.get("DEFAULT_ABI") or profile.get("ABI")
    return (profile.get(f"LIBDIR_{abi}", "") if abi else "") or "lib"


def copy_compiler_runtime(
    root: Path, stdlib: bool, profile: dict[str, str]
) -> list[tuple[Path, str]]:
    """Copy the compiler's runtime libraries the root needs beside its C library, into
    /usr/LIBDIR of the native ABI (on amd64 multilib lib64, never the 32-bit lib); each
    file copied and the builder's file it came from."""
    elibc = profile.get("ELIBC", "")
    clib = c_library(elibc, profile.get("ARCH", ""))
    target = root / "usr" / native_libdir(profile)
    if clib is not None and not any((root / d / clib.loader).exists() for d in ("lib64", "lib")):
        # The loader's path is fixed by the ABI; without it nothing dynamic runs.
        say(f"note: the root has no {clib.loader}, the loader of {elibc}")
    names = runtime_libraries(needed_sonames(root / "var/db/pkg"), clib, stdlib)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in names:
        if (target / name).exists():
            continue  # a package of the root installed it
        found = subprocess.run(
            ["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not found.startswith("/") or not os.path.exists(found):
            raise PlanError(f"the builder's compiler has no {name}, which the image needs")
        shutil.copy2(os.path.realpath(found), target / name)
        copied.append((target / name, found))
        say(f"copied {name} into {target.relative_to(root)}")
    return copied


def localedef_arguments(name: str, charset: str) -> list[str]:
    """``-i SOURCE -f CHARMAP NAME`` for a locale named as ``LANG`` will name it.

    The source is the name without its codeset (``en_US.UTF-8`` comes from ``en_US``,
    ``de_DE@euro`` from ``de_DE@euro``); the locale keeps the name as given, which is the
    one setlocale looks up (``de_DE@euro``, not ``de_DE@euro.ISO-8859-15``).
    """
    language, _, modifier = name.partition("@")
    source = language.split(".", 1)[0] + (f"@{modifier}" if modifier else "")
    return ["-i", source, "-f", charset, name]


# Where localedef keeps the root's locales; no package owns it.
LOCALE_ARCHIVE = "usr/lib/locale/locale-archive"


def make_locale(root: Path, locale: dict | None, elibc: str) -> int:
    """Compile the locale into the root's locale archive; 0 when it is there."""
    if not locale:
        return 0
    name, charset = locale["name"], locale.get("charset") or "UTF-8"
    if elibc != "glibc" or shutil.which("localedef") is None:
        fail(
            f"locale {name} needs glibc's localedef, and the profile's C library "
            f"is {elibc or 'unknown'}; remove locale from the spec (musl reads no locale files)"
        )
        return 1
    archive = root / LOCALE_ARCHIVE
    archive.parent.mkdir(parents=True, exist_ok=True)
    code = run(["localedef", "--prefix", str(root), *localedef_arguments(name, charset)])
    # localedef exits 1 for mere warnings; the archive tells whether it worked.
    if not archive.is_file():
        fail(f"localedef could not make {name} ({charset}); see above")
        return code or 1
    return 0


# Bookkeeping Portage and ldconfig keep about the merge into a root, not files of any
# package: mtimedb holds the merge's times and aux-cache inode numbers, so an image that
# kept them would differ on every build.
BUILD_STATE = ("var/cache/edb", "var/cache/ldconfig/aux-cache", "var/lib/portage")


def drop_build_state(root: Path) -> None:
    """Remove the merge's bookkeeping from the root, unless a package installed it."""
    listed = "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in root.glob("var/db/pkg/*/*/CONTENTS")
    )
    for rel in BUILD_STATE:
        path = root / rel
        if f" /{rel}" in listed or not (path.exists() or path.is_symlink()):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
