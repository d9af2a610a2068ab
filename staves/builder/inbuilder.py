#!/usr/bin/env python3
"""Runs inside the builder container: apply the rendered Portage config, emerge into a root.

Standard library only: this file is passed to a Gentoo stage3 (or the test builder) and
run with the builder's own python3. The host renders every Portage file; this script only
writes them, runs emerge, and prepares the root filesystem that becomes the image.

Usage: python3 inbuilder.py PLAN-JSON  (the host runs it as python3 -c SCRIPT PLAN-JSON)
"""

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The host names what failed from the text after this mark, up to a semicolon.
FAILURE_MARK = "staves: build failed: "
PLAN_KEYS = {
    "files": dict,
    "append": dict,
    "sync": list,
    "packages": list,
    "jobs": int,
    "root": str,
    "stdlib": bool,
    "locale": (dict, type(None)),
    "snapshot": (str, type(None)),
    "pkgdir": (str, type(None)),
    "install_mask": list,
}
REPO_PATH = "/var/db/repos/gentoo"
PORTAGE_TMPDIR = "/var/tmp/portage"
DISTDIR = "/var/cache/distfiles"  # the distfiles cache volume
# What a container build needs from Portage; every sandbox needs privileges we lack.
# Fetching and syncing run as root, whose home holds the credentials the user shares.
BASE_MAKE_CONF = """
# --- added by staves for container builds ---
FEATURES="${{FEATURES}} -sandbox -usersandbox -ipc-sandbox -network-sandbox -pid-sandbox \
-userpriv -userfetch -usersync buildpkg binpkg-multi-instance nodoc noinfo noman -news"
DISTDIR="{distdir}"
PORTAGE_ELOG_CLASSES="warn error"
PORTAGE_ELOG_SYSTEM="echo"
MAKEOPTS="-j{jobs}"
"""
# Parts of a package an image never needs. Portage leaves them out as it merges into the
# root (INSTALL_MASK), so CONTENTS, and the SBOM's file list, say exactly what is there;
# a directory a package keeps (keepdir) or owns is never touched. The spec's
# install_mask comes after these: "-/usr/include" keeps headers, a path drops more.
INSTALL_MASK = (
    "/usr/share/doc",
    "/usr/share/man",
    "/usr/share/info",
    "/usr/share/gtk-doc",
    "/usr/include",
    "*.a",
    "*.la",
)
# The finished root as one tar, beside the root: Podman's archive API gives every file it
# copies out root's ownership, so the root travels inside this file, owners intact.
ROOT_ARCHIVE_SUFFIX = ".tar"
# The package whose USE=build pkg_preinst lays out a root's directories, as for a stage.
BASELAYOUT = "sys-apps/baselayout"


class PlanError(Exception):
    """The plan file is not what the host writes."""


def load_plan(text: str) -> dict:
    """Parse and check a plan: every key present, each of its type, paths absolute."""
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"plan is not JSON: {exc}") from exc
    if not isinstance(plan, dict):
        raise PlanError("plan must be a JSON object")
    plan.setdefault("snapshot", None)
    plan.setdefault("pkgdir", None)
    plan.setdefault("install_mask", [])
    unknown = set(plan) - set(PLAN_KEYS)
    if unknown:
        raise PlanError(f"plan has unknown keys: {', '.join(sorted(unknown))}")
    for key, kind in PLAN_KEYS.items():
        if key not in plan:
            raise PlanError(f"plan lacks '{key}'")
        if not isinstance(plan[key], kind) or (kind is int and isinstance(plan[key], bool)):
            raise PlanError(f"plan '{key}' has the wrong type")
    for path in [*plan["files"], *plan["append"], plan["root"], plan["pkgdir"] or "/"]:
        if not path.startswith("/") or "/../" in f"{path}/":
            raise PlanError(f"plan path {path!r} must be absolute and stay put")
    if not plan["packages"]:
        raise PlanError("plan has no packages")
    return plan


def say(message: str) -> None:
    print(f">>> staves: {message}", flush=True)


def run(argv: list[str], env: dict[str, str] | None = None) -> int:
    say("running " + " ".join(shlex.quote(a) for a in argv))
    return subprocess.run(argv, check=False, env=env).returncode


def link_snapshot(snapshot: str | None) -> None:
    """Put the mounted Portage snapshot where Portage and make.profile expect it."""
    if not snapshot:
        return
    source = Path(snapshot) / REPO_PATH.lstrip("/")
    if not source.is_dir():
        source = Path(snapshot)
    target = Path(REPO_PATH)
    if target.is_symlink():
        target.unlink()
    elif target.is_dir():
        if any(target.iterdir()):
            raise PlanError(f"{REPO_PATH} is not empty in the builder; cannot mount the snapshot")
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source)


