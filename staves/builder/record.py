"""Record phase: what the host reads back out of the builder — what the image was made
from (repositories, revisions, distfiles), the root's directory links — and the root
itself as one tar with its owners."""

import bz2
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from .builder_packages import came_from_builder
from .console import run
from .plan import PlanError
from .protocol import (
    GROUP_RECORD,
    LICENSE_MAPPING_RECORD,
    PASSWD_RECORD,
    REPO_PATH,
    ROOT_ARCHIVE_SUFFIX,
    ROOT_LINKS_FILE,
    SOURCES_FILE,
    VDB_RECORD,
)
from .resolve import cpv_name


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
    Path(ROOT_LINKS_FILE).parent.mkdir(parents=True, exist_ok=True)
    Path(ROOT_LINKS_FILE).write_text(json.dumps(links, sort_keys=True), encoding="utf-8")


def _copy_file(source: Path, record: str) -> None:
    """A regular file copied to ``record``; a link or anything else is not followed."""
    if source.is_file() and not source.is_symlink():
        shutil.copyfile(source, record)


def record_root_files(root: Path) -> None:
    """Beside the other records, what the host reads of the finished root — its package
    database, its accounts — and the snapshot's license mapping, so that one request
    brings them all out."""
    vdb = root / "var/db/pkg"
    with tarfile.open(VDB_RECORD, "w") as tar:
        if vdb.is_dir() and not vdb.is_symlink():
            tar.add(vdb, arcname="pkg")  # links within stored as links
    _copy_file(root / "etc/passwd", PASSWD_RECORD)
    _copy_file(root / "etc/group", GROUP_RECORD)
    _copy_file(Path(REPO_PATH) / "metadata/license-mapping.conf", LICENSE_MAPPING_RECORD)


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


def record_sources(
    root: Path,
    repositories: dict[str, str],
    from_builder: dict[str, list[str]],
    runtime_entries: list[str] | None = None,
    out: str = SOURCES_FILE,
) -> None:
    """What the image was made from, as Portage recorded it in the root's package
    database (``repository``, ``REPO_REVISIONS``, the environment's ``A``), with each
    distfile's size and digests from its repository's Manifest (``repositories``: the
    image configuration's, name → location), which packages the builder gave
    (``from_builder``: binary packages packed from its installed ones), and the entries
    made for files copied from the builder (``runtime_entries``: the compiler runtime)."""
    locations = {name: Path(path) for name, path in repositories.items()}
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
                **({"origin": "builder"} if came_from_builder(entry, from_builder) else {}),
            }
        )
    repositories = [
        {"name": name, "location": str(path), "revision": repository_revision(path)}
        for name, path in sorted(locations.items())
    ]
    record = {
        "repositories": repositories,
        "packages": packages,
        "builder_packages": runtime_entries or [],
    }
    Path(out).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")


def archive_root(root: Path) -> None:
    """The root as a tar next to it, with numeric owners, modes and extended attributes;
    its top directory is the root's own name (a kept root's directory, where ``root``
    links to one)."""
    archive = root.with_name(root.name + ROOT_ARCHIVE_SUFFIX)
    source = Path(os.path.realpath(root))
    argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(source.parent)]
    if run([*argv, "-cf", str(archive), source.name]) != 0:
        raise PlanError(f"tar could not archive {root}")
