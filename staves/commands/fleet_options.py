"""Options for builds that share their caches and machines: binary hosts (``--binhost``,
``--getbinpkg``), the cache in a registry (``--cache-to``, ``--cache-from``), distcc helpers
(``--distcc``, ``--no-distcc``) and remote Podman's ``--identity``."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from oci.errors import InvalidReference
from oci.registry import RegistryOptions, parse_reference
from staves.caches.binpkg_cache import CacheSource
from staves.commands.options import with_options
from staves.errors import EXIT_USAGE, StavesError
from staves.spec import Spec
from staves.spec.distcc import HOST_HINT, parse_host
from staves.spec.read_binhosts import URI_HINT, binhost_uri_problem

CACHE_TAG = "latest"


def fleet_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--binhost``, ``--getbinpkg/--no-getbinpkg``, ``--cache-to``, ``--cache-from``."""
    options = [
        click.option(
            "--binhost",
            "binhosts",
            multiple=True,
            metavar="URI",
            help="A binhost `staves cache export` wrote, served over HTTP; repeatable "
            "(after the spec's [[binhosts]]).",
        ),
        click.option(
            "--getbinpkg/--no-getbinpkg",
            default=None,
            help="Fetch binary packages from the binhosts, the builder's own binrepos.conf "
            "included (a stage3's: the official Gentoo binhost) [when binhosts are given].",
        ),
        click.option(
            "--cache-to",
            metavar="docker://REG/REPO[:TAG]",
            help="After the build, push its binary packages there (one blob per package).",
        ),
        click.option(
            "--cache-from",
            metavar="docker://REG/REPO[:TAG]",
            help="Before the build, pull the binary packages --cache-to pushed there.",
        ),
        click.option(
            "--distcc",
            "distcc_hosts",
            multiple=True,
            metavar="HOST[:PORT][/LIMIT]",
            help="A distcc helper compiling for the builder (distccd, the builder's compiler "
            "version); repeatable, in place of the spec's [distcc] hosts.",
        ),
        click.option(
            "--no-distcc",
            is_flag=True,
            help="Compile in the builder only, whatever the spec's [distcc] hosts say.",
        ),
    ]
    return with_options(options, command)


def identity_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--identity",
        metavar="FILE",
        help="SSH key for an ssh:// --url, as podman --remote takes it [CONTAINER_SSHKEY].",
    )(command)


def with_binhosts(
    plan: Mapping[str, Any], cli_binhosts: Sequence[str], getbinpkg: bool | None
) -> dict[str, Any]:
    """The plan with ``--binhost`` entries after the spec's, and whether emerge fetches."""
    hosts = list(plan.get("binhosts", []))
    taken = {host["name"] for host in hosts}
    for number, uri in enumerate(cli_binhosts, start=1):
        if (problem := binhost_uri_problem(uri)) is not None:
            raise StavesError(
                f"{uri!r} {problem}", key="--binhost", hint=URI_HINT, exit_code=EXIT_USAGE
            )
        name = f"binhost-{number}"
        if name in taken:
            raise StavesError(
                f"the spec's [[binhosts]] already has a binhost named {name!r}",
                key="--binhost",
                hint="rename it in the spec; --binhost entries are binhost-1, binhost-2, …",
                exit_code=EXIT_USAGE,
            )
        hosts.append({"name": name, "uri": uri, "priority": 0, "verify_signature": False})
    fetch = bool(hosts) if getbinpkg is None else getbinpkg
    return {**plan, "binhosts": hosts, "getbinpkg": fetch}


def with_distcc(spec: Spec, hosts: Sequence[str], off: bool) -> Spec:
    """The spec with ``--distcc`` helpers in place of its own, or none with ``--no-distcc``."""
    if off and hosts:
        raise StavesError(
            "--distcc and --no-distcc contradict each other",
            key="--distcc",
            hint="give one of them",
            exit_code=EXIT_USAGE,
        )
    if off:
        return dataclasses.replace(spec, distcc=())
    if not hosts:
        return spec
    parsed = []
    for text in hosts:
        try:
            parsed.append(parse_host(text))
        except ValueError as exc:
            raise StavesError(
                f"{text!r} {exc}", key="--distcc", hint=HOST_HINT, exit_code=EXIT_USAGE
            ) from None
    addresses = [h.address for h in parsed]
    if len(set(addresses)) != len(addresses):
        raise StavesError(
            "names a helper twice",
            key="--distcc",
            hint="give each helper once",
            exit_code=EXIT_USAGE,
        )
    if all(h.is_local for h in parsed):
        raise StavesError(
            "names only localhost",
            key="--distcc",
            hint="give at least one helper, or --no-distcc",
            exit_code=EXIT_USAGE,
        )
    return dataclasses.replace(spec, distcc=tuple(parsed))


def cache_source(option: str, text: str | None, options: RegistryOptions) -> CacheSource | None:
    """``docker://REG/REPO[:TAG]`` of ``--cache-to``/``--cache-from``."""
    if text is None:
        return None
    if not text.startswith("docker://"):
        raise StavesError(
            f"{text!r} is not a registry reference",
            key=option,
            hint="docker://REGISTRY/REPOSITORY[:TAG], e.g. docker://registry.example.com/app/cache",
            exit_code=EXIT_USAGE,
        )
    try:
        reference = parse_reference(text.removeprefix("docker://"), default_tag=CACHE_TAG)
    except InvalidReference as exc:
        raise StavesError(str(exc), key=option, exit_code=EXIT_USAGE) from None
    return CacheSource(reference, options)