def write_config(plan: dict) -> None:
    make_conf = Path("/etc/portage/make.conf")
    if make_conf.is_dir():  # some stage3s keep make.conf as a directory of files
        make_conf = make_conf / "zz-staves"
    with make_conf.open("a", encoding="utf-8") as out:
        out.write(BASE_MAKE_CONF.format(jobs=plan["jobs"], distdir=DISTDIR))
        if plan["pkgdir"]:
            out.write(f'PKGDIR="{plan["pkgdir"]}"\n')
    for name, text in sorted(plan["files"].items()):
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name, text in sorted(plan["append"].items()):
        path = make_conf if name == "/etc/portage/make.conf" else Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write("\n" + text)


def newest_build_log() -> Path | None:
    logs = glob.glob(f"{PORTAGE_TMPDIR}/*/*/temp/build.log")
    return Path(max(logs, key=os.path.getmtime)) if logs else None


_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_VERIFY_FAILED = re.compile(r"!!! Fetched file: (.+) VERIFY FAILED!")
_NOT_DOWNLOADED = re.compile(r"!!! Couldn't download '(.+)'\. Aborting\.")
_REASON = re.compile(r"!!! Reason: (.+)")
_DIGEST_FAILED = "!!! Digest verification failed:"
# Portage asks each mirror for its layout.conf first; a mirror without one is no failure.
_MIRROR_LAYOUT = ".layout.conf."


def fetch_problem(log_text: str) -> str | None:
    """Which file failed to download or to match the Manifest, from Portage's messages."""
    lines = [_COLOUR.sub("", line).strip() for line in log_text.splitlines()]
    mismatched: dict[str, str] = {}  # file -> why it did not match
    for number, line in enumerate(lines):
        if match := _VERIFY_FAILED.fullmatch(line):
            mismatched[match[1]] = _reason(lines[number + 1 : number + 3])
        elif line == _DIGEST_FAILED and number + 1 < len(lines):
            name = os.path.basename(lines[number + 1].removeprefix("!!! "))
            return f"{name} does not match the Manifest ({_reason(lines[number + 2 :])})"
    for line in lines:
        match = _NOT_DOWNLOADED.fullmatch(line)
        if match and not match[1].startswith(_MIRROR_LAYOUT):
            name = match[1]
            if name in mismatched:
                return f"{name} does not match the Manifest ({mismatched[name]})"
            return f"{name} could not be downloaded (check the mirrors and the network)"
    return None


def _reason(lines: list[str]) -> str:
    for line in lines[:2]:
        if match := _REASON.fullmatch(line):
            return match[1].replace(";", ",")
    return "see the log above"


def report_failure(code: int) -> int:
    """Name the failing package (and file, for a fetch) and show the end of its build log."""
    log = newest_build_log()
    if log is None:
        print(f"{FAILURE_MARK}emerge failed; see its output above", flush=True)
        return code
    package = f"{log.parents[2].name}/{log.parents[1].name}"
    text = log.read_text(errors="replace")
    problem = fetch_problem(text)
    what = f"{package}: {problem}" if problem else f"emerge failed for {package}"
    print(f"{FAILURE_MARK}{what}; the end of its build log:", flush=True)
    for line in text.splitlines()[-30:]:
        print(f"    {line}", flush=True)
    return code


def emerge(args: list[str], env: dict[str, str] | None = None) -> None:
    code = run(["emerge", "--color=n", "--verbose", "--quiet-build=n", *args], env)
    if code != 0:
        sys.exit(report_failure(code))


def image_environment(plan: dict) -> dict[str, str]:
    """The environment of the emerges into the image root: what Portage leaves out."""
    mask = " ".join([*INSTALL_MASK, *plan["install_mask"]])
    return {**os.environ, "INSTALL_MASK": mask}


