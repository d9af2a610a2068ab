"""Where the layer cache lives and how big it may grow, from the environment."""

import re
from collections.abc import Mapping
from pathlib import Path

from oci.layer_cache import DEFAULT_MAX_BYTES, LayerCache
from staves.errors import EXIT_USAGE, StavesError

CACHE_DIR_VARIABLE = "STAVES_LAYER_CACHE"
CACHE_SIZE_VARIABLE = "STAVES_LAYER_CACHE_SIZE"
_SIZE = re.compile(r"(\d+)([KMG]i?B?|B)?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def cache_size(text: str) -> int:
    """``2G``, ``500M``, ``1048576``: bytes, with binary K/M/G (an ``i`` or ``B`` may follow)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise StavesError(
            f"{text!r} is not a size",
            key=CACHE_SIZE_VARIABLE,
            hint="bytes, or a number with K, M or G (e.g. 2G)",
            exit_code=EXIT_USAGE,
        )
    unit = (match[2] or "")[:1].lower()
    return int(match[1]) * _UNITS[unit]


def layer_cache(environ: Mapping[str, str], no_cache: bool) -> LayerCache | None:
    """The layer cache: ``$STAVES_LAYER_CACHE``, else ``$XDG_CACHE_HOME/staves/layers``,
    else ``~/.cache/staves/layers``; None with ``--no-cache`` or nowhere to put it."""
    if no_cache:
        return None
    root = environ.get(CACHE_DIR_VARIABLE) or (
        f"{base}/staves/layers"
        if (base := environ.get("XDG_CACHE_HOME") or _home_cache(environ))
        else None
    )
    if not root:
        return None
    size = environ.get(CACHE_SIZE_VARIABLE)
    return LayerCache(Path(root), cache_size(size) if size else DEFAULT_MAX_BYTES)


def _home_cache(environ: Mapping[str, str]) -> str | None:
    return f"{environ['HOME']}/.cache" if environ.get("HOME") else None
