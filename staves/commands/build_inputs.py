"""What ``staves build``'s options mean before the build starts: the credentials the
builder gets, cache volume names, the image reference retagged."""

import re

import click

from staves.commands.options import parse_tag_option
from staves.errors import EXIT_USAGE, StavesError
from staves.podman.builder_access import DEFAULT_AGENT
from staves.spec import Spec
from staves.spec.names import IMAGE_TAG, TAG_HINT


def credential_choices(
    spec: Spec, ssh: str | None, no_ssh: bool, netrc: bool | None
) -> tuple[str | None, bool]:
    """Which SSH agent (None: none) and whether ``~/.netrc`` the builder gets: what the
    options say, else what the spec's repositories ask for; nothing by default."""
    asked = {kind for repo in spec.repositories for kind in repo.credentials}
    ssh_choice = None if no_ssh else ssh or (DEFAULT_AGENT if "ssh" in asked else None)
    netrc_choice = netrc if netrc is not None else "netrc" in asked
    return ssh_choice, netrc_choice


# Podman's rule for volume names.
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def volume_name(option: str, value: str) -> str:
    if not _VOLUME_NAME.fullmatch(value):
        raise _usage(
            option,
            f"{value!r} is not a volume name",
            "letters, digits, '_', '.' and '-', starting with a letter or digit",
        )
    return value


def volume_option(ctx: object, param: click.Parameter, value: str) -> str:
    """click's callback for an option naming a volume: :func:`volume_name` under its name."""
    return volume_name(param.opts[0], value)


def retag(spec: Spec, tag: str | None, version: str | None) -> Spec:
    """Apply ``--tag NAME[:TAG]`` and ``--version V`` to the spec's image reference."""
    if version is not None and not IMAGE_TAG.fullmatch(version):
        raise _usage("--version", f"{version!r} is not an image tag", TAG_HINT)
    name = None
    if tag is not None:
        name, tag_version = parse_tag_option(tag)
        if tag_version is not None:
            if version is not None and version != tag_version:
                raise _usage("--tag", "gives a tag and so does --version", "give the tag once")
            version = tag_version
    return spec.retagged(name=name, version=version)


def _usage(key: str, problem: str, hint: str) -> StavesError:
    return StavesError(problem, key=key, hint=hint, exit_code=EXIT_USAGE)
