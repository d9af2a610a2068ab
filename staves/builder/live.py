"""Live packages (``PROPERTIES=live``: their sources are fetched from upstream, a branch
that moves, whenever they are built): never taken as they are. Binary packages of them are
left alone (emerge's ``--usepkg-exclude-live``), and those installed in a kept root are
built and merged again."""

from pathlib import Path

from .resolve import cpv_name


def is_live(entry: Path) -> bool:
    """Whether the package database entry ``entry`` records a live package."""
    try:
        properties = (entry / "PROPERTIES").read_text(encoding="utf-8")
    except OSError:
        return False
    return "live" in properties.split()


def installed_live(root: Path) -> list[str]:
    """CATEGORY/PN of the live packages installed in ``root``."""
    entries = sorted(root.glob("var/db/pkg/*/*"))
    return sorted({cpv_name(f"{e.parent.name}/{e.name}") for e in entries if is_live(e)})