def portageq(*args: str) -> str:
    """One answer of portageq (empty when it has none)."""
    found = subprocess.run(["portageq", *args], capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 else ""


def lay_out_skeleton(root: Path, env: dict[str, str]) -> None:
    """The filesystem skeleton from the repository's baselayout, merged with USE=build.

    As for a Gentoo stage: merged-usr links and library directories as the profile says,
    /tmp, /etc/passwd and /etc/group (root, nobody) that acct-user packages extend, and
    /etc/os-release. A repository without baselayout gets an empty root, as Portage does.
    """
    if not portageq("best_visible", str(root), "ebuild", BASELAYOUT):
        say(f"the repository has no {BASELAYOUT}; the root gets no filesystem skeleton")
        return
    say(f"the filesystem skeleton ({BASELAYOUT}, USE=build) into {root}")
    emerge(
        ["--usepkg", "--buildpkg", f"--root={root}", "--root-deps=rdeps", "--oneshot", BASELAYOUT],
        {**env, "USE": f"{env.get('USE', '')} build".strip()},
    )


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


def native_libdir() -> str:
    """The library directory of the profile's native ABI, as Portage names it."""
    abi = portageq("envvar", "DEFAULT_ABI") or portageq("envvar", "ABI")
    return (portageq("envvar", f"LIBDIR_{abi}") if abi else "") or "lib"


def copy_compiler_runtime(root: Path, stdlib: bool, elibc: str) -> None:
    """Copy the compiler's runtime libraries the root needs beside its C library, into
    /usr/LIBDIR of the native ABI (on amd64 multilib lib64, never the 32-bit lib)."""
    clib = c_library(elibc, portageq("envvar", "ARCH"))
    target = root / "usr" / native_libdir()
    if clib is not None and not any((root / d / clib.loader).exists() for d in ("lib64", "lib")):
        # The loader's path is fixed by the ABI; without it nothing dynamic runs.
        say(f"note: the root has no {clib.loader}, the loader of {elibc}")
    names = runtime_libraries(needed_sonames(root / "var/db/pkg"), clib, stdlib)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (target / name).exists():
            continue  # a package of the root installed it
        found = subprocess.run(
            ["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not found.startswith("/") or not os.path.exists(found):
            raise PlanError(f"the builder's compiler has no {name}, which the image needs")
        shutil.copy2(os.path.realpath(found), target / name)
        say(f"copied {name} into {target.relative_to(root)}")


def localedef_arguments(name: str, charset: str) -> list[str]:
    """``-i SOURCE -f CHARMAP NAME`` for a locale named as ``LANG`` will name it.

    The source is the name without its codeset (``en_US.UTF-8`` comes from ``en_US``,
    ``de_DE@euro`` from ``de_DE@euro``); the locale keeps the name as given, which is the
    one setlocale looks up (``de_DE@euro``, not ``de_DE@euro.ISO-8859-15``).
    """
    language, _, modifier = name.partition("@")
    source = language.split(".", 1)[0] + (f"@{modifier}" if modifier else "")
    return ["-i", source, "-f", charset, name]


def make_locale(root: Path, locale: dict | None, elibc: str) -> int:
    """Compile the locale into the root's locale archive; 0 when it is there."""
    if not locale:
        return 0
    name, charset = locale["name"], locale.get("charset") or "UTF-8"
    if elibc != "glibc" or shutil.which("localedef") is None:
        print(
            f"{FAILURE_MARK}locale {name} needs glibc's localedef, and the profile's C library "
            f"is {elibc or 'unknown'}; remove locale from the spec (musl reads no locale files)",
            flush=True,
        )
        return 1
    archive = root / "usr/lib/locale/locale-archive"
    archive.parent.mkdir(parents=True, exist_ok=True)
    code = run(["localedef", "--prefix", str(root), *localedef_arguments(name, charset)])
    # localedef exits 1 for mere warnings; the archive tells whether it worked.
    if not archive.is_file():
        print(f"{FAILURE_MARK}localedef could not make {name} ({charset}); see above", flush=True)
        return code or 1
    return 0


def refresh_library_cache(root: Path) -> None:
    """Regenerate the root's ld.so.cache (env-update, as Portage does after a merge), so
    that it lists the libraries copied in after the last merge too."""
    if run(["env-update"], {**os.environ, "ROOT": str(root)}) != 0:
        raise PlanError("env-update could not regenerate the root's ld.so.cache")


def archive_root(root: Path) -> None:
    """The root as a tar next to it, with numeric owners, modes and extended attributes."""
    archive = root.with_name(root.name + ROOT_ARCHIVE_SUFFIX)
    argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(root.parent)]
    if run([*argv, "-cf", str(archive), root.name]) != 0:
        raise PlanError(f"tar could not archive {root}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: inbuilder.py PLAN-JSON", file=sys.stderr)
        return 2
    try:
        plan = load_plan(argv[1])
        link_snapshot(plan["snapshot"])
        write_config(plan)
    except (OSError, PlanError) as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    root = Path(plan["root"])
    root.mkdir(parents=True, exist_ok=True)
    for repo in plan["sync"]:
        if run(["emaint", "sync", "--repo", repo]) != 0:
            print(f"{FAILURE_MARK}syncing repository {repo} failed; see above", flush=True)
            return 1
    packages = plan["packages"]
    common = ["--usepkg", "--buildpkg"]
    say("build dependencies into the builder")
    emerge([*common, "--onlydeps", "--with-bdeps=y", "--noreplace", *packages])
    image_env = image_environment(plan)
    lay_out_skeleton(root, image_env)
    # The C library first: without it every binary package looks built against other deps.
    say(f"the C library into {root}")
    emerge([*common, f"--root={root}", "--root-deps=rdeps", "--oneshot", "virtual/libc"], image_env)
    say(f"packages into {root}")
    emerge([*common, f"--root={root}", "--root-deps=rdeps", "--oneshot", *packages], image_env)
    try:
        elibc = portageq("envvar", "ELIBC")
        copy_compiler_runtime(root, plan["stdlib"], elibc)
        if code := make_locale(root, plan["locale"], elibc):
            return code
        refresh_library_cache(root)
        archive_root(root)
    except PlanError as exc:
        print(f"{FAILURE_MARK}{exc}", flush=True)  # the host names it in its one line
        return 1
    say("root filesystem ready")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
