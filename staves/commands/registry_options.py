"""Podman's registry options on the command line: ``--authfile``, ``--creds``, ``--tls-verify``,
``--cert-dir``, and the password prompt ``--creds USER`` leads to."""

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from oci.artifact import Artifact
from oci.errors import OciError
from oci.image import Image
from oci.registry import PushResult, Reference, RegistryOptions, parse_creds, registry_env
from staves.commands.options import parse_platform
from staves.destinations.registry import Pusher, make_pusher
from staves.errors import EXIT_USAGE, StavesError
from staves.sources.transports import SourceAccess


def registry_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add podman's ``--authfile``, ``--creds``, ``--tls-verify``, ``--cert-dir``."""
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


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
    )


@functools.cache
def options_from_cli(
    creds: str | None, authfile: Path | None, tls_verify: bool, cert_dir: Path | None
) -> RegistryOptions:
    """The registry options, built (and a password asked for) once per command."""
    return build_registry_options(creds, authfile, tls_verify, cert_dir, dict(os.environ))


def pusher_from_cli(
    creds: str | None, authfile: Path | None, tls_verify: bool, cert_dir: Path | None
) -> Pusher:
    """A pusher that reads options and environment (and prompts) only when it is used."""

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

    return SourceAccess(registry=options, podman_url=url, environ=environ, platform=wanted)
