"""User patches: the spec's patch files in the image configuration's /etc/portage/patches,
where eapply_user finds them; which of them each merged package was built with (for the
SBOM and the provenance); and, when one does not apply, which hunk of which file."""

import base64
import hashlib
import json
import re
from pathlib import Path

from .places import IMAGE_CONFIG_ROOT
from .plan import PlanError
from .protocol import SOURCES_FILE
from .resolve import cpv_name

PATCHES_DIR = "etc/portage/patches"
# The copies' names → the paths the spec gives, for naming a patch that does not apply.
SOURCES_RECORD = "/tmp/staves-patch-sources.json"
_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9+_.:-]*")
# Portage's record of the patches eapply_user applied: "SHA256\0NAME\0" for each.
DIGESTS_FILE = "user_patch.digests"


def write_patches(
    plan: dict, config_root: str = IMAGE_CONFIG_ROOT, record: str = SOURCES_RECORD
) -> None:
    """Each plan patch into ``CATEGORY/DIRECTORY/NAME`` under the configuration root's
    /etc/portage/patches, checked against its sha256; ``record`` says which spec path
    each copy is."""
    top = Path(config_root) / PATCHES_DIR
    sources = {}
    for entry in plan["patches"]:
        category, _, directory = str(entry.get("directory", "")).partition("/")
        name = str(entry.get("name", ""))
        if not all(_PART.fullmatch(part) for part in (category, directory, name)):
            raise PlanError(f"plan patch {entry.get('directory')}/{name} is not a plain path")
        try:
            data = base64.b64decode(entry["data"], validate=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"plan patch {name} has no readable content") from exc
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise PlanError(f"plan patch {name} does not match its sha256")
        target = top / category / directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        sources[name] = str(entry.get("source") or name)
    Path(record).write_text(json.dumps(sources, sort_keys=True), encoding="utf-8")


def _portage_record(entry: Path) -> dict[str, str] | None:
    """NAME → sha256 of what eapply_user applied, as Portage recorded it; None when this
    Portage records nothing (then the directories tell)."""
    try:
        fields = (entry / DIGESTS_FILE).read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    return dict(zip(fields[1::2], fields[0::2], strict=False))


def _directories(cpv: str, slot: str) -> set[str]:
    """The directories eapply_user reads for CATEGORY/PF of SLOT: PN, P and P-PR (-r0
    without a revision), each also with :SLOT."""
    category, pf = cpv.split("/", 1)
    pn = cpv_name(cpv).split("/", 1)[1]
    version = pf[len(pn) + 1 :]
    p = f"{pn}-{re.sub(r'-r[0-9]+$', '', version)}"
    revision = version.rsplit("-", 1)[1] if re.search(r"-r[0-9]+$", version) else "r0"
    base = slot.split("/")[0]
    names = (pn, p, f"{p}-{revision}")
    return {f"{category}/{n}{s}" for n in names for s in ("", f":{base}" if base else "")}


def applied_patches(entry: Path, patches: list[dict]) -> list[dict]:
    """The plan's patches the package of database entry ``entry`` was built with: its
    name, the spec's path and the sha256 of each."""
    cpv = f"{entry.parent.name}/{entry.name}"
    recorded = _portage_record(entry)
    if recorded is None:
        try:
            slot = (entry / "SLOT").read_text(encoding="utf-8").strip()
        except OSError:
            slot = ""
        directories = _directories(cpv, slot)
        recorded = {p["name"]: p["sha256"] for p in patches if p["directory"] in directories}
    by_name = {p["name"]: p for p in patches}
    return [
        {"name": name, "source": by_name[name]["source"], "sha256": digest}
        for name, digest in sorted(recorded.items())
        if name in by_name
    ]


def record_applied_patches(root: Path, patches: list[dict], record: str = SOURCES_FILE) -> None:
    """Add to the sources record, for each package built with user patches, which."""
    if not patches:
        return
    path = Path(record)
    sources = json.loads(path.read_text(encoding="utf-8"))
    for package in sources.get("packages", []):
        applied = applied_patches(root / "var/db/pkg" / package["cpv"], patches)
        if applied:
            package["patches"] = applied
    path.write_text(json.dumps(sources, sort_keys=True), encoding="utf-8")


_FAILED_WITH = re.compile(r"failed with '[^']*/([^'/]+)'")
_PATCHING = re.compile(r"^(?:patching|checking) file (.+)$")
_HUNK_FAILED = re.compile(r"^Hunk #(\d+) FAILED at (\d+)")
_TROUBLES = (
    ("can't find file to patch", "a file it patches is missing"),
    ("Reversed (or previously applied) patch detected", "it is applied already (or reversed)"),
    ("malformed patch", "it is malformed"),
    ("Only garbage was found", "it holds no patch"),
)


def patch_problem(log_text: str, record: str = SOURCES_RECORD) -> str | None:
    """Which user patch did not apply, and why (the failing hunks and their files), from
    eapply's output in a build log; None when no patch failed."""
    lines = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line).strip() for line in log_text.splitlines()]
    failed = next((m[1] for line in lines if (m := _FAILED_WITH.search(line))), None)
    if failed is None:
        return None
    try:
        source = json.loads(Path(record).read_text(encoding="utf-8")).get(failed, failed)
    except (OSError, ValueError):
        source = failed
    applying = [i for i, line in enumerate(lines) if failed in line and "Applying" in line]
    start = applying[-1] if applying else 0
    hunks, file = [], None
    for line in lines[start:]:
        if match := _PATCHING.match(line):
            file = match[1]
        elif match := _HUNK_FAILED.match(line):
            hunks.append(f"hunk #{match[1]} at line {match[2]} of {file or 'its file'}")
    if hunks:
        return f"user patch {source} does not apply: " + ", ".join(hunks) + " FAILED"
    why = next((w for mark, w in _TROUBLES for line in lines[start:] if mark in line), None)
    return f"user patch {source} does not apply: {why or 'see its output above'}"


def patched_directories(plan: dict) -> frozenset[str]:
    """The directories the plan's patches are in, without their slots."""
    return frozenset(str(p["directory"]).split(":")[0] for p in plan["patches"])


def is_patched(cpv: str, directories: frozenset[str]) -> bool:
    """Whether eapply_user may apply a patch of ``directories`` to CATEGORY/PF (whatever
    its slot): then no copy built without it stands in for it."""
    return bool({d.split(":")[0] for d in _directories(cpv, "")} & directories)
