"""Shared fixtures: the project's Podman config, tool availability, schema validation; the
run's shared builds (tests/builder_fixtures.py) and their removal when the run ends."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
SCHEMA_DIR = PROJECT.parent / "shared" / "oci-image-spec-schema"

# Tests talk to Podman with the project's settings, never the machine's defaults.
os.environ.setdefault("CONTAINERS_CONF", str(TESTS / "podman" / "containers.conf"))


def _staves_from_this_checkout() -> None:
    """Make ``staves`` on PATH run this checkout's code, whatever is installed elsewhere."""
    bin_dir = Path(tempfile.mkdtemp(prefix="staves-bin-"))
    atexit.register(shutil.rmtree, bin_dir, ignore_errors=True)
    wrapper = bin_dir / "staves"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m staves "$@"\n')
    wrapper.chmod(0o755)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT), os.environ.get("PYTHONPATH")) if p
    )


_staves_from_this_checkout()

# Fixtures every end-to-end module may ask for by name (the run's seed cache and copies).
pytest_plugins = ["tests.builder_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    from tests.run_shared import run_id

    run_id()  # fixed before pytest-xdist starts its workers, which inherit it


# The slowest test files, slowest first (from tests/README.md's measurements): run first, so
# that under pytest-xdist (one file per worker at a time, in collection order) none of them
# starts when the others are nearly done. Other files follow in their usual order.
SLOWEST_FIRST = (
    "test_reproducible_e2e.py",
    "test_platforms_e2e.py",
    "test_build_races_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: keeps the rest


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The process that started the run (not an xdist worker) removes what the run shared.
    if not hasattr(session.config, "workerinput"):
        from tests.run_shared import remove_run_objects

        remove_run_objects()


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH (.ci/run installs them)")


def run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a checker tool; fail the test with its stderr if it fails."""
    proc = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs
    )
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def oci_schema() -> Callable[[str, object], None]:
    """Validate a document against one of the OCI image-spec JSON schemas."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"OCI schemas not found at {SCHEMA_DIR} (only in the project's workspace)")
    import json

    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    base = "https://opencontainers.org/schema/image/"
    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        resource = Resource.from_contents(json.loads(path.read_text()), DRAFT4)
        resources.append((base + path.name, resource))
        resources.append((base + path.stem.replace("-schema", ""), resource))
    registry = Registry().with_resources(resources)

    def validate(schema_file: str, document: object) -> None:
        schema = json.loads((SCHEMA_DIR / schema_file).read_text())
        jsonschema.Draft4Validator(schema, registry=registry).validate(document)

    return validate
