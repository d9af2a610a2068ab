"""The in-builder program (``staves.builder``) as one file: a zipapp of its modules, copied
into the created builder with the build plan beside it, before it starts.

Nothing of either travels on the command line, where Linux allows one argument 128 KiB
(MAX_ARG_STRLEN) and every user of the machine reads it in ``ps``; nothing lands in the
environment either, which Portage saves into binary packages.
"""

import io
import json
import zipfile
from functools import cache
from importlib import resources
from typing import Any

from staves.podman.archive_tar import tar_of

# Where the program and its plan go in the builder (its python3 runs the zipapp).
PROGRAM_PATH = "/tmp/staves-program.pyz"
PLAN_PATH = "/tmp/staves-plan.json"
PACKAGE = "staves.builder"
# The zipapp's entry: the package's __main__, under its own name (relative imports).
ZIP_MAIN = b'import runpy\nrunpy.run_module("staves.builder", run_name="__main__")\n'
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: the same bytes every time


def builder_command() -> list[str]:
    """The builder's command: its own python3 running the program on the plan."""
    return ["python3", PROGRAM_PATH, PLAN_PATH]


@cache
def program_zip() -> bytes:
    """The zipapp: ``__main__.py`` and the package's modules under ``staves/builder/``."""
    sources = sorted(
        (entry.name, entry.read_bytes())
        for entry in resources.files(PACKAGE).iterdir()
        if entry.name.endswith(".py")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [
            ("__main__.py", ZIP_MAIN),
            ("staves/__init__.py", b""),
            *((f"staves/builder/{name}", data) for name, data in sources),
        ]:
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data)
    return buffer.getvalue()


def program_files(plan: dict[str, Any]) -> bytes:
    """A tar of the program and its plan, for Podman's archive API to unpack into /tmp."""
    files = {
        PROGRAM_PATH: (program_zip(), 0o644),
        PLAN_PATH: (json.dumps(plan, sort_keys=True).encode(), 0o600),
    }
    return tar_of({path.rsplit("/", 1)[1]: content for path, content in files.items()})
