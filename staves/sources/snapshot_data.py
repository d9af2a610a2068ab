"""What builds and audits read from a Portage snapshot: its security advisories
(``metadata/glsa``) and its SPDX license mapping (``metadata/license-mapping.conf``).

From a running builder (the snapshot of that build), from the snapshot image, or, for
advisories, from a directory of GLSA files.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.glsa import GLSA_DIR, Advisory, GlsaError, advisories_in_tar, parse_glsa
from staves.gentoo.license_mapping import MAPPING_FILE, LicenseMappingError, table_from_file
from staves.podman.snapshot import snapshot_reader, snapshot_tree

log = logging.getLogger(__name__)


def license_table_from(data: bytes | None) -> Mapping[str, str] | None:
    """A license-mapping.conf's table, inverted; None when there is none or it is
    unreadable (said in a warning)."""
    if data is None:
        return None
    try:
        return table_from_file(data.decode("utf-8", "replace"))
    except LicenseMappingError as exc:
        log.warning(
            "the snapshot's %s is unreadable (%s); using the built-in table", MAPPING_FILE, exc
        )
        return None


def advisories_in(client: Any, container: Any) -> tuple[list[Advisory], list[str]]:
    """The snapshot's advisories and a line for each unreadable file; none at all when
    the snapshot has no metadata/glsa."""
    with snapshot_tree(client, container, GLSA_DIR) as stream:
        if stream is None:
            return [], []
        return advisories_in_tar(stream)


def advisories_in_image(client: Any, image: str) -> tuple[list[Advisory], list[str]]:
    """The advisories of the snapshot image ``image`` (in local storage)."""
    with snapshot_reader(client, image) as container:
        return advisories_in(client, container)


def advisories_in_dir(directory: Path) -> tuple[list[Advisory], list[str]]:
    """The ``glsa-*.xml`` files of ``directory`` (a ``metadata/glsa`` or a checkout of
    Gentoo's glsa repository)."""
    if not directory.is_dir():
        raise StavesError(
            f"{directory} is not a directory",
            key="--glsa-dir",
            hint="a directory of glsa-*.xml files, such as /var/db/repos/gentoo/metadata/glsa",
            exit_code=EXIT_USAGE,
        )
    advisories, problems = [], []
    for path in sorted(directory.glob("glsa-*.xml")):
        try:
            advisories.append(parse_glsa(path.read_bytes()))
        except GlsaError as exc:
            problems.append(f"{path.name}: {exc}")
    return sorted(advisories, key=lambda a: a.id), problems
