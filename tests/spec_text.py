"""Helpers to write small specs in tests."""

from staves.spec import Spec, loads_spec

BASE = 'name = "demo"\npackages = ["app-misc/hello"]\n'


def spec_of(extra: str = "", base: str = BASE) -> Spec:
    """Parse ``base`` followed by ``extra`` (top-level keys first, then tables)."""
    return loads_spec(base + extra)
