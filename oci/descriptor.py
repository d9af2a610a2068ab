"""Content descriptors and platforms, as the OCI image spec defines them."""

import platform as _platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from oci.errors import InvalidReference

# Python's machine names mapped to GOARCH, which OCI uses.
_GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "i386": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Platform":
        """Parse ``os/arch[/variant]`` as podman's ``--platform`` takes it."""
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidReference(
                f"platform {text!r} is not valid; expected OS/ARCH[/VARIANT], e.g. linux/amd64"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def host(cls) -> "Platform":
        machine = _platform.machine().lower()
        return cls("linux", _GOARCH.get(machine, machine))

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def to_dict(self) -> dict[str, str]:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    # OCI 1.1: the type of an artifact manifest this descriptor points to.
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Descriptor":
        plat = data.get("platform")
        return cls(
            media_type=data["mediaType"],
            digest=data["digest"],
            size=int(data["size"]),
            annotations=MappingProxyType(dict(data.get("annotations") or {})),
            platform=Platform(plat["os"], plat["architecture"], plat.get("variant"))
            if plat
            else None,
            artifact_type=data.get("artifactType"),
        )
