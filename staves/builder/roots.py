"""The image root a spec built last, kept in the cache volume so that its next build only
merges what changed (Portage updating it as it updates a system) instead of every package.

Beside each kept root: a lock (one build at a time updates it; another build of the same
spec at the same moment builds in a fresh root of its own) and a state file saying whether
the last build into it finished, and which files Staves itself added after the merge
(compiler runtime and its package database entry, locale archive), which are taken out
again before the next update so that the root holds nothing a build from scratch would not.
"""

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .console import say

ROOTS_DIR = "roots"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
# The kept root's own directory name: the root's tar names its top directory after it.
ROOT_NAME = "rootfs"


@dataclass
class ImageRoot:
    """The image root: where the host and Portage know it (``where``; a symlink to a kept
    root), where it is (``path``), and whether it carries an earlier build."""

    where: Path
    path: Path
    kept: Path | None = None  # the directory holding the kept root, its lock and state
    reused: bool = False  # it holds the complete root of the last build
    added: list[str] = field(default_factory=list)  # files Staves adds after the merge
    shape: str = ""  # what the root was merged with that Portage does not compare
    _lock: int | None = None

    def renew(self) -> None:
        """Start again from an empty root (the update would not give a fresh build's)."""
        say(f"starting {self.path} afresh")
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        self.reused = False


def kept_root_dir(image_pkgdir: str, name: str) -> Path:
    """The kept root of image ``name`` for this partition: beside the partition's binary
    packages, under the builder's key, as the partition is."""
    partition = Path(image_pkgdir)
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return partition.parent / ROOTS_DIR / partition.name / digest


def _read_state(kept: Path) -> dict:
    try:
        state = json.loads((kept / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(kept: Path, complete: bool, added: list[str], shape: str) -> None:
    state = {"complete": complete, "added": sorted(set(added)), "shape": shape}
    temporary = kept / f"{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(kept / STATE_FILE)


def _take_lock(kept: Path) -> int | None:
    descriptor = os.open(kept / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _point_at(link: Path, target: Path) -> None:
    """``link`` (the root's path the host reads) as a symlink to ``target``."""
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def open_root(where: str, image_pkgdir: str, name: str | None, shape: str = "") -> ImageRoot:
    """The root to merge into: the kept root of ``name`` when there is one to keep and no
    other build holds it, else a fresh directory at ``where``. ``where`` always names it
    for the host (a symlink to a kept root). A kept root made with another ``shape`` (what
    decides how packages are merged without Portage noticing: INSTALL_MASK, the
    repositories) starts afresh."""
    fresh = ImageRoot(Path(where), Path(where))
    if name is None:
        fresh.path.mkdir(parents=True, exist_ok=True)
        return fresh
    kept = kept_root_dir(image_pkgdir, name)
    kept.mkdir(parents=True, exist_ok=True)
    lock = _take_lock(kept)
    if lock is None:
        say("another build holds this image's kept root; building in a fresh one")
        fresh.path.mkdir(parents=True, exist_ok=True)
        return fresh
    root = ImageRoot(Path(where), kept / ROOT_NAME, kept=kept, _lock=lock)
    state = _read_state(kept)
    if state.get("complete") and state.get("shape") == shape and root.path.is_dir():
        root.reused = True
        _take_out(root.path, [str(p) for p in state.get("added", [])])
        say(f"updating the root kept from this image's last build ({kept})")
    else:
        shutil.rmtree(root.path, ignore_errors=True)
        root.path.mkdir(parents=True)
    root.shape = shape
    _write_state(kept, complete=False, added=[], shape=shape)
    _point_at(Path(where), root.path)
    return root


def _take_out(root: Path, added: list[str]) -> None:
    """Remove what Staves added after the last merge: files, and the package database
    entries it made for them (the compiler runtime's), which Portage would otherwise
    take for installed packages when it updates the root."""
    for relative in added:
        path = root / relative.lstrip("/")
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def close_root(root: ImageRoot, complete: bool) -> None:
    """Record how the build into a kept root ended and let the next build have it."""
    if root.kept is None:
        return
    _write_state(root.kept, complete=complete, added=root.added, shape=root.shape)
    if root._lock is not None:
        os.close(root._lock)
        root._lock = None
