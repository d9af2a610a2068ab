"""``staves build``: validate the spec and (for now) show the build with --dry-run."""

import os

import click

from staves.commands.report import reported_errors
from staves.dryrun import dry_run_json, dry_run_text
from staves.errors import EXIT_USAGE, StavesError
from staves.spec import Spec, load_spec
from staves.spec.names import IMAGE_TAG, image_name_problem, split_reference
from staves.spec.read_image import NAME_HINT, TAG_HINT


@click.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    default="staves.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The spec file.",
)
@click.option("--tag", metavar="NAME[:TAG]", help="Image name and tag, overriding the spec.")
@click.option("--version", "version", metavar="V", help="Image tag, overriding the spec.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be done.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Dry-run output format.",
)
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel emerge jobs [CPU count].")
@click.option(
    "-o", "--output", "outputs", multiple=True, metavar="DEST", help="Where to put the image."
)
def build(
    config_path: str,
    tag: str | None,
    version: str | None,
    dry_run: bool,
    output_format: str,
    jobs: int | None,
    outputs: tuple[str, ...],
) -> None:
    """Build the image described by the spec."""
    with reported_errors():
        spec = retag(load_spec(config_path), tag, version)
        jobs = jobs or os.cpu_count() or 1
        if not dry_run:
            raise StavesError(
                "building is not implemented yet",
                hint="use --dry-run to see what would be built",
                exit_code=EXIT_USAGE,
            )
        render = dry_run_json if output_format == "json" else dry_run_text
        click.echo(render(spec, jobs, outputs), nl=False)


def retag(spec: Spec, tag: str | None, version: str | None) -> Spec:
    """Apply ``--tag NAME[:TAG]`` and ``--version V`` to the spec's image reference."""
    if version is not None and not IMAGE_TAG.fullmatch(version):
        raise _usage("--version", f"{version!r} is not an image tag", TAG_HINT)
    name = None
    if tag is not None:
        name, tag_version = split_reference(tag)
        if (problem := image_name_problem(name)) is not None:
            raise _usage("--tag", f"{name!r} {problem}", NAME_HINT)
        if tag_version is not None:
            if not IMAGE_TAG.fullmatch(tag_version):
                raise _usage("--tag", f"{tag_version!r} is not an image tag", TAG_HINT)
            if version is not None and version != tag_version:
                raise _usage("--tag", "gives a tag and so does --version", "give the tag once")
            version = tag_version
    return spec.retagged(name=name, version=version)


def _usage(key: str, problem: str, hint: str) -> StavesError:
    return StavesError(problem, key=key, hint=hint, exit_code=EXIT_USAGE)
