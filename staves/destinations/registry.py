"""``docker://`` destinations: pushing, with the bytes sent as the command's progress."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from oci.artifact import Artifact
from oci.errors import InvalidReference
from oci.index import Publishable
from oci.registry import (
    BlobLocations,
    Progress,
    PushResult,
    Reference,
    RegistryOptions,
    parse_reference,
    push_image,
)
from staves.errors import EXIT_USAGE, StavesError
from staves.progress.reporter import Progress as Reporter
from staves.progress.reporter import current
from staves.progress.words import size


class Pusher(Protocol):
    """Pushes an image (and artifacts attached to it) to registry references."""

    def __call__(
        self,
        image: Publishable,
        references: Sequence[Reference],
        referrers: Sequence[Artifact] = (),
    ) -> PushResult: ...


def parse_registry_reference(text: str, default_tag: str) -> Reference:
    try:
        return parse_reference(text, default_tag=default_tag)
    except InvalidReference as exc:
        raise StavesError(str(exc), key="--output", exit_code=EXIT_USAGE) from exc


def blob_cache_path(environ: Mapping[str, str]) -> Path | None:
    base = environ.get("XDG_CACHE_HOME") or (
        f"{environ['HOME']}/.cache" if environ.get("HOME") else None
    )
    return Path(base) / "staves" / "blob-locations.json" if base else None


@dataclass
class PushProgress:
    """A push's bytes sent of bytes to send, as one transfer of the command's progress (a
    bar on a terminal), and what it sent when it is over. Thread-safe enough: each blob's
    counter is one dict entry written by one upload thread."""

    progress: Reporter
    label: str = "pushing"
    sizes: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)

    def __call__(self, event: Progress) -> None:
        self.sizes[event.digest] = event.size
        if event.state in ("uploading", "uploaded"):
            self.done[event.digest] = event.done
        elif event.state in ("present", "mounted"):
            self.sizes.pop(event.digest, None)
        self.progress.transfer(
            f"push {id(self)}", self.label, sum(self.done.values()), sum(self.sizes.values())
        )

    def finish(self, result: PushResult | None) -> None:
        self.progress.transfer(f"push {id(self)}", self.label, 1, 1)  # the bar goes
        if result is not None:
            where = ", ".join(f"docker://{ref}" for ref in result.references)
            self.progress.event(
                f"pushed {where}: {result.uploaded_blobs} blobs uploaded "
                f"({size(result.uploaded_bytes)}), {result.present_blobs} already there, "
                f"{result.mounted_blobs} mounted"
            )


def make_pusher(options: RegistryOptions, environ: Mapping[str, str]) -> Pusher:
    """Pushes, with the bytes sent as the command's progress (``staves.progress``)."""

    def push(
        image: Publishable, references: Sequence[Reference], referrers: Sequence[Artifact] = ()
    ) -> PushResult:
        progress = PushProgress(current(), f"pushing to {references[0].repository}")
        locations = BlobLocations(blob_cache_path(environ))
        result = None
        try:
            result = push_image(
                image,
                references,
                options,
                progress=progress,
                locations=locations,
                referrers=referrers,
            )
            return result
        finally:
            progress.finish(result)

    return push
