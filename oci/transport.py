"""Destinations and sources in the transport syntax of skopeo and podman.

``oci:DIR[:TAG]``, ``oci-archive:FILE[:TAG]``, ``docker-archive:FILE[:NAME[:TAG]]``,
``docker://REFERENCE`` and ``containers-storage:NAME[:TAG]``. A source is written as a
destination is and parses to the same types: the place an image is written to is the
place it is read back from.
"""

from dataclasses import dataclass
from pathlib import Path

from oci.errors import InvalidReference

TRANSPORTS = ("oci", "oci-archive", "docker-archive", "docker", "containers-storage")


@dataclass(frozen=True)
class OciLayoutDestination:
    path: Path
    tag: str | None = None


@dataclass(frozen=True)
class OciArchiveDestination:
    path: Path
    tag: str | None = None


@dataclass(frozen=True)
class DockerArchiveDestination:
    path: Path
    name: str | None = None


@dataclass(frozen=True)
class RegistryDestination:
    reference: str


@dataclass(frozen=True)
class StorageDestination:
    name: str


Destination = (
    OciLayoutDestination
    | OciArchiveDestination
    | DockerArchiveDestination
    | RegistryDestination
    | StorageDestination
)


# Sources are the same places, read back.
Source = Destination


def _split_path(rest: str, text: str, role: str) -> tuple[Path, str | None]:
    # Like skopeo: the path ends at the first colon; what follows names the image.
    path, _, ref = rest.partition(":")
    if not path:
        raise InvalidReference(f"{role} {text!r} has no path")
    return Path(path), ref or None


def _check_tag(tag: str | None, text: str, role: str) -> str | None:
    if tag is not None and (len(tag) > 128 or any(c in tag for c in "/@: \t\n")):
        raise InvalidReference(
            f"{role} {text!r}: {tag!r} is not a valid tag; "
            "use letters, digits, '_', '.', '-' (at most 128)"
        )
    return tag


def _parse(text: str, role: str) -> Destination:
    if text.startswith("docker://"):
        ref = text.removeprefix("docker://")
        if not ref:
            raise InvalidReference(f"{role} {text!r} has no image reference")
        return RegistryDestination(ref)
    transport, sep, rest = text.partition(":")
    if not sep or transport not in TRANSPORTS or transport == "docker":
        raise InvalidReference(
            f"{role} {text!r} has no known transport; use one of oci:DIR[:TAG], "
            "oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], docker://HOST/REPO:TAG, "
            "containers-storage:NAME[:TAG]"
        )
    if transport == "containers-storage":
        if not rest:
            raise InvalidReference(f"{role} {text!r} has no image name")
        return StorageDestination(rest)
    path, ref = _split_path(rest, text, role)
    if transport == "oci":
        return OciLayoutDestination(path, _check_tag(ref, text, role))
    if transport == "oci-archive":
        return OciArchiveDestination(path, _check_tag(ref, text, role))
    return DockerArchiveDestination(path, ref)


def parse_destination(text: str) -> Destination:
    """Parse a destination; raise InvalidReference with what is accepted."""
    return _parse(text, "destination")


def parse_source(text: str) -> Source:
    """Parse a source (an image to read); raise InvalidReference with what is accepted."""
    return _parse(text, "source")
