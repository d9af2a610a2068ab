"""Signing on the command line: ``--sign-key`` for build and pack, ``staves sign`` and
``staves generate-key-pair``, with the passphrase from ``COSIGN_PASSWORD`` or the terminal,
as cosign takes it."""

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from oci.errors import OciError
from oci.layout_reader import checked_entry, open_layout
from oci.registry import BlobLocations, Reference
from oci.registry.attach import push_tagged
from oci.registry.pull import open_registry_source
from oci.sign.cosign import TaggedManifest
from oci.sign.keys import (
    PASSWORD_VARIABLE,
    SigningKey,
    check_private_key_file,
    generate_key_pair,
    load_signing_key,
    read_key_file,
)
from oci.transport import OciLayoutDestination, RegistryDestination
from staves.commands.registry_options import options_from_cli, registry_options
from staves.destinations.naming import ImageName
from staves.destinations.registry import blob_cache_path, parse_registry_reference
from staves.destinations.signing import Signing, TaggedPusher, sign_outputs
from staves.errors import EXIT_USAGE, StavesError
from staves.sources.transports import parse_source_arg


def sign_key_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--sign-key",
        "sign_key",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A cosign private key (cosign.key): sign the image and its provenance "
        f"(passphrase: ${PASSWORD_VARIABLE}, else asked for).",
    )(command)


def passphrase(environ: Mapping[str, str], confirm: bool = False) -> bytes:
    """``COSIGN_PASSWORD`` when set (even empty), else asked for on the terminal."""
    if PASSWORD_VARIABLE in environ:
        return environ[PASSWORD_VARIABLE].encode()
    if not sys.stdin.isatty():
        raise StavesError(
            "no passphrase for the key",
            hint=f"set {PASSWORD_VARIABLE} (empty for a key without one), or run on a terminal",
            exit_code=EXIT_USAGE,
        )
    text = click.prompt(
        "Enter password for private key",
        hide_input=True,
        confirmation_prompt=confirm,
        default="",
        show_default=False,
        err=True,
    )
    return str(text).encode()


def _key_text(path: Path) -> bytes:
    """The key file's bytes, read within the key files' cap; one line if it cannot be."""
    try:
        return read_key_file(str(path))
    except OSError as exc:
        raise StavesError(
            f"{path}: {exc.strerror or exc}", key="--sign-key", exit_code=EXIT_USAGE
        ) from None
    except OciError as exc:
        raise StavesError(str(exc), key="--sign-key", exit_code=EXIT_USAGE) from None


def open_key(path: Path, environ: Mapping[str, str]) -> SigningKey:
    text = _key_text(path)
    try:
        return load_signing_key(text, passphrase(environ), str(path))
    except OciError as exc:
        raise StavesError(str(exc), key="--sign-key", exit_code=EXIT_USAGE) from None


def check_key_file(path: Path, environ: Mapping[str, str]) -> None:
    """What a dry run can know of ``--sign-key`` without asking for a passphrase: the file
    is there and is a cosign private key; with ``COSIGN_PASSWORD`` set, that it opens."""
    if PASSWORD_VARIABLE in environ:
        open_key(path, environ)
        return
    text = _key_text(path)
    try:
        check_private_key_file(text, str(path))
    except OciError as exc:
        raise StavesError(str(exc), key="--sign-key", exit_code=EXIT_USAGE) from None


def tagged_pusher(
    creds: str | None, authfile: Path | None, tls_verify: bool, cert_dir: Path | None
) -> TaggedPusher:
    def push(manifests: Sequence[TaggedManifest], references: Sequence[Reference]) -> None:
        options = options_from_cli(creds, authfile, tls_verify, cert_dir)
        locations = BlobLocations(blob_cache_path(dict(os.environ)))
        push_tagged(manifests, references, options, locations)

    return push


def signing_from_cli(
    sign_key: Path | None,
    creds: str | None,
    authfile: Path | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> Signing:
    """The key opened (its passphrase asked for) before any work starts."""
    key = open_key(sign_key, dict(os.environ)) if sign_key is not None else None
    return Signing(key, tagged_pusher(creds, authfile, tls_verify, cert_dir))


@click.command("sign")
@click.argument("source")
@click.option(
    "--key",
    "--sign-key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A cosign private key (cosign.key).",
)
@registry_options
def sign(
    source: str,
    key_path: Path,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """Sign an image (or an index) where it is: docker://REF or oci:DIR[:TAG]."""
    where = parse_source_arg(source)
    if not isinstance(where, RegistryDestination | OciLayoutDestination):
        raise StavesError(
            f"{source}: signatures are kept next to the image in a registry or an OCI layout",
            key="SOURCE",
            hint="give docker://REF or oci:DIR[:TAG]",
            exit_code=EXIT_USAGE,
        )
    signing = signing_from_cli(key_path, creds, authfile, tls_verify, cert_dir)
    if isinstance(where, OciLayoutDestination):
        with open_layout(where.path, False) as store:
            subject = checked_entry(store, where.tag)
        name = ImageName()
    else:
        reference = parse_registry_reference(where.reference, "latest")
        options = options_from_cli(creds, authfile, tls_verify, cert_dir)
        with open_registry_source(reference, options) as found:
            subject = found.named()
        name = ImageName(None, reference.tag or "latest")
    sign_outputs(subject, [where], name, signing)
    click.echo(subject.digest)


@click.command("generate-key-pair")
@click.option(
    "--output-key-prefix",
    "prefix",
    default="cosign",
    show_default=True,
    help="Write PREFIX.key and PREFIX.pub.",
)
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def generate_key_pair_command(prefix: str, force: bool) -> None:
    """Write a new ECDSA P-256 key pair as cosign generate-key-pair does."""
    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise StavesError(
                f"{path} exists", hint="remove it or pass --force", exit_code=EXIT_USAGE
            )
    private_pem, public_pem = generate_key_pair(passphrase(dict(os.environ), confirm=True))
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    public_path.write_bytes(public_pem)
    click.echo(f"Private key written to {private_path}", err=True)
    click.echo(f"Public key written to {public_path}", err=True)
