"""Resolve phase: what Portage would merge into the image root, read before anything is
merged — the licenses it refuses, the packages compiled or taken as binaries, and the
builder's libraries that would drift from the image's."""

import hashlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from .configure import BASELAYOUT
from .console import fail, say
from .places import BUILDER_PORTAGE, IMAGE_CONFIG_ROOT

# "[ebuild  N ] dev-libs/libshape-2:0/2::gentoo to /tmp/rootfs/ …" in emerge's merge list.
# A binary package shows its build id after the version (binpkg-multi-instance).
_VERSION = r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?"
_CPV = rf"([\w+][\w+.-]*/[\w+][\w+-]*?-{_VERSION})(?:-\d+)?"
_MERGE_LINE = re.compile(rf"^\[(ebuild|binary)[^\]]*\] {_CPV}(?::[^:\s]+)?(?:::\S+)? to (\S+)")
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


def image_merge_list(
    root: Path, packages: list[str], binpkg_options: list[str]
) -> list[tuple[str, str]]:
    """(how, cpv) for each package emerge would merge into the image root, from a pretend
    run: how is "ebuild" (compiled) or "binary"."""
    argv = ["emerge", "--color=n", "--pretend", "--quiet", *binpkg_options]
    argv += [f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}", "--oneshot", *packages]
    say("running " + " ".join(shlex.quote(a) for a in argv))
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout + done.stderr, flush=True)
        fail(f"emerge cannot install {' '.join(packages)}; see above")
        sys.exit(done.returncode)
    return merges_into(done.stdout, root)


def merges_into(merge_list: str, root: Path) -> list[tuple[str, str]]:
    """(how, cpv) of the lines of emerge's merge list that merge into ``root``."""
    target = str(root).rstrip("/") + "/"
    matches = (_MERGE_LINE.match(line) for line in merge_list.splitlines())
    return [(m[1], m[2]) for m in matches if m and m[3].rstrip("/") + "/" == target]


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


def drifting_build_libraries(
    merges: list[tuple[str, str]], vdb: Path = Path("/var/db/pkg")
) -> list[str]:
    """Packages the image receives that the builder has at another version, when something
    is compiled: the builder gets the image's version first, so that nothing is compiled
    against a library (or subslot) the image will not have. The C library stays as it is:
    what is built against an older glibc runs on a newer one, and Portage records that
    (">=") in each binary package."""
    if not any(how == "ebuild" for how, _ in merges):
        return []
    libc = builder_libc(vdb)
    drifting = []
    for _, cpv in merges:
        installed = installed_in_builder(cpv_name(cpv), vdb)
        if installed and cpv not in installed and cpv_name(cpv) not in libc:
            drifting.append(f"={cpv}")
    return drifting


def license_refusals(output: str) -> list[tuple[str, str]]:
    """(package, licenses) for each package emerge says ACCEPT_LICENSE masks."""
    found = (_LICENSE_MASKED.match(line.strip()) for line in output.splitlines())
    return list(dict.fromkeys((m[1], m[2]) for m in found if m))


def refuse_unaccepted_licenses(root: Path, packages: list[str], binpkg_options: list[str]) -> int:
    """Before anything is merged or compiled: fail, naming the package and its license,
    when the image's ACCEPT_LICENSE (the profile's, then the spec's accept_license and
    package licenses) refuses a package the image needs; 0 otherwise. Any other reason
    emerge has to stop is left to the steps that follow, which explain it."""
    argv = ["emerge", "--color=n", "--pretend", "--quiet", *binpkg_options, "--oneshot"]
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
    fail(
        f"{package}: its license {licenses} is not accepted{more}; "
        "accept it with accept_license or the package's license in the spec"
    )
    return 1


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
    shaping = {key: value for key, value in plan.items() if key not in ("jobs", "lease")}
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
