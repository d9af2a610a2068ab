"""Which Podman service builds which platform: ``--url [PLATFORM=]URL``, repeatable.

``--url URL`` is the service for every platform no other ``--url`` names;
``--url linux/arm64=ssh://arm-box/run/podman/podman.sock`` sends that platform's builder
to a native arm64 machine. Platforms on different services build at the same time, one
thread each; platforms on one service build one after another (see ``build_order``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from oci.descriptor import Platform
from oci.errors import InvalidReference
from staves.errors import EXIT_USAGE, StavesError

_HINT = "--url URL for every platform, --url OS/ARCH[/VARIANT]=URL for one"


@dataclass(frozen=True)
class PlatformServices:
    """The Podman service of each platform; None is the usual lookup (CONTAINER_HOST, the
    sockets, a private service)."""

    default: str | None = None
    by_platform: Mapping[Platform, str] = field(default_factory=dict)

    def url_for(self, platform: Platform) -> str | None:
        return self.by_platform.get(platform, self.default)

    def build_order(self, platforms: Sequence[Platform]) -> list[tuple[str | None, list[Platform]]]:
        """The platforms grouped by service, each group in the order given: the groups run
        side by side, a group's platforms one after another. One service builds one
        platform at a time: its machine's cores are shared, and an emulated build beside
        a native one makes both slower than the two in turn."""
        groups: dict[str | None, list[Platform]] = {}
        for platform in platforms:
            groups.setdefault(self.url_for(platform), []).append(platform)
        return list(groups.items())


def _platform_part(value: str) -> Platform | None:
    """The platform of ``OS/ARCH[/VARIANT]=URL``, None when the value is a plain URL."""
    head, sep, _ = value.partition("=")
    if not sep or ":" in head or "/" not in head:
        return None
    try:
        return Platform.parse(head)
    except InvalidReference:
        return None


def parse_service_urls(values: Sequence[str], platforms: Sequence[Platform]) -> PlatformServices:
    """Every ``--url`` value, checked against the platforms being built."""
    default: str | None = None
    by_platform: dict[Platform, str] = {}
    for value in values:
        platform = _platform_part(value)
        if platform is None:
            if default is not None:
                raise _usage(f"{value!r}: a second URL for every platform", _HINT)
            default = value
            continue
        url = value.partition("=")[2]
        if not url:
            raise _usage(f"{value!r} names no URL", _HINT)
        if platform not in platforms:
            built = ", ".join(map(str, platforms))
            raise _usage(f"{value!r}: {platform} is not built", f"the platforms built: {built}")
        if platform in by_platform:
            raise _usage(f"{value!r}: {platform} has a URL already", "one --url per platform")
        by_platform[platform] = url
    return PlatformServices(default, by_platform)


def _usage(problem: str, hint: str) -> StavesError:
    return StavesError(problem, key="--url", hint=hint, exit_code=EXIT_USAGE)
