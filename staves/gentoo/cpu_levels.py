"""CPU levels as OCI platform variants, and what they mean to Portage.

``linux/amd64/v3`` is the x86-64-v3 level (AVX2, BMI2, FMA, …): packages compiled with
``-march=x86-64-v3`` and the ``CPU_FLAGS_X86`` of that level, which ebuilds read to pick
their optimised code. The builder is the plain amd64 one: the level is in the flags, not
in the builder (Gentoo's stage3 index offers no amd64 variants). Other architectures'
variants (arm64/v8, arm/v7) are the builder's own: its image index picks them, and Staves
adds no flags.
"""

from collections.abc import Sequence

from oci.descriptor import Platform
from oci.platforms import PlatformError, check_platform

# The x86-64 micro-architecture levels (the psABI's), as Gentoo's CPU_FLAGS_X86 names
# their instruction sets (profiles/desc/cpu_flags_x86.desc); each level adds to the last.
_X86_V1 = ("mmx", "mmxext", "sse", "sse2")
_X86_V2 = (*_X86_V1, "popcnt", "sse3", "sse4_1", "sse4_2", "ssse3")
_X86_V3 = (*_X86_V2, "avx", "avx2", "bmi1", "bmi2", "f16c", "fma3")
_X86_V4 = (*_X86_V3, "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl")
X86_LEVELS = {"v1": _X86_V1, "v2": _X86_V2, "v3": _X86_V3, "v4": _X86_V4}
X86_LEVELS_HINT = "amd64 variants are the x86-64 levels v1, v2, v3 and v4 (linux/amd64/v3)"


def variant_problem(platform: Platform) -> str | None:
    """Why Staves cannot build this variant, or None."""
    if platform.architecture == "amd64" and platform.variant not in (None, *X86_LEVELS):
        return f"{platform.variant!r} is not an x86-64 level"
    return None


def builder_platform(platform: Platform) -> Platform:
    """The platform of the builder that compiles for ``platform``."""
    if platform.architecture == "amd64":
        return Platform(platform.os, platform.architecture)
    return platform


def level_make_conf(platform: Platform) -> str:
    """make.conf lines that compile for the platform's CPU level; empty for none.

    They come last in the image root's make.conf, after the spec's ``[env]``, so the level
    is added to whatever flags the spec chose.
    """
    if platform.architecture != "amd64" or platform.variant in (None, "v1"):
        return ""
    march = f"-march=x86-64-{platform.variant}"
    flags = " ".join(sorted(X86_LEVELS[platform.variant]))
    lines = [f"# {platform}: the x86-64-{platform.variant} level"]
    lines += [
        f'{name}="${{{name}}} {march}"' for name in ("CFLAGS", "CXXFLAGS", "FCFLAGS", "FFLAGS")
    ]
    lines.append(f'CPU_FLAGS_X86="{flags}"')
    return "\n".join(lines) + "\n"


class PlatformProblem(ValueError):
    """A platform Staves cannot build, with what it accepts."""

    def __init__(self, problem: str, accepted: str) -> None:
        super().__init__(problem)
        self.accepted = accepted


PLATFORM_HINT = "OS/ARCH[/VARIANT] as podman's --platform takes it, e.g. linux/arm64"
# Portage builds in a Linux builder: what Staves builds runs on Linux.
BUILD_OS_HINT = "Staves builds linux images: linux/ARCH[/VARIANT], e.g. linux/arm64"


def parse_build_platform(text: str) -> Platform:
    """One platform Staves can build: an OCI/Go platform, on linux, of a variant Staves
    can compile for."""
    try:
        platform = check_platform(text.strip())
    except PlatformError as exc:
        raise PlatformProblem(exc.problem, exc.accepted) from None
    if platform.os != "linux":
        raise PlatformProblem(f"{platform.os!r} in {text!r} is not linux", BUILD_OS_HINT)
    if (problem := variant_problem(platform)) is not None:
        raise PlatformProblem(problem, X86_LEVELS_HINT)
    return platform


def parse_build_platforms(texts: Sequence[str]) -> tuple[Platform, ...]:
    """The platforms to build, in the order given: each ``OS/ARCH[/VARIANT]``, a variant
    Staves can compile for, none twice. The one parser for ``--platform`` and
    ``platforms``."""
    found: list[Platform] = []
    for text in texts:
        platform = parse_build_platform(text)
        if platform in found:
            raise PlatformProblem(f"{platform} is named twice", "each platform once")
        found.append(platform)
    if not found:
        raise PlatformProblem("no platform is named", PLATFORM_HINT)
    return tuple(found)
