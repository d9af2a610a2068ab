"""``staves pack``: any root filesystem (directory or tar) into an image."""

import os
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import Image, ImageConfig, build_image, created_time
from oci.layer import TarProducer, write_layer
from oci.tarball import retar_stream, tar_directory
from staves.commands.options import image_output_options, parse_platform, parse_tag_option
from staves.commands.registry_options import (
    pusher_from_cli,
    pushes_to_registry,
    registry_options,
)
from staves.commands.result_options import ResultFiles, check_targets, result_file_options
from staves.commands.signing import sign_key_option, signing_from_cli
from staves.destinations.naming import TITLE, VERSION, ImageName, image_annotations, image_name
from staves.destinations.outputs import StorageLoader, parse_destinations, write_outputs
from staves.destinations.signing import check_signable, sign_outputs
from staves.errors import EXIT_USAGE, StavesError
from staves.podman.service import podman_client
from staves.podman.storage import load_image
from staves.progress.reporter import current
from staves.spec import load_spec
from staves.spec.plan import oci_image_config


def parse_tag(text: str | None) -> ImageName:
    """``NAME[:TAG]`` as podman's ``--tag`` takes it; a port colon is not a tag."""
    if not text:
        return ImageName()
    name, tag = parse_tag_option(text)
    return ImageName(name) if tag is None else ImageName(name, tag)


def source_date_epoch(environ: dict[str, str]) -> int | None:
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise StavesError(
            f"SOURCE_DATE_EPOCH={value!r} is not a number",
            hint="set it to whole seconds since 1970-01-01 UTC",
            exit_code=EXIT_USAGE,
        )
    return int(value)


def rootfs_producer(rootfs: str, stack: ExitStack, clamp: int | None) -> TarProducer:
    """A tar producer for a directory, a tar file (any compression) or ``-`` (stdin)."""
    if rootfs == "-":
        return retar_stream(sys.stdin.buffer, clamp_mtime=clamp)
    path = Path(rootfs)
    if path.is_dir():
        return tar_directory(path, clamp)
    if not path.exists():
        raise StavesError(
            f"{rootfs} does not exist",
            key="--rootfs",
            hint="give a directory, a tar file or - for stdin",
            exit_code=EXIT_USAGE,
        )
    stream: BinaryIO = stack.enter_context(path.open("rb"))
    return retar_stream(stream, clamp_mtime=clamp)


def storage_loader(environ: dict[str, str], url: str | None) -> StorageLoader:
    """Loads into Podman storage, connecting only when a storage destination is written."""

    def load(image: Image, name: str) -> None:
        with podman_client(url, environ) as client:
            load_image(client, image, name)

    return load


@click.command()
@click.option("--rootfs", required=True, help="Directory, tar file (any compression) or -.")
@click.option(
    "-c",
    "-f",
    "--config",
    "--file",
    "config_path",
    type=click.Path(dir_okay=False),
    help="A staves.toml whose image settings (name, command, labels …) the image gets.",
)
@click.option(
    "-t",
    "--tag",
    "tag_text",
    metavar="NAME[:TAG]",
    help="Name and tag for destinations that do not name one.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    required=True,
    help="Destination: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], "
    "containers-storage:NAME[:TAG], docker://[HOST[:PORT]/]REPO[:TAG].",
)
@image_output_options
@sign_key_option
@registry_options
@result_file_options
def pack(
    rootfs: str,
    config_path: str | None,
    tag_text: str | None,
    outputs: tuple[str, ...],
    compression: str,
    platform_text: str | None,
    url: str | None,
    sign_key: Path | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
    metadata_file: Path | None,
    iidfile: Path | None,
) -> None:
    """Pack a root filesystem into an image."""
    destinations = parse_destinations(outputs)
    check_targets(metadata_file=metadata_file, iidfile=iidfile)
    if sign_key is not None:
        check_signable(destinations)
    signing = signing_from_cli(sign_key, creds, authfile, tls_verify, cert_dir)
    name = parse_tag(tag_text)
    config, annotations = ImageConfig(), {VERSION: name.tag}
    if name.name:
        annotations[TITLE] = name.name
    if config_path is not None:
        settings = load_spec(config_path).image
        config, annotations = oci_image_config(settings), image_annotations(settings)
        if tag_text is None:
            name = image_name(settings)
    platform = parse_platform(platform_text) or Platform.host()
    environ = dict(os.environ)
    epoch = source_date_epoch(environ)

    def packed() -> Packed:
        with ExitStack() as stack:
            producer = rootfs_producer(rootfs, stack, epoch)
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="staves-pack-")))
            with current().phase("pack", "packing the layer"):
                layer = write_layer(producer, work / "blobs", Compression(compression))
            image = build_image(
                [layer],
                config,
                created=created_time([layer], epoch),
                platform=platform,
                annotations=annotations,
            )
            write_outputs(image, destinations, name, storage_loader(environ, url), pusher)
            if signing.key is not None:
                sign_outputs(image.descriptor(), destinations, name, signing)
        return Packed(image.manifest.digest, image)

    pusher = pusher_from_cli(
        creds, authfile, tls_verify, cert_dir, ask_now=pushes_to_registry(destinations)
    )
    files = ResultFiles(metadata_file, iidfile, logged=False)
    click.echo(files.run(environ, name.reference, packed).digest)


@dataclass(frozen=True)
class Packed:
    """What ``pack`` made."""

    digest: str
    image: Image
    image_id: str | None = None
