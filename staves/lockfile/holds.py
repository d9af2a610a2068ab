"""Portage held to a lock's packages: in the image root's own configuration, every name
the lock holds is masked but for its locked versions (``package.mask`` and
``package.unmask``), so that emerge takes exactly those whatever else the tree offers."""

from staves.lockfile.inputs import LOCK_FILE_NAME
from staves.lockfile.model import LockedPlatform

HEADER = "# Written by Staves from staves.lock; do not edit.\n"
MASK = f"/etc/portage/package.mask/{LOCK_FILE_NAME}"
UNMASK = f"/etc/portage/package.unmask/{LOCK_FILE_NAME}"


def hold_files(platform: LockedPlatform) -> dict[str, str]:
    """The plan files that hold the image root to ``platform``'s packages."""
    packages = sorted(platform.packages, key=lambda p: p.cpv)
    names = sorted({p.name for p in packages})
    return {
        MASK: HEADER + "".join(f"{name}\n" for name in names),
        UNMASK: HEADER + "".join(f"{p.atom}\n" for p in packages),
    }
