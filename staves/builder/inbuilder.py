#!/usr/bin/env python3
"""Runs inside the builder container: apply the rendered Portage config, emerge into a root.

Standard library only: this file is passed to a Gentoo stage3 (or the test builder) and
run with the builder's own python3. The host renders every Portage file; this script only
writes them, runs emerge, and prepares the root filesystem that becomes the image.

Usage: python3 inbuilder.py PLAN-JSON  (the host runs it as python3 -c SCRIPT PLAN-JSON)
"""

import bz2
import configparser
import email.utils
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# The host names what failed from the text after this mark, up to a semicolon.
FAILURE_MARK = "staves: build failed: "
# The last line of a run, with its exit code; the host then exports the root and removes us.
FINISHED_MARK = "staves: builder finished: "
# Without a new heartbeat from the host in this many seconds, the host is gone: end the
# build, so that the container (created with --rm) goes too.
LEASE_TIMEOUT = 10.0
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
    "lease": (str, type(None)),
    "epoch": (int, type(None)),
    "discard_pkgdir": bool,
    "binhosts": list,
    "getbinpkg": bool,
    "reindex": bool,
    "task": str,
    "inputs": (dict, type(None)),  # the builder's and snapshot's image IDs
    "distcc": (dict, type(None)),  # helpers: DISTCC_HOSTS, MAKEOPTS, the helpers to check
}
# What a run does: "build" the image root, or "index" the cache partition (Portage's
# Packages index) for the host to copy out as a binhost.
TASKS = ("build", "index")
# The cache partition's two directories (the builder's, the image's), for the host (JSON).
PARTITION_FILE = "/tmp/staves-partition.json"
REPO_PATH = "/var/db/repos/gentoo"
# Gentoo's snapshots say when they were taken, as "Mon, 30 Nov 2026 00:45:01 +0000".
TIMESTAMP_FILE = "metadata/timestamp.chk"
# The epoch the packages were built with, for the host to read (empty: none known).
EPOCH_FILE = "/tmp/staves-epoch"
# The root's directory symlinks, "/lib64" → "/usr/lib64", for the host (JSON).
ROOT_LINKS_FILE = "/tmp/staves-root-links.json"
# What the image was made from, for the host's provenance (JSON): the repositories with
# their revisions, and each package's repository revisions and distfiles (with Manifest
# digests).
SOURCES_FILE = "/tmp/staves-sources.json"
PORTAGE_TMPDIR = "/var/tmp/portage"
DISTDIR = "/var/cache/distfiles"  # the distfiles cache volume
BUILDER_PORTAGE = "/etc/portage"
# The image root's own Portage configuration (PORTAGE_CONFIGROOT): the spec's make.conf
# and package.* files shape the image's packages there, never the builder's own.
IMAGE_CONFIG_ROOT = "/var/lib/staves/image-config"
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
PKGDIR="{pkgdir}"
"""
# The tool each sync type runs, and the package that installs it; a stage3 has only rsync.
SYNC_TOOLS = {
    "git": ("git", "dev-vcs/git"),
    "mercurial": ("hg", "dev-vcs/mercurial"),
    "svn": ("svn", "dev-vcs/subversion"),
    "cvs": ("cvs", "dev-vcs/cvs"),
    "rsync": ("rsync", "net-misc/rsync"),
}
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
    plan.setdefault("lease", None)
    plan.setdefault("epoch", None)
    plan.setdefault("discard_pkgdir", False)
    plan.setdefault("binhosts", [])
    plan.setdefault("getbinpkg", False)
    plan.setdefault("reindex", False)
    plan.setdefault("task", "build")
    plan.setdefault("inputs", None)
    plan.setdefault("distcc", None)
    unknown = set(plan) - set(PLAN_KEYS)
    if unknown:
        raise PlanError(f"plan has unknown keys: {', '.join(sorted(unknown))}")
    for key, kind in PLAN_KEYS.items():
        if key not in plan:
            raise PlanError(f"plan lacks '{key}'")
        if not isinstance(plan[key], kind) or (kind is int and isinstance(plan[key], bool)):
            raise PlanError(f"plan '{key}' has the wrong type")
    paths = [*plan["files"], *plan["append"], plan["root"], plan["pkgdir"], plan["lease"]]
    for path in (p for p in paths if p is not None):
        if not path.startswith("/") or "/../" in f"{path}/":
            raise PlanError(f"plan path {path!r} must be absolute and stay put")
    if not plan["packages"]:
        raise PlanError("plan has no packages")
    if plan["task"] not in TASKS:
        raise PlanError(f"plan task {plan['task']!r} is not one of {', '.join(TASKS)}")
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


def snapshot_epoch(repo: Path) -> int | None:
    """The snapshot's time, from its metadata/timestamp.chk; None without a readable one."""
    try:
        text = (repo / TIMESTAMP_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        say(f"{TIMESTAMP_FILE} holds {text[:60]!r}, not a date; the snapshot gives no epoch")
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


def export_epoch(explicit: int | None) -> int | None:
    """SOURCE_DATE_EPOCH for every package build: the host's, else the snapshot's time.
    Build systems that honour it (gcc's __DATE__, gzip, man pages…) stop embedding the
    clock, and Portage records it in each package's saved environment."""
    epoch = explicit if explicit is not None else snapshot_epoch(Path(REPO_PATH))
    if epoch is not None:
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        say(f"SOURCE_DATE_EPOCH={epoch}")
    Path(EPOCH_FILE).write_text("" if epoch is None else f"{epoch}\n", encoding="utf-8")
    return epoch


def discard_pkgdir(pkgdir: str | None) -> None:
    """Remove a build's own binary-package directory (a reproducibility check's: the image
    root's; the builder's own packages are not in the image and stay)."""
    if pkgdir:
        shutil.rmtree(pkgdir, ignore_errors=True)
        say(f"removed {pkgdir}")


def capture(argv: list[str]) -> str:
    """A command's stdout, stripped; empty when it fails or is missing."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def profile_name() -> str:
    """The builder's profile as its repository names it (default/linux/amd64/23.0)."""
    profile = Path(BUILDER_PORTAGE) / "make.profile"
    target = Path(os.path.realpath(profile))
    parts = target.parts
    if "profiles" in parts:
        return "/".join(parts[len(parts) - parts[::-1].index("profiles") :])
    # A make.profile directory of its own: what it holds names it.
    digest = hashlib.sha256()
    for path in sorted(p for p in profile.rglob("*") if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "local-" + digest.hexdigest()[:12]


def builder_key() -> str:
    """What makes this builder's binaries incompatible with another's: CHOST, profile and
    compiler version, read where Portage reads them."""
    found = portage_vars(["CHOST", "CC"])
    chost = found.get("CHOST") or "unknown-chost"
    compiler = capture([found.get("CC") or "gcc", "-dumpfullversion"])
    parts = (chost, profile_name().replace("/", "_"), f"cc-{compiler or 'none'}")
    return re.sub(r"[^A-Za-z0-9._+-]", "_", ".".join(parts))


def binpkg_dirs(pkgdir: str | None) -> tuple[str, str]:
    """The builder's and the image root's PKGDIR: apart, under the builder's key.

    Each root's binary packages record that root's C library and are built with that
    root's configuration, so neither may stand in for the other.
    """
    base = Path(pkgdir or "/var/cache/binpkgs/env-default")
    keyed = base.parent / builder_key()
    return str(keyed / "builder"), str(keyed / f"image-{base.name}")


def make_conf_path(portage_dir: Path) -> Path:
    make_conf = portage_dir / "make.conf"
    if make_conf.is_dir():  # some stage3s keep make.conf as a directory of files
        return make_conf / "zz-staves"
    return make_conf


def append_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def configure_builder(plan: dict, pkgdir: str) -> None:
    """Container settings and the builder's own PKGDIR into the builder's make.conf, and
    the spec's repositories into its repos.conf (the builder syncs them)."""
    settings = BASE_MAKE_CONF.format(jobs=plan["jobs"], distdir=DISTDIR, pkgdir=pkgdir)
    append_text(make_conf_path(Path(BUILDER_PORTAGE)), settings)
    for name, text in sorted(plan["files"].items()):
        if name.startswith(f"{BUILDER_PORTAGE}/repos.conf/"):
            write_file(Path(name), text)


def image_portage_dir() -> Path:
    return Path(IMAGE_CONFIG_ROOT) / BUILDER_PORTAGE.lstrip("/")


def configure_image_root(plan: dict, pkgdir: str) -> None:
    """The image root's configuration: the builder's (its make.conf, profile, repositories),
    then the spec's files on top, and the image's own PKGDIR."""
    target = image_portage_dir()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(BUILDER_PORTAGE, target, symlinks=True)
    profile = target / "make.profile"
    if profile.is_symlink():  # a relative link would point into the config root
        profile.unlink()
        profile.symlink_to(os.path.realpath(Path(BUILDER_PORTAGE) / "make.profile"))
    append_text(make_conf_path(target), f'PKGDIR="{pkgdir}"\n')
    for name, text in sorted(plan["files"].items()):
        write_file(image_path(name), text)
    for name, text in sorted(plan["append"].items()):
        path = (
            make_conf_path(target) if name == f"{BUILDER_PORTAGE}/make.conf" else image_path(name)
        )
        append_text(path, "\n" + text)


def binrepos_path(portage_dir: Path) -> Path:
    """Where Staves' binrepos.conf entries go: a file of their own when binrepos.conf is a
    directory (a stage3's is, holding gentoo.conf), else appended to the file."""
    binrepos = portage_dir / "binrepos.conf"
    return binrepos if binrepos.is_file() else binrepos / "staves.conf"


def binrepo_section(host: dict, partition: Path) -> str:
    """One binrepos.conf section for a Staves binhost, as ``staves cache export`` lays it
    out: the partition's directory under its URI. What it fetches is kept in the cache
    volume beside the partition (``location``), not in the throwaway builder."""
    base = str(host["uri"]).rstrip("/")
    lines = [
        f"[{host['name']}]",
        f"priority = {int(host.get('priority', 0))}",
        f"sync-uri = {base}/{partition.parent.name}/{partition.name}",
        f"location = {partition.parent / 'binhost' / host['name'] / partition.name}",
        f"verify-signature = {'true' if host.get('verify_signature') else 'false'}",
    ]
    return "".join(line.replace("%", "%%") + "\n" for line in lines)


def configure_binhosts(plan: dict, builder_pkgdir: str, image_pkgdir: str) -> None:
    """The plan's binhosts into both roots' binrepos.conf, each root pointed at its own
    partition; the builder's own entries (a stage3's official binhost) stay as they are."""
    for portage_dir, partition in (
        (Path(BUILDER_PORTAGE), Path(builder_pkgdir)),
        (image_portage_dir(), Path(image_pkgdir)),
    ):
        sections = "".join(binrepo_section(host, partition) for host in plan["binhosts"])
        if sections:
            append_text(binrepos_path(portage_dir), "\n" + sections)
    if plan["getbinpkg"]:
        # Every emerge, into either root, fetches what its binhosts have (Portage's word).
        BINPKG_OPTIONS.append("--getbinpkg")


def index_partition(dirs: tuple[str, ...]) -> None:
    """Portage's Packages index of each directory, made by Portage itself: after packages
    were copied in (Portage trusts its index, FEATURES pkgdir-index-trusted), and for a
    binhost, which serves the index beside the packages."""
    for pkgdir in dirs:
        Path(pkgdir).mkdir(parents=True, exist_ok=True)
        if run(["emaint", "binhost", "--fix"], {**os.environ, "PKGDIR": pkgdir}) != 0:
            raise PlanError(f"emaint binhost --fix could not index {pkgdir}")


def record_partition(builder_pkgdir: str, image_pkgdir: str) -> None:
    """Tell the host which directories hold this build's binary packages."""
    dirs = {"builder": builder_pkgdir, "image": image_pkgdir}
    Path(PARTITION_FILE).write_text(json.dumps(dirs, sort_keys=True), encoding="utf-8")


def image_path(name: str) -> Path:
    """Where a plan file for /etc/portage goes in the image root's configuration."""
    return Path(IMAGE_CONFIG_ROOT) / name.lstrip("/")


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


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


def emerge(args: list[str]) -> None:
    code = run(["emerge", "--color=n", "--verbose", "--quiet-build=n", *args])
    if code != 0:
        sys.exit(report_failure(code))


def configure_image_shape(plan: dict) -> None:
    """What shapes the image root, in its own configuration: Staves' INSTALL_MASK and the
    spec's, and baselayout with USE=build (its pkg_preinst lays out the skeleton)."""
    mask = " ".join([*INSTALL_MASK, *plan["install_mask"]])
    append_text(make_conf_path(image_portage_dir()), f'INSTALL_MASK="{mask}"\n')
    write_file(
        image_portage_dir() / "package.use" / "zz-staves-baselayout", f"{BASELAYOUT} build\n"
    )


def portage_vars(names: list[str], config_root: str | None = None) -> dict[str, str]:
    """Several of Portage's variables from one portageq run (``NAME*`` for every variable
    starting with NAME): each run costs about half a second, Portage loading its whole
    configuration, and a build asked for one variable per run eight times."""
    env = {**os.environ, "PORTAGE_CONFIGROOT": config_root} if config_root else None
    try:
        done = subprocess.run(
            ["portageq", "envvar", "-v", *names],
            capture_output=True,
            text=True,
            check=False,  # exits 1 when one of them is unset, and prints it empty
            env=env,
        )
    except OSError:
        return {}
    found = {}
    for line in done.stdout.splitlines():
        name, equals, quoted = line.partition("=")
        if equals:
            try:
                found[name] = "".join(shlex.split(quoted))
            except ValueError:
                continue
    return found


def image_vars(names: list[str]) -> dict[str, str]:
    """Portage's variables for the image root's configuration, in one portageq run."""
    return portage_vars(names, IMAGE_CONFIG_ROOT)


def portageq(*args: str) -> str:
    """One answer of portageq about the image root's configuration (empty when none)."""
    env = {**os.environ, "PORTAGE_CONFIGROOT": IMAGE_CONFIG_ROOT}
    found = subprocess.run(
        ["portageq", *args], capture_output=True, text=True, check=False, env=env
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def repositories_have(root: Path, cp: str) -> bool:
    """Whether an ebuild repository of the image's configuration holds CATEGORY/PN (masked
    or not: a masked one is for emerge to explain)."""
    repos = configparser.ConfigParser(interpolation=None)
    try:
        repos.read_string(portageq("repos_config", str(root)))
    except configparser.Error:
        return False
    paths = [repos[name].get("location", "") for name in repos.sections()]
    return any(glob.glob(f"{path}/{cp}/*.ebuild") for path in paths if path)


def lay_out_skeleton(root: Path) -> None:
    """The filesystem skeleton from the repository's baselayout, merged with USE=build.

    As for a Gentoo stage: merged-usr links and library directories as the profile says,
    /tmp, /etc/passwd and /etc/group (root, nobody) that acct-user packages extend, and
    /etc/os-release. A repository without baselayout gets an empty root, as Portage does.
    """
    if not repositories_have(root, BASELAYOUT):
        say(f"the repositories have no {BASELAYOUT}; the root gets no filesystem skeleton")
        return
    say(f"the filesystem skeleton ({BASELAYOUT}, USE=build) into {root}")
    emerge_into_image(root, ["--oneshot", BASELAYOUT])


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


def copy_compiler_runtime(root: Path, stdlib: bool, profile: dict[str, str]) -> None:
    """Copy the compiler's runtime libraries the root needs beside its C library, into
    /usr/LIBDIR of the native ABI (on amd64 multilib lib64, never the 32-bit lib)."""
    elibc = profile.get("ELIBC", "")
    clib = c_library(elibc, profile.get("ARCH", ""))
    target = root / "usr" / native_libdir(profile)
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


def record_root_links(root: Path) -> None:
    """The root's directory symlinks near its top (``lib64 -> usr/lib64``, laid out by
    baselayout outside any CONTENTS), for the host to find files CONTENTS names through
    them."""
    links = {}
    for top in (root, root / "usr"):
        for entry in sorted(top.iterdir()) if top.is_dir() else ():
            if entry.is_symlink() and entry.is_dir():
                path = "/" + str(entry.relative_to(root))
                target = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(entry)))
                links[path] = target
    Path(ROOT_LINKS_FILE).write_text(json.dumps(links, sort_keys=True), encoding="utf-8")


def repository_revision(location: Path) -> str | None:
    """The revision Portage's sync modules report (``retrieve_head``): a git repository's
    HEAD, else the first word of ``metadata/timestamp.commit``, which Gentoo's snapshots
    carry."""
    if (location / ".git").exists() and shutil.which("git"):
        head = subprocess.run(
            ["git", "-c", f"safe.directory={location}", "-C", str(location), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        if head.returncode == 0:
            return head.stdout.strip()
    try:
        words = (location / "metadata" / "timestamp.commit").read_text(encoding="utf-8").split()
    except OSError:
        return None
    return words[0] if words else None


def manifest_distfiles(package_dir: Path) -> dict[str, dict]:
    """The DIST lines of a package's Manifest: name -> size and digests by hash name."""
    found = {}
    try:
        lines = (package_dir / "Manifest").read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    for line in lines:
        words = line.split()
        if len(words) >= 3 and words[0] == "DIST" and words[2].isdigit():
            digests = dict(zip(words[3::2], words[4::2], strict=False))
            found[words[1]] = {"size": int(words[2]), "digests": digests}
    return found


_ENV_A = re.compile(r'^declare -\S+ A="([^"]*)"$', re.MULTILINE)


def package_distfiles(entry: Path) -> list[str]:
    """The distfiles a merged package was built from: ``A`` in its saved environment."""
    try:
        with bz2.open(entry / "environment.bz2", "rt", encoding="utf-8", errors="replace") as f:
            found = _ENV_A.search(f.read())
    except OSError:
        return []
    return sorted(set(found[1].split())) if found else []


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def read_json_file(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def record_sources(root: Path) -> None:
    """What the image was made from, as Portage recorded it in the root's package
    database (``repository``, ``REPO_REVISIONS``, the environment's ``A``), with each
    distfile's size and digests from its repository's Manifest."""
    # Asked of "/": portageq names only the main repository for any other root.
    names = portageq("get_repos", "/").split()
    paths = portageq("get_repo_path", "/", *names).splitlines() if names else []
    locations = {name: Path(path) for name, path in zip(names, paths, strict=False)}
    packages = []
    for entry in sorted(root.glob("var/db/pkg/*/*")):
        cpv = f"{entry.parent.name}/{entry.name}"
        repo = read_text(entry / "repository")
        distfiles = package_distfiles(entry)
        known = manifest_distfiles(locations[repo] / cpv_name(cpv)) if repo in locations else {}
        packages.append(
            {
                "cpv": cpv,
                "repository": repo,
                "revisions": read_json_file(entry / "REPO_REVISIONS"),
                "distfiles": [{"name": name, **known.get(name, {})} for name in distfiles],
            }
        )
    repositories = [
        {"name": name, "location": str(path), "revision": repository_revision(path)}
        for name, path in sorted(locations.items())
    ]
    record = {"repositories": repositories, "packages": packages}
    Path(SOURCES_FILE).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")


def archive_root(root: Path) -> None:
    """The root as a tar next to it, with numeric owners, modes and extended attributes."""
    archive = root.with_name(root.name + ROOT_ARCHIVE_SUFFIX)
    argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(root.parent)]
    if run([*argv, "-cf", str(archive), root.name]) != 0:
        raise PlanError(f"tar could not archive {root}")


def sync_types(plan: dict) -> dict[str, str]:
    """Repository name -> sync type, from the repos.conf files of the plan."""
    types = {}
    for name, text in plan["files"].items():
        if name.startswith(f"{BUILDER_PORTAGE}/repos.conf/"):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            for section in parser.sections():
                types[section] = parser[section].get("sync-type", "")
    return types


def install_sync_tools(plan: dict) -> int:
    """Emerge into the builder the tools its syncs need and it lacks (a stage3 has no git);
    0 when every tool is there."""
    types = sync_types(plan)
    needed = sorted(
        {SYNC_TOOLS[kind] for repo in plan["sync"] if (kind := types.get(repo)) in SYNC_TOOLS}
    )
    for tool, package in needed:
        if code := install_builder_tool(tool, package, "syncing"):
            return code
    return 0


def install_builder_tool(tool: str, package: str, purpose: str) -> int:
    """Emerge ``package`` into the builder when it lacks ``tool`` (its binary package kept
    in the builder's partition, so the next build only unpacks it); 0 when it is there."""
    if shutil.which(tool) is not None:
        return 0
    say(f"the builder has no {tool}; emerging {package} into the builder for {purpose}")
    code = run(["emerge", "--color=n", "--quiet-build=y", *BINPKG_OPTIONS, "--oneshot", package])
    if code != 0 or shutil.which(tool) is None:
        print(
            f"{FAILURE_MARK}{purpose} needs {tool}, which the builder lacks, and {package} "
            f"could not be emerged; use a builder with {package} installed",
            flush=True,
        )
        return code or 1
    return 0


# The package that installs distcc, when helpers are named (a stage3 has none).
DISTCC_PACKAGE = "sys-devel/distcc"
# A translation unit for asking each helper to compile: the object it sends back carries
# its compiler's identification (.comment), and must equal the builder's own, byte for byte.
DISTCC_PROBE = "int staves_distcc_probe(int x) { return x * 3 + 1; }\n"
_COMPILER_ID = re.compile(rb"GCC: \([^\x00]*|clang version [^\x00]*")


def set_up_distcc(plan: dict) -> int:
    """With helpers: distcc into the builder, its settings into both roots' make.conf as
    Gentoo's handbook has them, and each helper checked; 0 when the build may go on."""
    distcc = plan["distcc"]
    if not distcc:
        return 0
    if code := install_builder_tool("distcc", DISTCC_PACKAGE, "compiling on distcc helpers"):
        return code
    settings = (
        "\n# --- added by staves: distcc helpers ---\n"
        'FEATURES="${FEATURES} distcc"\n'
        # The host validated both: names, digits and ,lzo; nothing to quote.
        f'DISTCC_HOSTS="{distcc["hosts"]}"\n'
        f'MAKEOPTS="{distcc["makeopts"]}"\n'
    )
    for portage_dir in (Path(BUILDER_PORTAGE), image_portage_dir()):
        append_text(make_conf_path(portage_dir), settings)
    say(f"distcc: DISTCC_HOSTS={distcc['hosts']!r} MAKEOPTS={distcc['makeopts']!r}")
    return check_distcc_helpers(distcc["helpers"])


def probe_compiler() -> str:
    """The C compiler ebuilds call: CC as Portage has it, else CHOST-gcc, else gcc."""
    found = portage_vars(["CHOST", "CC"])
    if found.get("CC"):
        return found["CC"]
    chost = found.get("CHOST", "")
    return f"{chost}-gcc" if chost and shutil.which(f"{chost}-gcc") else "gcc"


def compiler_id(obj: bytes) -> str:
    found = _COMPILER_ID.search(obj)
    return found.group().decode(errors="replace") if found else "an unknown compiler"


def check_distcc_helpers(helpers: list[str]) -> int:
    """Compile the probe here and on each helper alone (no fallback to this machine):
    fail when a helper's object differs (another compiler version would make other
    binaries); warn when one cannot compile it (distcc then compiles its share here)."""
    compiler = probe_compiler()
    work = Path(PORTAGE_TMPDIR) / ".staves-distcc-probe"
    (work / "state").mkdir(parents=True, exist_ok=True)  # distcc's DISTCC_DIR
    (work / "probe.c").write_text(DISTCC_PROBE, encoding="utf-8")
    argv = [compiler, "-O2", "-c", "probe.c"]
    local = subprocess.run([*argv, "-o", "local.o"], cwd=work, capture_output=True, check=False)
    if local.returncode != 0:
        say(f"distcc: {compiler} cannot compile the probe here; the helpers go unchecked")
        return 0
    mine = (work / "local.o").read_bytes()
    for helper in helpers:
        env = {**os.environ, "DISTCC_HOSTS": helper, "DISTCC_FALLBACK": "0"}
        env["DISTCC_DIR"] = str(work / "state")
        remote = subprocess.run(
            ["distcc", *argv, "-o", "remote.o"],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if remote.returncode != 0:
            said = " ".join(remote.stderr.split())[-300:] or f"exit code {remote.returncode}"
            say(
                f"warning: distcc helper {helper} did not compile the probe ({said}); "
                "what it would compile is compiled here"
            )
            continue
        theirs = (work / "remote.o").read_bytes()
        if theirs != mine:
            helper_id, builder_id = compiler_id(theirs), compiler_id(mine)
            how = (
                f"compiles with {helper_id}, the builder with {builder_id}"
                if helper_id != builder_id
                else f"compiles otherwise than the builder, both with {builder_id}"
            )
            print(
                f"{FAILURE_MARK}distcc helper {helper} {how}; give every helper the builder's "
                "compiler, or leave it out (--distcc, [distcc] hosts)",
                flush=True,
            )
            return 1
        say(f"distcc: helper {helper} compiles as the builder does ({compiler_id(mine)})")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def sync_repositories(plan: dict) -> int:
    for repo in plan["sync"]:
        if run(["emaint", "sync", "--repo", repo]) != 0:
            print(f"{FAILURE_MARK}syncing repository {repo} failed; see above", flush=True)
            return 1
    return 0


# Binary packages are used whenever they fit and every package built is kept as one.
BINPKG_OPTIONS = ["--usepkg", "--buildpkg"]


def emerge_into_image(root: Path, atoms: list[str]) -> None:
    """Emerge into the image root with its own configuration; build dependencies resolve
    in the builder (EAPI 7+: DEPEND in SYSROOT=/, BDEPEND in /) with the builder's."""
    emerge([*BINPKG_OPTIONS, f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}", *atoms])


def emerge_c_library(root: Path) -> None:
    """virtual/libc into the image root before anything else.

    Portage adds ">=" the root's libc provider to every binary package's RDEPEND, and
    tells a binary package's dependencies unchanged only by stripping the libc provider it
    finds installed in the root when it starts computing: in an empty root it finds none,
    and every binary package would look built against other dependencies.
    """
    say(f"the C library into {root}")
    emerge_into_image(root, ["--oneshot", "virtual/libc"])


# "[ebuild  N ] dev-libs/libshape-2:0/2::gentoo to /tmp/rootfs/ …" in emerge's merge list.
# A binary package shows its build id after the version (binpkg-multi-instance).
_VERSION = r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?"
_CPV = rf"([\w+][\w+.-]*/[\w+][\w+-]*?-{_VERSION})(?:-\d+)?"
_MERGE_LINE = re.compile(rf"^\[(ebuild|binary)[^\]]*\] {_CPV}(?::[^:\s]+)?(?:::\S+)? to (\S+)")


def image_merge_list(root: Path, packages: list[str]) -> list[tuple[str, str]]:
    """(how, cpv) for each package emerge would merge into the image root, from a pretend
    run: how is "ebuild" (compiled) or "binary"."""
    argv = ["emerge", "--color=n", "--pretend", "--quiet", *BINPKG_OPTIONS]
    argv += [f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}", "--oneshot", *packages]
    say("running " + " ".join(shlex.quote(a) for a in argv))
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, flush=True)
        print(f"{FAILURE_MARK}emerge cannot install {' '.join(packages)}; see above", flush=True)
        sys.exit(done.returncode)
    return merges_into(done.stdout, root)


def merges_into(merge_list: str, root: Path) -> list[tuple[str, str]]:
    """(how, cpv) of the lines of emerge's merge list that merge into ``root``."""
    target = str(root).rstrip("/") + "/"
    matches = (_MERGE_LINE.match(line) for line in merge_list.splitlines())
    return [(m[1], m[2]) for m in matches if m and m[3].rstrip("/") + "/" == target]


def installed_in_builder(cp: str) -> list[str]:
    """Versions of CATEGORY/PN in the builder's package database, as CATEGORY/PF."""
    category, name = cp.split("/")
    found = Path("/var/db/pkg", category).glob(f"{name}-[0-9]*")
    return [f"{category}/{p.name}" for p in found if cpv_name(f"{category}/{p.name}") == cp]


def cpv_name(cpv: str) -> str:
    """CATEGORY/PN of CATEGORY/PN-VERSION[-rN]."""
    return re.sub(rf"-{_VERSION}$", "", cpv)


def builder_libc() -> set[str]:
    """CATEGORY/PN of the builder's C library provider (what its virtual/libc needs)."""
    rdepend = " ".join(p.read_text() for p in Path("/var/db/pkg/virtual").glob("libc-*/RDEPEND"))
    return {re.sub(r"^[<>=~!]*|[:\[].*$", "", atom) for atom in rdepend.split() if "/" in atom}


def drifting_build_libraries(merges: list[tuple[str, str]]) -> list[str]:
    """Packages the image receives that the builder has at another version, when something
    is compiled: the builder gets the image's version first, so that nothing is compiled
    against a library (or subslot) the image will not have. The C library stays as it is:
    what is built against an older glibc runs on a newer one, and Portage records that
    (">=") in each binary package."""
    if not any(how == "ebuild" for how, _ in merges):
        return []
    libc = builder_libc()
    drifting = []
    for _, cpv in merges:
        installed = installed_in_builder(cpv_name(cpv))
        if installed and cpv not in installed and cpv_name(cpv) not in libc:
            drifting.append(f"={cpv}")
    return drifting


def update_builder(atoms: list[str]) -> None:
    """Bring the builder's copies of the image's libraries to the image's versions."""
    if atoms:
        say("the builder's copies of libraries the image gets, at the image's versions")
        emerge([*BINPKG_OPTIONS, "--oneshot", *atoms])


# Which package.env environment each atom's newest binary package was built with.
PACKAGE_ENV_RECORD = "staves-package-env.json"


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


# "- app-misc/motd-1.0::gentoo (masked by: FSFAP license(s))" in emerge's explanation of
# why nothing could satisfy an atom; several reasons are separated by commas.
_LICENSE_MASKED = re.compile(r"^- (\S+?)(?:::\S+)? \(masked by: (?:.*, )?(.+?) license\(s\)")


def license_refusals(output: str) -> list[tuple[str, str]]:
    """(package, licenses) for each package emerge says ACCEPT_LICENSE masks."""
    found = (_LICENSE_MASKED.match(line.strip()) for line in output.splitlines())
    return list(dict.fromkeys((m[1], m[2]) for m in found if m))


def refuse_unaccepted_licenses(root: Path, packages: list[str]) -> int:
    """Before anything is merged or compiled: fail, naming the package and its license,
    when the image's ACCEPT_LICENSE (the profile's, then the spec's accept_license and
    package licenses) refuses a package the image needs; 0 otherwise. Any other reason
    emerge has to stop is left to the steps that follow, which explain it."""
    argv = ["emerge", "--color=n", "--pretend", "--quiet", *BINPKG_OPTIONS, "--oneshot"]
    argv += [f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}"]
    argv += [BASELAYOUT, "virtual/libc", *packages]
    say("checking the licenses of what the image needs")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    refused = license_refusals(done.stdout + done.stderr) if done.returncode != 0 else []
    if not refused:
        return 0
    print(done.stdout + done.stderr, flush=True)
    package, licenses = refused[0]
    more = f" (and {len(refused) - 1} more, listed above)" if len(refused) > 1 else ""
    print(
        f"{FAILURE_MARK}{package}: its license {licenses} is not accepted{more}; "
        "accept it with accept_license or the package's license in the spec",
        flush=True,
    )
    return 1


def emerge_packages(
    root: Path, packages: list[str], env_atoms: list[str], known_binary: bool
) -> bool:
    """The spec's packages and their runtime dependencies into the image root; those in
    ``env_atoms`` are compiled even when a binary package fits. Whether every package
    merged was a binary package: then nothing was compiled against the builder's
    libraries, and nothing could have drifted."""
    exclude = [f"--usepkg-exclude={' '.join(env_atoms)}"] if env_atoms else []
    if known_binary and not env_atoms:
        say("as in the last build here, which compiled nothing: no drift check needed")
        all_binary = True
    else:
        merges = image_merge_list(root, [*exclude, *packages])
        update_builder(drifting_build_libraries(merges))
        all_binary = all(how == "binary" for how, _ in merges)
    say(f"packages into {root}")
    emerge_into_image(root, ["--oneshot", *exclude, *packages])
    return all_binary


# The inputs of the last build into this image PKGDIR that compiled nothing. A build with
# the same inputs compiles nothing either and accepts the same licenses, so it skips the
# license check's and the drift check's dependency calculations (emerge --pretend): the
# same plan, builder and snapshot images, and the same binary packages (the two PKGDIRs'
# Packages indexes, which Portage rewrites whenever a binary package comes or goes).
ALL_BINARY_RECORD = "staves-all-binary.json"


def merge_inputs(plan: dict, pkgdirs: tuple[str, ...]) -> str | None:
    """A digest of what decides emerge's merge list; None without the images' IDs."""
    if not plan["inputs"]:
        return None
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


class Lease:
    """The host's heartbeat: a file it rewrites every few seconds while it is alive."""

    def __init__(self, path: str, timeout: float = LEASE_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._seen: bytes | None = None
        self._changed = time.monotonic()

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except OSError:
            return None

    def expired(self) -> bool:
        """Whether the heartbeat has not changed for ``timeout`` seconds (monotonic time, so
        the host's clock does not matter)."""
        now, seen = time.monotonic(), self._read()
        if seen != self._seen:
            self._seen, self._changed = seen, now
        return now - self._changed > self.timeout

    def watch(self) -> None:
        """End the whole container when the host is gone. As PID 1, exiting takes every
        other process of the container with it."""
        while not self.expired():
            time.sleep(1)
        print(f"{FAILURE_MARK}the host stopped answering; ending the build", flush=True)
        os._exit(137)


def hold_for_host(lease: Lease | None, code: int) -> int:
    """Say we are done and wait while the host exports the root; it removes the container
    then, or the lease runs out."""
    print(f"{FINISHED_MARK}{code}", flush=True)
    if lease is not None:
        while not lease.expired():
            time.sleep(1)
    return code


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: inbuilder.py PLAN-JSON", file=sys.stderr)
        return 2
    try:
        plan = load_plan(argv[1])
        link_snapshot(plan["snapshot"])
        builder_pkgdir, image_pkgdir = binpkg_dirs(plan["pkgdir"])
        configure_builder(plan, builder_pkgdir)
        configure_image_root(plan, image_pkgdir)
        configure_image_shape(plan)
        configure_binhosts(plan, builder_pkgdir, image_pkgdir)
        export_epoch(plan["epoch"])
        record_partition(builder_pkgdir, image_pkgdir)
    except (OSError, PlanError, configparser.Error) as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    say(f"binary packages: the builder's in {builder_pkgdir}, the image's in {image_pkgdir}")
    if plan["task"] != "build" or plan["reindex"]:
        try:
            index_partition((builder_pkgdir, image_pkgdir))
        except PlanError as exc:
            print(f"{FAILURE_MARK}{exc}", flush=True)
            return 1
        if plan["task"] != "build":
            return 0
    root = Path(plan["root"])
    root.mkdir(parents=True, exist_ok=True)
    if code := install_sync_tools(plan) or sync_repositories(plan) or set_up_distcc(plan):
        return code
    pkgdirs = (builder_pkgdir, image_pkgdir)
    all_binary_record = Path(image_pkgdir) / ALL_BINARY_RECORD
    # A build like the last here, which got past the license check and compiled nothing.
    known = compiled_nothing_before(all_binary_record, merge_inputs(plan, pkgdirs))
    if not known and (code := refuse_unaccepted_licenses(root, plan["packages"])):
        return code
    lay_out_skeleton(root)
    emerge_c_library(root)
    record = Path(image_pkgdir) / PACKAGE_ENV_RECORD
    env_atoms, env_record = changed_envs(record, package_envs(plan))
    if env_atoms:
        say(f"environment changed for {' '.join(env_atoms)}: compiling them anew")
    all_binary = emerge_packages(root, plan["packages"], env_atoms, known)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(env_record, sort_keys=True) + "\n")
    remember_all_binary(all_binary_record, merge_inputs(plan, pkgdirs) if all_binary else None)
    try:
        profile = image_vars(PROFILE_VARS)
        copy_compiler_runtime(root, plan["stdlib"], profile)
        if code := make_locale(root, plan["locale"], profile.get("ELIBC", "")):
            return code
        refresh_library_cache(root)
        drop_build_state(root)
        record_root_links(root)
        record_sources(root)
        archive_root(root)
    except PlanError as exc:
        print(f"{FAILURE_MARK}{exc}", flush=True)  # the host names it in its one line
        return 1
    say("root filesystem ready")
    return 0


def lease_of(argv: list[str]) -> Lease | None:
    """The lease the plan names, if it parses; ``main`` reports a plan that does not."""
    try:
        path = json.loads(argv[1]).get("lease") if len(argv) == 2 else None
    except (ValueError, AttributeError):
        return None
    return Lease(path) if isinstance(path, str) else None


def end_on_stop() -> None:
    """End at once when Podman stops the container. As PID 1 the script gets no default
    signal handling: without a handler, removing the finished builder waited out
    Podman's 10-second stop timeout before its SIGKILL, on every build."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))


def serve(argv: list[str]) -> int:
    """Build under the host's lease, then hold the root until the host has exported it."""
    end_on_stop()
    lease = lease_of(argv)
    if lease is not None:
        threading.Thread(target=lease.watch, name="lease", daemon=True).start()
    try:
        code = main(argv)
    except SystemExit as exc:  # emerge failures exit from deep inside
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        discard_pkgdir(_discarded_pkgdir(argv))
    return hold_for_host(lease, code)


def _discarded_pkgdir(argv: list[str]) -> str | None:
    """The image root's pkgdir when the plan asks for it to go after the build."""
    try:
        plan = load_plan(argv[1]) if len(argv) == 2 else None
    except PlanError:
        return None
    return binpkg_dirs(plan["pkgdir"])[1] if plan and plan["discard_pkgdir"] else None


if __name__ == "__main__":
    sys.exit(serve(sys.argv))
