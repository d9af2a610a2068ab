"""Podman's registry options on the command line: ``--authfile``, ``--creds``, ``--tls-verify``,
``--cert-dir``, and the password prompt ``--creds USER`` leads to; ``--timeout``; and the
limits on reading layers, ``--max-layer-size`` and ``--max-layer-entries``.

``--timeout`` and the layer limits are not passed through each command's parameters: their
callbacks set them for the command being run, and the registry options and source access
built here read them.
"""

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import click

from oci.artifact import Artifact
from oci.errors import OciError
from oci.image import Image
from oci.layer_reader import DEFAULT_LIMITS, LayerLimits
from oci.registry import PushResult, Reference, RegistryOptions, parse_creds, registry_env
from oci.transport import Destination, RegistryDestination
from staves.commands.options import parse_platform, with_options
from staves.destinations.registry import Pusher, make_pusher
from staves.errors import EXIT_USAGE, StavesError
from staves.sources.transports import SourceAccess

_TIMEOUT: ContextVar[float] = ContextVar("registry_timeout", default=RegistryOptions.timeout)
_MAX_BYTES: ContextVar[int | None] = ContextVar("max_layer_bytes", default=None)
_MAX_ENTRIES: ContextVar[int | None] = ContextVar("max_layer_entries", default=None)


def _set_timeout(ctx: click.Context, param: click.Parameter, value: float) -> None:
    _TIMEOUT.set(value)


def registry_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add podman's ``--authfile``, ``--creds``, ``--tls-verify``, ``--cert-dir``, and
    ``--timeout``."""
    options = [
        click.option(
            "--authfile",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Registry credentials file (default: podman's auth.json search).",
        ),
        click.option("--creds", metavar="USER[:PASS]", help="Registry credentials."),
        click.option(
            "--tls-verify",
            type=click.BOOL,
            default=True,
            is_flag=False,
            flag_value=True,
            metavar="[=BOOL]",
            help="Require HTTPS with a verified certificate (--tls-verify=false: don't).",
        ),
        click.option(
            "--cert-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="CA (*.crt) and client (*.cert, *.key) certificates for the registry.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=RegistryOptions.timeout,
            show_default=True,
            metavar="SECONDS",
            expose_value=False,
            callback=_set_timeout,
            help="Give up on a registry silent this long (connecting, or between two "
            "reads), and stop retrying a failed request this long after it first failed.",
        ),
    ]
    return with_options(options, command)


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``512M``, ``2G``, ``1.5GiB`` or bytes; ``0`` and ``unlimited``: no limit."""
    if text.strip().lower() in ("unlimited", "none"):
        return 0
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size; e.g. 512M, 4G, or unlimited")
    shift = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[match.group(2).upper()]
    return int(float(match.group(1)) * (1 << shift))


def _set_max_size(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    _MAX_BYTES.set(None if value is None else parse_size(value))


def _set_max_entries(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    _MAX_ENTRIES.set(value)


def layer_limits() -> LayerLimits:
    """The limits ``--max-layer-size`` and ``--max-layer-entries`` set."""
    entries = _MAX_ENTRIES.get()
    limits = dataclasses.replace(DEFAULT_LIMITS, max_bytes=_MAX_BYTES.get())
    return limits if entries is None else dataclasses.replace(limits, max_entries=entries)


def layer_limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-layer-size`` and ``--max-layer-entries``, for the commands reading layers."""
    options = [
        click.option(
            "--max-layer-size",
            metavar="SIZE",
            expose_value=False,
            callback=_set_max_size,
            help=f"Refuse a layer that expands beyond SIZE (e.g. 8G; 0: no limit) "
            f"[{DEFAULT_LIMITS.ratio} times its compressed size, at least "
            f"{DEFAULT_LIMITS.floor >> 20} MiB].",
        ),
        click.option(
            "--max-layer-entries",
            type=click.IntRange(min=0),
            metavar="N",
            expose_value=False,
            callback=_set_max_entries,
            help=f"Refuse a layer of more than N files (0: no limit) "
            f"[{DEFAULT_LIMITS.max_entries}].",
        ),
    ]
    return with_options(options, command)


def build_registry_options(
    creds: str | None,
    authfile: Path | None,
    tls_verify: bool,
    cert_dir: Path | None,
    environ: Mapping[str, str],
) -> RegistryOptions:
    """RegistryOptions from the command line; prompts for a password ``--creds`` lacks."""
    credentials = None
    if creds is not None:
        if ":" not in creds:
            creds = f"{creds}:{click.prompt('Password', hide_input=True, err=True)}"
        try:
            credentials = parse_creds(creds)
        except OciError as exc:
            raise StavesError(str(exc), key="--creds", exit_code=EXIT_USAGE) from None
    return RegistryOptions(
        creds=credentials,
        authfile=authfile,
        tls_verify=tls_verify,
        cert_dir=cert_dir,
        env=registry_env(environ),
        timeout=_TIMEOUT.get(),
    )


@functools.cache
def options_from_cli(
    creds: str | None, authfile: Path | None, tls_verify: bool, cert_dir: Path | None
) -> RegistryOptions:
    """The registry options, built (and a password asked for) once per command."""
    return build_registry_options(creds, authfile, tls_verify, cert_dir, dict(os.environ))


def pushes_to_registry(destinations: Sequence[Destination]) -> bool:
    return any(isinstance(dest, RegistryDestination) for dest in destinations)


def pusher_from_cli(
    creds: str | None,
    authfile: Path | None,
    tls_verify: bool,
    cert_dir: Path | None,
    ask_now: bool = False,
) -> Pusher:
    """A pusher that reads options and environment (and prompts) only when it is used;
    ``ask_now``: the password is asked for at once, before a live progress view would draw
    over the prompt."""
    if ask_now and creds is not None and ":" not in creds:
        options_from_cli(creds, authfile, tls_verify, cert_dir)

    def push(
        image: Image, references: Sequence[Reference], referrers: Sequence[Artifact] = ()
    ) -> PushResult:
        options = options_from_cli(creds, authfile, tls_verify, cert_dir)
        return make_pusher(options, dict(os.environ))(image, references, referrers)

    return push


def source_access(
    platform: str | None,
    url: str | None,
    creds: str | None,
    authfile: Path | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> SourceAccess:
    """What reading a SOURCE needs, from the options ``inspect`` and ``diff`` share; the
    registry options (and a password prompt) only when a ``docker://`` source asks."""
    wanted = parse_platform(platform)
    environ = dict(os.environ)

    def options() -> RegistryOptions:
        return build_registry_options(creds, authfile, tls_verify, cert_dir, environ)

    return SourceAccess(
        registry=options, podman_url=url, environ=environ, platform=wanted, limits=layer_limits()
    )
