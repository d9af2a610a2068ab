#!/usr/bin/env python3
"""Runs inside the builder container: apply the rendered Portage config, emerge into a root.

Standard library only: this file is passed to a Gentoo stage3 (or the test builder) and
run with the builder's own python3. The host renders every Portage file; this script only
writes them, runs emerge, and prepares the root filesystem that becomes the image.

Usage: python3 inbuilder.py PLAN-JSON  (the host runs it as python3 -c SCRIPT PLAN-JSON)
"""

import email.utils
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
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
    "lease": (str, type(None)),
    "epoch": (int, type(None)),
    "discard_pkgdir": bool,
}
REPO_PATH = "/var/db/repos/gentoo"
# Gentoo's snapshots say when they were taken, as "Mon, 30 Nov 2026 00:45:01 +0000".
TIMESTAMP_FILE = "metadata/timestamp.chk"
# The epoch the packages were built with, for the host to read (empty: none known).
EPOCH_FILE = "/tmp/staves-epoch"
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
    plan.setdefault("lease", None)
    plan.setdefault("epoch", None)
    plan.setdefault("discard_pkgdir", False)
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
    """Remove a build's own binary-package directory (a reproducibility check's)."""
    if pkgdir:
        shutil.rmtree(pkgdir, ignore_errors=True)
        say(f"removed {pkgdir}")


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
        write_config(plan)
        export_epoch(plan["epoch"])
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
    # The C library first: without it every binary package looks built against other deps.
    say(f"the C library into {root}")
    emerge([*common, f"--root={root}", "--root-deps=rdeps", "--oneshot", "virtual/libc"])
    say(f"packages into {root}")
    emerge([*common, f"--root={root}", "--root-deps=rdeps", "--oneshot", *packages])
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


def lease_of(argv: list[str]) -> Lease | None:
    """The lease the plan names, if it parses; ``main`` reports a plan that does not."""
    try:
        path = json.loads(argv[1]).get("lease") if len(argv) == 2 else None
    except (ValueError, AttributeError):
        return None
    return Lease(path) if isinstance(path, str) else None


def serve(argv: list[str]) -> int:
    """Build under the host's lease, then hold the root until the host has exported it."""
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
    """The plan's pkgdir when the plan asks for it to go after the build."""
    try:
        plan = load_plan(argv[1]) if len(argv) == 2 else None
    except PlanError:
        return None
    return plan["pkgdir"] if plan and plan["discard_pkgdir"] else None


if __name__ == "__main__":
    sys.exit(serve(sys.argv))
