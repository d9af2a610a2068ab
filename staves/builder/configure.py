"""Configure phase: the snapshot in place, the epoch, the builder's Portage settings for a
container build, and the image root's own configuration (PORTAGE_CONFIGROOT).

The host renders every Portage file; this phase only writes them where they belong.
"""

import email.utils
import os
import shutil
from pathlib import Path

from .console import say
from .places import (
    BUILDER_PORTAGE,
    DISTDIR,
    IMAGE_CONFIG_ROOT,
    append_text,
    image_path,
    image_portage_dir,
    make_conf_path,
    write_file,
)
from .plan import PlanError
from .protocol import CREDENTIALS_DIR, EPOCH_FILE, REPO_PATH, TIMESTAMP_FILE

# What a container build needs from Portage; every sandbox needs privileges we lack.
# Fetching and syncing run as root, whose home holds the credentials the user shares;
# with credentials shared, userpriv keeps src_unpack to src_test (as portage) from them.
BASE_MAKE_CONF = """
# --- added by staves for container builds ---
FEATURES="${{FEATURES}} -sandbox -usersandbox -ipc-sandbox -network-sandbox -pid-sandbox \
{userpriv} -userfetch -usersync buildpkg binpkg-multi-instance nodoc noinfo noman -news"
DISTDIR="{distdir}"
PORTAGE_ELOG_CLASSES="warn error"
PORTAGE_ELOG_SYSTEM="echo"
MAKEOPTS="-j{jobs}"
PKGDIR="{pkgdir}"
"""
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
# The package whose USE=build pkg_preinst lays out a root's directories, as for a stage.
BASELAYOUT = "sys-apps/baselayout"


def link_snapshot(snapshot: str | None, repo_path: str = REPO_PATH) -> None:
    """Put the mounted Portage snapshot (its tree at REPO_PATH, as gentoo/portage has it)
    at ``repo_path``, where Portage and make.profile expect it."""
    if not snapshot:
        return
    source = Path(snapshot) / REPO_PATH.lstrip("/")
    if not source.is_dir():
        source = Path(snapshot)
    target = Path(repo_path)
    if target.is_symlink():
        target.unlink()
    elif target.is_dir():
        if any(target.iterdir()):
            raise PlanError(f"{repo_path} is not empty in the builder; cannot mount the snapshot")
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
    write_file(Path(EPOCH_FILE), "" if epoch is None else f"{epoch}\n")
    return epoch


def configure_builder(
    plan: dict,
    pkgdir: str,
    portage_dir: str = BUILDER_PORTAGE,
    private: tuple[str, ...] = ("/root", CREDENTIALS_DIR),
) -> None:
    """Container settings and the builder's own PKGDIR into the builder's make.conf, and
    the spec's repositories into its repos.conf (the builder syncs them); with credentials
    shared, the directories holding them (``private``) root's alone."""
    userpriv = "userpriv" if plan["credentials"] else "-userpriv"
    settings = BASE_MAKE_CONF.format(
        jobs=plan["jobs"], distdir=DISTDIR, pkgdir=pkgdir, userpriv=userpriv
    )
    append_text(make_conf_path(Path(portage_dir)), settings)
    if plan["credentials"]:
        for directory in map(Path, private):
            if directory.is_dir():
                directory.chmod(0o700)  # the portage user's phases cannot reach in
    for name, text in sorted(plan["files"].items()):
        if name.startswith(f"{BUILDER_PORTAGE}/repos.conf/"):
            write_file(Path(portage_dir) / name.removeprefix(f"{BUILDER_PORTAGE}/"), text)


def configure_image_root(
    plan: dict,
    pkgdir: str,
    source: str = BUILDER_PORTAGE,
    config_root: str = IMAGE_CONFIG_ROOT,
) -> None:
    """The image root's configuration: the builder's (its make.conf, profile, repositories),
    then the spec's files on top, and the image's own PKGDIR."""
    target = image_portage_dir(config_root)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    profile = target / "make.profile"
    if profile.is_symlink():  # a relative link would point into the config root
        profile.unlink()
        profile.symlink_to(os.path.realpath(Path(source) / "make.profile"))
    append_text(make_conf_path(target), f'PKGDIR="{pkgdir}"\n')
    for name, text in sorted(plan["files"].items()):
        write_file(image_path(name, config_root), text)
    for name, text in sorted(plan["append"].items()):
        if name == f"{BUILDER_PORTAGE}/make.conf":
            append_text(make_conf_path(target), "\n" + text)
        else:
            append_text(image_path(name, config_root), "\n" + text)


# The image root holds what a build from scratch gives, also when a kept root is updated:
# no library of a replaced package is kept for programs still linked to it
# (preserve-libs), and no configuration file is kept back as ._cfg0000_NAME beside one a
# package changed (CONFIG_PROTECT): nobody edits an image root by hand.
IMAGE_FEATURES = "-preserve-libs"
IMAGE_CONFIG_PROTECT_MASK = "/"


def configure_image_shape(plan: dict, config_root: str = IMAGE_CONFIG_ROOT) -> None:
    """What shapes the image root, in its own configuration: Staves' INSTALL_MASK and the
    spec's, no preserved libraries or protected configuration files, and baselayout with
    USE=build (its pkg_preinst lays out the skeleton)."""
    portage_dir = image_portage_dir(config_root)
    mask = " ".join([*INSTALL_MASK, *plan["install_mask"]])
    append_text(make_conf_path(portage_dir), f'INSTALL_MASK="{mask}"\n')
    append_text(make_conf_path(portage_dir), f'FEATURES="${{FEATURES}} {IMAGE_FEATURES}"\n')
    append_text(make_conf_path(portage_dir), f'CONFIG_PROTECT_MASK="{IMAGE_CONFIG_PROTECT_MASK}"\n')
    write_file(portage_dir / "package.use" / "zz-staves-baselayout", f"{BASELAYOUT} build\n")
