"""Where things are in the builder (beside the files the host reads, ``protocol``)."""

from pathlib import Path

PORTAGE_TMPDIR = "/var/tmp/portage"
DISTDIR = "/var/cache/distfiles"  # the distfiles cache volume
BUILDER_PORTAGE = "/etc/portage"
# The image root's own Portage configuration (PORTAGE_CONFIGROOT): the spec's make.conf
# and package.* files shape the image's packages there, never the builder's own.
IMAGE_CONFIG_ROOT = "/var/lib/staves/image-config"


def image_portage_dir(config_root: str = IMAGE_CONFIG_ROOT) -> Path:
    """The image configuration's /etc/portage."""
    return Path(config_root) / BUILDER_PORTAGE.lstrip("/")


def image_path(name: str, config_root: str = IMAGE_CONFIG_ROOT) -> Path:
    """Where a plan file for /etc/portage goes in the image root's configuration."""
    return Path(config_root) / name.lstrip("/")


def make_conf_path(portage_dir: Path) -> Path:
    make_conf = portage_dir / "make.conf"
    if make_conf.is_dir():  # some stage3s keep make.conf as a directory of files
        return make_conf / "zz-staves"
    return make_conf


def append_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
