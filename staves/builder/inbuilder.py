#!/usr/bin/env python3
"""Runs inside the builder container: apply the rendered Portage config, emerge into a root.

Standard library only: this file is passed to a Gentoo stage3 (or the test builder) and
run with the builder's own python3. The host renders every Portage file; this script only
writes them, runs emerge, and prepares the root filesystem that becomes the image.

Usage: python3 inbuilder.py PLAN-JSON  (the host runs it as python3 -c SCRIPT PLAN-JSON)
"""

import configparser
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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
}
REPO_PATH = "/var/db/repos/gentoo"
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
# Parts of the root an image never needs.
STRIP_PATHS = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/gtk-doc",
    "usr/include",
    "var/cache",
    "var/tmp",
    "var/log",
)


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


def run(argv: list[str]) -> int:
    say("running " + " ".join(shlex.quote(a) for a in argv))
    return subprocess.run(argv, check=False).returncode


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
    chost = capture(["portageq", "envvar", "CHOST"]) or "unknown-chost"
    compiler = capture([capture(["portageq", "envvar", "CC"]) or "gcc", "-dumpfullversion"])
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


def libc_dir(root: Path) -> Path | None:
    """The directory holding the root's libc: the loader always searches it."""
    for candidate in sorted(root.glob("**/libc.so.6")):
        return candidate.parent
    return None


def copy_compiler_runtime(root: Path, names: list[str]) -> None:
    """Copy libgcc_s (and libstdc++) from the builder's compiler into the root."""
    target = libc_dir(root)
    if target is None:
        say("no libc in the root; skipping compiler runtime libraries")
        return
    for name in names:
        found = subprocess.run(
            ["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not found.startswith("/") or not os.path.exists(found):
            raise PlanError(f"the builder's compiler has no {name}")
        shutil.copy2(os.path.realpath(found), target / name)
        say(f"copied {name} into {target.relative_to(root)}")


def make_locale(root: Path, locale: dict | None) -> int:
    """Compile the locale into the root's locale archive; 0 when it is there."""
    if not locale:
        return 0
    name, charset = locale["name"], locale.get("charset") or "UTF-8"
    archive = root / "usr/lib/locale/locale-archive"
    archive.parent.mkdir(parents=True, exist_ok=True)
    code = run(["localedef", "--prefix", str(root), "-i", name, "-f", charset, f"{name}.{charset}"])
    # localedef exits 1 for mere warnings; the archive tells whether it worked.
    if not archive.is_file():
        print(f"{FAILURE_MARK}localedef could not make {name}.{charset}; see above", flush=True)
        return code or 1
    return 0


def strip_root(root: Path) -> None:
    for rel in STRIP_PATHS:
        path = root / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
    for pattern in ("**/*.a", "**/*.la"):
        for path in root.glob(pattern):
            if path.is_file():
                path.unlink()


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
    missing = [(tool, package) for tool, package in needed if shutil.which(tool) is None]
    for tool, package in missing:
        say(f"the builder has no {tool}; emerging {package} into the builder to sync with it")
        code = run(
            ["emerge", "--color=n", "--quiet-build=y", *BINPKG_OPTIONS, "--oneshot", package]
        )
        if code != 0 or shutil.which(tool) is None:
            print(
                f"{FAILURE_MARK}syncing needs {tool}, which the builder lacks, and {package} "
                f"could not be emerged; use a builder with {package} installed",
                flush=True,
            )
            return code or 1
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


def emerge_packages(root: Path, packages: list[str], env_atoms: list[str]) -> None:
    """The spec's packages and their runtime dependencies into the image root; those in
    ``env_atoms`` are compiled even when a binary package fits."""
    exclude = [f"--usepkg-exclude={' '.join(env_atoms)}"] if env_atoms else []
    update_builder(drifting_build_libraries(image_merge_list(root, [*exclude, *packages])))
    say(f"packages into {root}")
    emerge_into_image(root, ["--oneshot", *exclude, *packages])


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
    except (OSError, PlanError, configparser.Error) as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    say(f"binary packages: the builder's in {builder_pkgdir}, the image's in {image_pkgdir}")
    root = Path(plan["root"])
    root.mkdir(parents=True, exist_ok=True)
    if code := install_sync_tools(plan) or sync_repositories(plan):
        return code
    emerge_c_library(root)
    record = Path(image_pkgdir) / PACKAGE_ENV_RECORD
    env_atoms, env_record = changed_envs(record, package_envs(plan))
    if env_atoms:
        say(f"environment changed for {' '.join(env_atoms)}: compiling them anew")
    emerge_packages(root, plan["packages"], env_atoms)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(env_record, sort_keys=True) + "\n")
    try:
        copy_compiler_runtime(
            root, ["libgcc_s.so.1", *(["libstdc++.so.6"] if plan["stdlib"] else [])]
        )
    except PlanError as exc:
        print(f"staves: {exc}", file=sys.stderr)
        return 1
    if code := make_locale(root, plan["locale"]):
        return code
    strip_root(root)
    say("root filesystem ready")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
