"""What the in-builder script leaves for the host in the builder: its last words when it
fails, the epoch it built with, the root's directory links and package database, what the
image was made from, and the images the builder ran from.

Its files are read as hostile input: a package's install phases run as root in the builder
and could rewrite them. Each is read up to a bound and parsed by ``oci.document`` (size,
nesting), so that whatever they hold ends the build with one line naming the file."""

import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.document import load_json
from staves.build.accounts import Accounts, accounts_in
from staves.builder.protocol import (
    EPOCH_FILE,
    GROUP_RECORD,
    LICENSE_MAPPING_RECORD,
    PASSWD_RECORD,
    RECORDS_DIR,
    ROOT_LINKS_FILE,
    SOURCES_FILE,
    TIMESTAMP_FILE,
    VDB_RECORD,
)
from staves.errors import StavesError
from staves.gentoo.sbom import ImageInput
from staves.gentoo.vdb import InstalledPackage, read_vdb_tar
from staves.podman.builder_container import (
    BuilderSettings,
    archive_stream,
    archived_file_stream,
    image_digest,
)
from staves.podman.builder_output import RunResult
from staves.progress.reporter import current
from staves.sources.snapshot_data import license_table_from

# The most the host reads of each: the links are a few lines; the sources name every
# repository, package and distfile of the image.
MAX_ROOT_LINKS = 1 << 20
MAX_SOURCES = 64 << 20
MAX_EPOCH = 64  # digits
MAX_ACCOUNTS = 16 << 20  # /etc/passwd, /etc/group
MAX_LICENSE_MAPPING = 16 << 20  # Gentoo's is a few kilobytes


def failure_from(result: RunResult, log: str | None = None) -> StavesError:
    """One line naming what failed, from the in-builder program's last failure record, and
    where the whole of its output is (the build's log)."""
    what = result.failure.split(";")[0] if result.failure else None
    problem = what or "the build in the builder failed"
    hint = f"the whole log: {log}" if log else "-v shows the builder's output"
    return StavesError(f"{problem} (exit code {result.exit_code})", hint=hint, exit_code=1)


def _epoch_of(data: bytes) -> int | None:
    text = data[: MAX_EPOCH + 1].decode(errors="replace").strip()
    return int(text) if text.isdigit() and len(text) <= MAX_EPOCH else None


def warn_without_epoch(settings: BuilderSettings) -> None:
    current().warn(
        f"{settings.portage_image} has no {TIMESTAMP_FILE} and "
        "SOURCE_DATE_EPOCH is not set: two builds from scratch give different images"
    )


def _json_record(data: bytes | None, path: str, limit: int) -> Any:
    """A JSON record the builder wrote, bounded; None when it wrote none."""
    if data is None:
        return None
    return load_json(io.BytesIO(data), f"the builder's {path}", limit)


@dataclass(frozen=True)
class BuilderRecords:
    """What the in-builder program left for the host in ``RECORDS_DIR``, read in one
    request: the small records (path → content, each cut at its bound + 1) and the
    packages of the finished root's package database."""

    files: Mapping[str, bytes]
    packages: tuple[InstalledPackage, ...]

    def epoch(self) -> int | None:
        """The epoch the in-builder program built with (SOURCE_DATE_EPOCH or the
        snapshot's timestamp.chk)."""
        data = self.files.get(EPOCH_FILE)
        return None if data is None else _epoch_of(data)

    def root_links(self) -> dict[str, str]:
        """The root's directory symlinks no package lists (baselayout's ``/lib64``),
        which CONTENTS paths go through; none when the builder wrote no list."""
        data = self.files.get(ROOT_LINKS_FILE)
        links = _json_record(data, ROOT_LINKS_FILE, MAX_ROOT_LINKS)
        if not isinstance(links, dict):
            return {}
        return {str(k): str(v) for k, v in links.items() if isinstance(v, str)}

    def sources(self) -> dict[str, Any]:
        """What the image was made from (repositories, packages, distfiles); empty when
        the builder wrote nothing."""
        sources = _json_record(self.files.get(SOURCES_FILE), SOURCES_FILE, MAX_SOURCES)
        return sources if isinstance(sources, dict) else {}

    def accounts(self) -> Accounts:
        """The names in the finished root's /etc/passwd and /etc/group."""
        return accounts_in(self.files.get(PASSWD_RECORD), self.files.get(GROUP_RECORD))

    def license_table(self) -> Mapping[str, str] | None:
        """The snapshot's license mapping, inverted; None: the built-in table."""
        return license_table_from(self.files.get(LICENSE_MAPPING_RECORD))


# The most the host reads of each record (the package database is read as it streams).
RECORD_LIMITS = {
    EPOCH_FILE: MAX_EPOCH,
    ROOT_LINKS_FILE: MAX_ROOT_LINKS,
    SOURCES_FILE: MAX_SOURCES,
    PASSWD_RECORD: MAX_ACCOUNTS,
    GROUP_RECORD: MAX_ACCOUNTS,
    LICENSE_MAPPING_RECORD: MAX_LICENSE_MAPPING,
}


def read_records(client: Any, container: Any) -> BuilderRecords:
    """Everything the finished builder left in ``RECORDS_DIR``, in one archive request:
    its members are read up to their bounds, the package database as it streams; any
    other member is passed over."""
    files: dict[str, bytes] = {}
    packages: tuple[InstalledPackage, ...] | None = None
    try:
        with (
            archive_stream(client, container, RECORDS_DIR) as stream,
            tarfile.open(fileobj=stream, mode="r|") as tar,
        ):
            for member in tar:
                # Podman names the members after the directory's own name: "staves-records/…".
                parts = member.name.removeprefix("./").split("/")
                data = tar.extractfile(member) if member.isreg() and len(parts) == 2 else None
                if data is None:
                    continue
                path = f"{RECORDS_DIR}/{parts[1]}"
                if path == VDB_RECORD:
                    packages = read_vdb_tar(data, strip_components=1)
                elif path in RECORD_LIMITS:
                    files[path] = data.read(RECORD_LIMITS[path] + 1)
    except tarfile.TarError as exc:
        raise StavesError(f"the builder's {RECORDS_DIR} is not a readable tar: {exc}") from exc
    if packages is None:
        raise StavesError(f"the builder left no package database ({VDB_RECORD})")
    return BuilderRecords(files, packages)


def read_sources(client: Any, container: Any, path: str) -> dict[str, Any]:
    """A sources record outside ``RECORDS_DIR`` (a debug root's); empty when the
    builder wrote none."""
    try:
        with archived_file_stream(client, container, path) as stream:
            sources = load_json(stream, f"the builder's {path}", MAX_SOURCES)
    except StavesError:  # not written
        return {}
    return sources if isinstance(sources, dict) else {}


def builder_inputs(client: Any, settings: BuilderSettings) -> tuple[ImageInput, ...]:
    """The builder and snapshot images the build ran from, with their repository digests,
    for the SBOM and the provenance."""
    builder = ImageInput(
        "builder",
        settings.builder_image,
        image_digest(client, settings.image_id or settings.builder_image),
    )
    snapshot = ImageInput(
        "snapshot", settings.portage_image, image_digest(client, settings.portage_image)
    )
    return builder, snapshot
