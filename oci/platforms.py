"""Choosing the image for a platform out of an index: the same rule for every source."""

from collections.abc import Mapping
from typing import Any

from oci.descriptor import Platform
from oci.errors import InvalidReference
from oci.media import INDEX_TYPES


def pick_platform(index: Mapping[str, Any], wanted: Platform) -> Mapping[str, Any] | None:
    """The index entry for ``wanted``: same os and architecture; with a variant wanted,
    that variant, else one that names none."""
    matches = [
        entry
        for entry in index.get("manifests", [])
        if entry.get("mediaType") not in INDEX_TYPES
        and not entry.get("artifactType")
        and (
            (entry.get("platform") or {}).get("os"),
            (entry.get("platform") or {}).get("architecture"),
        )
        == (wanted.os, wanted.architecture)
    ]
    if wanted.variant is not None:
        exact = [e for e in matches if e["platform"].get("variant") == wanted.variant]
        matches = exact or [e for e in matches if not e["platform"].get("variant")]
    return matches[0] if matches else None


def platform_names(index: Mapping[str, Any]) -> str:
    """The platforms an index offers, for an error that says none matched."""
    names = []
    for entry in index.get("manifests", []):
        plat = entry.get("platform") or {}
        if plat.get("os") and plat.get("architecture"):
            names.append(
                "/".join(p for p in (plat["os"], plat["architecture"], plat.get("variant")) if p)
            )
    return ", ".join(sorted(set(names))) or "none"


# The values the OCI image index takes for a platform: Go's GOOS and GOARCH (go/build's
# syslist.go), and the variants the spec and containerd's platform matcher know.
GOOS = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
]
GOARCH = [
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "arm64",
    "arm64be",
    "armbe",
    "loong64",
    "mips",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "mipsle",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
]
VARIANTS = {
    "amd64": ("v1", "v2", "v3", "v4"),  # the x86-64 micro-architecture levels
    "arm": ("v5", "v6", "v7", "v8"),
    "arm64": ("v8", *(f"v8.{n}" for n in range(10)), "v9", *(f"v9.{n}" for n in range(6))),
}
PLATFORM_FORM = "OS/ARCH[/VARIANT] as podman's --platform takes it, e.g. linux/arm64"


class PlatformError(InvalidReference):
    """A platform that is not one of the OCI/Go values, with what is accepted."""

    def __init__(self, problem: str, accepted: str) -> None:
        super().__init__(f"{problem}; {accepted}")
        self.problem = problem
        self.accepted = accepted


def _variants_hint(architecture: str) -> str:
    known = VARIANTS.get(architecture)
    if known is None:
        return (
            f"{architecture} takes no variant (variants: "
            + ", ".join(
                f"{arch} {'/'.join(v for v in names if '.' not in v)}"
                for arch, names in VARIANTS.items()
            )
            + ")"
        )
    shown = [v for v in known if "." not in v]
    extra = {"arm64": " (and v8.N, v9.N)", "amd64": " (the x86-64 levels)"}.get(architecture, "")
    return f"variants of {architecture}: {', '.join(shown)}{extra}"


def check_platform(text: str) -> Platform:
    """``OS/ARCH[/VARIANT]`` with an OS in GOOS, an architecture in GOARCH and a variant
    that architecture has; one line naming what is accepted otherwise."""
    if "," in text:
        count = len(text.split(","))
        raise PlatformError(f"{text!r} names {count} platforms, here one is taken", PLATFORM_FORM)
    try:
        platform = Platform.parse(text)
    except InvalidReference:
        raise PlatformError(f"{text!r} is not a platform", PLATFORM_FORM) from None
    if platform.os not in GOOS:
        raise PlatformError(
            f"{platform.os!r} in {text!r} is not an OS", "one of Go's GOOS: " + ", ".join(GOOS)
        )
    if platform.architecture not in GOARCH:
        raise PlatformError(
            f"{platform.architecture!r} in {text!r} is not an architecture",
            "one of Go's GOARCH: " + ", ".join(GOARCH),
        )
    if platform.variant is not None and platform.variant not in VARIANTS.get(
        platform.architecture, ()
    ):
        raise PlatformError(
            f"{platform.variant!r} in {text!r} is not a variant of {platform.architecture}",
            _variants_hint(platform.architecture),
        )
    return platform
