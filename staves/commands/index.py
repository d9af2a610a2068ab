"""``staves index create DEST SOURCE…``: the images CI runners pushed, one per platform,
joined into one index (signed with ``--sign-key``), their referrers left intact."""

import os
from pathlib import Path

import click

from oci.files import atomic_write
from oci.registry import BlobLocations, Reference, push_image
from oci.registry.reference import DEFAULT_TAG
from oci.transport import RegistryDestination
from staves.caches.build_key import BUILD_KEY
from staves.commands.registry_options import options_from_cli, registry_options
from staves.commands.signing import sign_key_option, signing_from_cli
from staves.destinations.joining import joined_index, read_members, same_repository
from staves.destinations.naming import ImageName
from staves.destinations.registry import blob_cache_path, parse_registry_reference
from staves.destinations.signing import sign_outputs
from staves.errors import EXIT_USAGE, StavesError
from staves.sources.transports import parse_source_arg

# Annotations that describe one image, never an index of several.
PER_IMAGE_ANNOTATIONS = frozenset({BUILD_KEY})


@click.group("index")
def index() -> None:
    """Image indexes: one name for images of several platforms."""


def registry_reference(text: str, key: str) -> Reference:
    where = parse_source_arg(text, key)
    if not isinstance(where, RegistryDestination):
        raise StavesError(
            f"{text}: indexes are joined in a registry",
            key=key,
            hint="give docker://HOST/REPO[:TAG|@DIGEST]",
            exit_code=EXIT_USAGE,
        )
    return parse_registry_reference(where.reference, DEFAULT_TAG)


def parse_annotations(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise StavesError(
                f"{value!r} is not KEY=VALUE", key="--annotation", exit_code=EXIT_USAGE
            )
        out[key] = text
    return out


@index.command("create")
@click.argument("dest")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option(
    "--annotation",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="An annotation of the index (over those every image has alike); repeatable.",
)
@click.option(
    "--digestfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the index's digest to this file.",
)
@sign_key_option
@registry_options
def create(
    dest: str,
    sources: tuple[str, ...],
    annotations: tuple[str, ...],
    digestfile: Path | None,
    sign_key: Path | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """Join images of one repository (docker://HOST/REPO:TAG or @DIGEST; an index gives
    each of its images) into one index at DEST, pushed to that repository and printed
    as its digest. The images, their SBOMs, provenance and signatures are not touched."""
    target = registry_reference(dest, "DEST")
    if target.digest is not None:
        raise StavesError(
            f"{dest}: an index is pushed under a tag",
            key="DEST",
            hint="give docker://HOST/REPO[:TAG]",
            exit_code=EXIT_USAGE,
        )
    members_at = [registry_reference(text, "SOURCE") for text in sources]
    same_repository(target, members_at)
    extra = parse_annotations(annotations)
    signing = signing_from_cli(sign_key, creds, authfile, tls_verify, cert_dir)
    options = options_from_cli(creds, authfile, tls_verify, cert_dir)
    joined = joined_index(read_members(members_at, options), extra, PER_IMAGE_ANNOTATIONS)
    locations = BlobLocations(blob_cache_path(dict(os.environ)))
    push_image(joined, [target], options, locations=locations)
    if signing.key is not None:
        name = ImageName(None, target.tag or DEFAULT_TAG)
        sign_outputs(joined.descriptor(), [RegistryDestination(str(target))], name, signing)
    if digestfile is not None:
        atomic_write(digestfile, joined.manifest.digest.encode())
    click.echo(joined.manifest.digest)
