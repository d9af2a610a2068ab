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


# The test files that take longest, longest first (a run's `python -m tests.durations`; see
# tests/README.md): under pytest-xdist (one file per worker at a time, in collection order)
# the long files start first and the short ones fill in at the end, so that no worker is
# left with a long file when the others are done. Other files follow in their usual order.
SLOWEST_FIRST = (
    "test_platforms_e2e.py",
    "test_reproducible_e2e.py",
    "test_build_races_e2e.py",
    "test_build_access_e2e.py",
    "test_builder_apart_e2e.py",
    "test_build_e2e.py",
    "test_build_cache_e2e.py",
    "test_image_system_e2e.py",
    "test_lock_e2e.py",
    "test_patches_debug_e2e.py",
    "test_build_progress_e2e.py",
    "test_distcc_e2e.py",
    "test_fleet_e2e.py",
    "test_provenance_e2e.py",
    "test_hostile_input.py",
    "test_rootless_e2e.py",
    "test_audit_licenses_e2e.py",
    "test_index_create_e2e.py",
    "test_portage_image_e2e.py",
    "test_cli_podman.py",
    "test_staves_image_e2e.py",
    "test_diff_report_e2e.py",
    "test_build_pull_e2e.py",
    "test_inspect_sources.py",
    "test_stage3_testbed_e2e.py",
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
