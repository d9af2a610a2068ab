"""What ``build`` and ``pack`` write for machines besides the digest on stdout:
``--metadata-file`` (buildx's), ``--iidfile`` (podman build's), and for a build its log
(``--log-file``); each target checked before anything runs."""

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from oci.errors import OciError
from oci.files import check_file_target
from oci.index import Publishable
from staves.commands.options import with_options
from staves.errors import EXIT_USAGE, StavesError
from staves.progress.metadata import build_metadata, image_id, write_iidfile, write_metadata
from staves.progress.reporter import Progress, reporting
from staves.progress.setup import command_progress, default_log_path


def result_file_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--metadata-file FILE`` and ``--iidfile FILE``."""
    return with_options(
        [
            click.option(
                "--metadata-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write what was made as JSON: buildx's containerimage.digest and "
                "image.name, and each platform's packages (how each was obtained), layers "
                "and durations.",
            ),
            click.option(
                "--iidfile",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write the image ID (its config digest; an index's own digest), as "
                "podman build does.",
            ),
        ],
        command,
    )


log_file_option = click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the build's whole log, emerge's output included, in this file "
    "[a new one under $XDG_STATE_HOME/staves/logs].",
)


def check_targets(**targets: Path | None) -> None:
    """Each file option's target can be written (checked before the build starts)."""
    for option, path in targets.items():
        if path is None:
            continue
        try:
            check_file_target(path)
        except OciError as exc:
            key = "--" + option.replace("_", "-")
            raise StavesError(str(exc), key=key, exit_code=EXIT_USAGE) from None


def open_progress(
    environ: Mapping[str, str], log_file: Path | None, image: str | None, logged: bool
) -> Progress:
    """The command's progress; with ``logged``, kept in ``log_file`` or a new log."""
    log = (
        (log_file or default_log_path(environ, image or "image", datetime.now()))
        if logged
        else None
    )
    return command_progress(sys.stderr, environ, log)


class Outcome(Protocol):
    """What a command made: the digest it prints, the image (None: nothing was built)."""

    @property
    def digest(self) -> str | None: ...

    @property
    def image(self) -> Publishable | None: ...

    @property
    def image_id(self) -> str | None: ...


Made = TypeVar("Made", bound=Outcome)


@dataclass(frozen=True)
class ResultFiles:
    """The files a command writes besides its digest; ``log``: the build's log, else a new
    one under the XDG state directory (None for commands that keep no log)."""

    metadata: Path | None
    iidfile: Path | None
    log: Path | None = None
    logged: bool = True

    def run(self, environ: Mapping[str, str], name: str | None, work: Callable[[], Made]) -> Made:
        """Run ``work`` with the command's progress, then write the result files and say
        what it did in total."""
        progress = open_progress(environ, self.log, name, self.logged)
        with reporting(progress):
            outcome = work()
            write_results(progress, outcome, name, self.metadata, self.iidfile)
            progress.finish()
        return outcome


def write_results(
    progress: Progress,
    outcome: Outcome,
    name: str | None,
    metadata_file: Path | None,
    iidfile: Path | None,
) -> None:
    """``--metadata-file`` and ``--iidfile``, each written whole or not at all; an image
    not built (held already) has the ID a destination holding it reports."""
    published = outcome.image
    if metadata_file is not None:
        data = build_metadata(outcome.digest, published, name, progress.ledger, progress.log_path)
        write_metadata(metadata_file, data)
    identifier = image_id(published) if published is not None else outcome.image_id
    if iidfile is not None and identifier is not None:
        write_iidfile(iidfile, identifier)
