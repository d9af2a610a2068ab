"""The cache volume's binary-package partition: the builder's and the image root's
PKGDIR under the builder's key, the binhosts each root asks, and Portage's index of them."""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .console import capture, run, say
from .places import BUILDER_PORTAGE, IMAGE_CONFIG_ROOT, append_text, image_portage_dir
from .plan import PlanError
from .protocol import PARTITION_FILE


def profile_name(portage_dir: str = BUILDER_PORTAGE) -> str:
    """The builder's profile as its repository names it (default/linux/amd64/23.0)."""
    profile = Path(portage_dir) / "make.profile"
    target = Path(os.path.realpath(profile))
    parts = target.parts
    if "profiles" in parts:
        return "/".join(parts[len(parts) - parts[::-1].index("profiles") :])
    # A make.profile directory of its own: what it holds names it.
    digest = hashlib.sha256()
    for path in sorted(p for p in profile.rglob("*") if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return "local-" + digest.hexdigest()[:12]


def builder_key(found: dict[str, str]) -> str:
    """What makes this builder's binaries incompatible with another's: CHOST, profile and
    compiler version (``found``: the builder's CHOST and CC, as Portage has them)."""
    chost = found.get("CHOST") or "unknown-chost"
    compiler = capture([found.get("CC") or "gcc", "-dumpfullversion"])
    parts = (chost, profile_name().replace("/", "_"), f"cc-{compiler or 'none'}")
    return re.sub(r"[^A-Za-z0-9._+-]", "_", ".".join(parts))


def binpkg_dirs(pkgdir: str | None, key: str) -> tuple[str, str]:
    """The builder's and the image root's PKGDIR: apart, under the builder's key.

    Each root's binary packages record that root's C library and are built with that
    root's configuration, so neither may stand in for the other.
    """
    base = Path(pkgdir or "/var/cache/binpkgs/env-default")
    keyed = base.parent / key
    return str(keyed / "builder"), str(keyed / f"image-{base.name}")


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


def configure_binhosts(
    plan: dict, builder_pkgdir: str, image_pkgdir: str, config_root: str = IMAGE_CONFIG_ROOT
) -> None:
    """The plan's binhosts into both roots' binrepos.conf, each root pointed at its own
    partition; the builder's own entries (a stage3's official binhost) stay as they are."""
    for portage_dir, partition in (
        (Path(BUILDER_PORTAGE), Path(builder_pkgdir)),
        (image_portage_dir(config_root), Path(image_pkgdir)),
    ):
        sections = "".join(binrepo_section(host, partition) for host in plan["binhosts"])
        if sections:
            append_text(binrepos_path(portage_dir), "\n" + sections)


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


def discard_pkgdir(pkgdir: str | None) -> None:
    """Remove a build's own binary-package directory (a reproducibility check's: the image
    root's; the builder's own packages are not in the image and stay)."""
    if pkgdir:
        shutil.rmtree(pkgdir, ignore_errors=True)
        say(f"removed {pkgdir}")
