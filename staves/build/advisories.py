"""``--audit``, a check of the built root: fail before any output is written when the
build's own snapshot has a GLSA affecting a package the image would ship."""

from collections.abc import Sequence
from typing import Any

from oci.descriptor import Platform
from staves.errors import StavesError
from staves.gentoo.vdb import InstalledPackage
from staves.progress.reporter import current
from staves.reports.audit import finding_line, refuse_affected
from staves.sources.snapshot_data import advisories_in


def refuse_advisories(
    client: Any, container: Any, packages: Sequence[InstalledPackage], platform: Platform
) -> None:
    """Fail, listing each finding, when an advisory of the builder's snapshot affects one
    of ``packages``; else say how many advisories were checked."""
    advisories, problems = advisories_in(client, container)
    for problem in problems:
        current().warn(f"skipping advisory {problem}")
    found = refuse_affected(packages, advisories, platform.architecture)
    if not found:
        current().event(f"audit: none of {len(advisories)} advisories applies to the image")
        return
    current().failure([f"staves: advisory: {finding_line(finding)}" for finding in found])
    named = sorted({f"{f.package.name}-{f.package.version}" for f in found})
    ids = sorted({f.advisory.id for f in found})
    raise StavesError(
        f"--audit: the image would ship {', '.join(named)}, affected by GLSA {', '.join(ids)}",
        hint="upgrade to a fixed version (listed above) or build without --audit; "
        "no output was written",
        exit_code=1,
    )
