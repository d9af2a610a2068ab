"""The lock file's content: frozen dataclasses, nothing but data."""

from dataclasses import dataclass

from staves.gentoo.atom import parse_atom

# Bumped when the format changes meaning; a lock of another version is refused.
LOCK_VERSION = 1
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class Distfile:
    """A source file a package is built from, as its repository's Manifest records it."""

    name: str
    size: int | None = None
    blake2b: str | None = None
    sha512: str | None = None


@dataclass(frozen=True)
class LockedPackage:
    """One package the image holds: ``=CATEGORY/PF::REPOSITORY`` with how it is built."""

    cpv: str  # CATEGORY/PF
    repository: str
    slot: str
    use: tuple[str, ...] = ()  # every flag it has: "flag" on, "-flag" off
    live: bool = False  # PROPERTIES=live: built from its upstream's branch every time
    distfiles: tuple[Distfile, ...] = ()

    @property
    def atom(self) -> str:
        return f"={self.cpv}::{self.repository}"

    @property
    def name(self) -> str:
        """CATEGORY/PN."""
        return parse_atom(f"={self.cpv}").cp

    @property
    def version(self) -> str:
        """PVR."""
        return str(parse_atom(f"={self.cpv}").version)

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(f for f in self.use if not f.startswith("-"))


def image_id(text: str) -> str:
    """An image ID as the lock writes it, ``sha256:HEX`` (Podman answers bare hex)."""
    return text if text.startswith("sha256:") else f"sha256:{text}"


@dataclass(frozen=True)
class LockedImage:
    """An image the build runs from: as named, its registry digest where it has one, and
    (the snapshot) its image ID."""

    image: str
    digest: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class LockedRepository:
    """A repository at the revision the lock was resolved from (the snapshot's
    ``metadata/timestamp.commit`` for ``gentoo``, a commit for a git repository)."""

    name: str
    commit: str | None = None
    sync_type: str | None = None
    uri: str | None = None


@dataclass(frozen=True)
class LockedPlatform:
    """One platform's resolution: the builder image it ran on (its ID, and its registry
    digest to pull it by) and the packages."""

    platform: str
    builder_id: str
    packages: tuple[LockedPackage, ...] = ()
    builder_digest: str | None = None

    @property
    def live(self) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.live)


@dataclass(frozen=True)
class SpecInputs:
    """What of the spec the resolution depends on: its packages, and a digest of every
    Portage file it renders (USE, keywords, licenses, make.conf, repositories…)."""

    packages: tuple[str, ...]
    portage: str


@dataclass(frozen=True)
class Lock:
    """A whole ``staves.lock``."""

    spec: SpecInputs
    snapshot: LockedImage
    builder: LockedImage
    repositories: tuple[LockedRepository, ...] = ()
    platforms: tuple[LockedPlatform, ...] = ()
    timestamp_commit: str | None = None  # the snapshot's metadata/timestamp.commit

    def platform(self, name: str) -> LockedPlatform | None:
        return next((p for p in self.platforms if p.platform == name), None)

    @property
    def pins(self) -> dict[str, str]:
        """Repository name → commit, for the repositories a build checks out (git)."""
        return {r.name: r.commit for r in self.repositories if r.sync_type == "git" and r.commit}
