"""Marks for tests that check Staves against the real Portage, when importable."""

import importlib.util

import pytest

HAVE_PORTAGE = importlib.util.find_spec("portage") is not None

requires_portage = pytest.mark.skipif(
    not HAVE_PORTAGE, reason="portage is not importable (pip install portage)"
)


def portage_getconfig(text: str, expand: dict[str, str] | None = None) -> dict[str, str]:
    """Portage's own reading of make.conf ``text`` (``expand``: variables known before)."""
    import tempfile

    from portage.util import getconfig

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".conf") as file:
        file.write(text)
        file.flush()
        result = getconfig(file.name, expand=dict(expand or {}))
    return dict(result or {})
