"""Tools a build needs in the builder that a stage3 may lack (git to sync, distcc to
compile on helpers): emerged into the builder itself, their binary packages kept in the
builder's partition so that the next build only unpacks them."""

import shutil

from .console import fail, run, say


def install_builder_tool(tool: str, package: str, activity: str, binpkg_options: list[str]) -> int:
    """Emerge ``package`` into the builder when it lacks ``tool``, which ``activity``
    ("syncing", "compiling on distcc helpers") needs; 0 when it is there."""
    if shutil.which(tool) is not None:
        return 0
    say(f"the builder has no {tool}; emerging {package} into the builder for {activity}")
    code = run(["emerge", "--color=n", "--quiet-build=y", *binpkg_options, "--oneshot", package])
    if code != 0 or shutil.which(tool) is None:
        fail(
            f"{activity} needs {tool}, which the builder lacks, and {package} could not be "
            f"emerged; use a builder with {package} installed"
        )
        return code or 1
    return 0
