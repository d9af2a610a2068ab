"""The validated spec: frozen dataclasses, nothing but data."""

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from oci.descriptor import Platform
from staves.spec.distcc import DistccHost

Pairs = tuple[tuple[str, str], ...]
Vdb = Literal["trim", "none", "full"]


@dataclass(frozen=True)
class Patch:
    """A patch file a package table names, read when the spec is: what eapply_user applies
    to the package's sources in src_prepare."""

    path: str  # as the spec names it, relative to the spec's directory
    sha256: str
    data: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class PackageConfig:
    """Settings from one per-package table such as ``['app-shells/bash']``."""

    atom: str
    use: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    license: tuple[str, ...] = ()
    unmask: bool = False
    mask: bool = False
    patches: tuple[Patch, ...] = ()


@dataclass(frozen=True)
class NamedEnv:
    """An ``[env.NAME]`` table, written to ``/etc/portage/env/NAME``."""

    name: str
    variables: Pairs


@dataclass(frozen=True)
class Repository:
    """A ``[[repositories]]`` entry, written to ``/etc/portage/repos.conf/NAME``."""

    name: str
    type: str
    uri: str
    # What syncing it needs shared with the builder: "ssh" (an agent), "netrc".
    credentials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binhost:
    """A ``[[binhosts]]`` entry, a section of binrepos.conf in both roots' configuration."""

    name: str
    uri: str
    priority: int = 0
    verify_signature: bool = False


@dataclass(frozen=True)
class Locale:
    """The one locale generated in the image, e.g. ``en_US.UTF-8`` / ``UTF-8``."""

    name: str
    charset: str


@dataclass(frozen=True)
class Debug:
    """``debug``: the packages built with their debug information split out (splitdebug),
    and a second image holding it."""

    sources: bool = False  # their sources too (installsources), in /usr/src/debug
    packages: tuple[str, ...] = ()  # what else the debug image holds: a shell, a debugger


@dataclass(frozen=True)
class ImageSettings:
    """What the image packer needs: reference and OCI runtime config."""

    name: str
    version: str = "latest"
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str | None = None
    workdir: str | None = None
    env: Pairs = ()
    ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Pairs = ()
    annotations: Pairs = ()
    stop_signal: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Spec:
    """A whole, valid ``staves.toml``."""

    image: ImageSettings
    packages: tuple[str, ...]
    package_config: tuple[PackageConfig, ...] = ()
    make_conf: Pairs = ()
    envs: tuple[NamedEnv, ...] = ()
    repositories: tuple[Repository, ...] = ()
    locale: Locale | None = None
    stdlib: bool = False
    install_mask: tuple[str, ...] = ()
    layers: int = 1
    vdb: Vdb = "trim"
    # ACCEPT_LICENSE tokens for the image's packages, after the profile's.
    accept_license: tuple[str, ...] = ()
    binhosts: tuple[Binhost, ...] = ()
    platforms: tuple[Platform, ...] = ()  # platforms = ["linux/amd64", ...]; () is the host's
    debug: Debug | None = None  # None: no debug image
    distcc: tuple[DistccHost, ...] = ()  # [distcc] hosts: helpers compiling for the builder

    @property
    def name(self) -> str:
        return self.image.name

    @property
    def version(self) -> str:
        return self.image.version

    def retagged(self, name: str | None = None, version: str | None = None) -> "Spec":
        """This spec with the image name and/or version replaced."""
        image = dataclasses.replace(
            self.image,
            name=self.image.name if name is None else name,
            version=self.image.version if version is None else version,
        )
        return dataclasses.replace(self, image=image)
