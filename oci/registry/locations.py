"""Where blobs are known to be already: the source of cross-repository mounts."""

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_MAX_PER_DIGEST = 8


class BlobLocations:
    """``digest -> {registry/repository}``, filled as blobs are seen; optionally on disk."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._known: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        if path is not None:
            self._known = _read(path)

    def record(self, registry: str, repository: str, digest: str) -> None:
        name = f"{registry}/{repository}"
        with self._lock:
            names = self._known.setdefault(digest, [])
            if name in names:
                names.remove(name)
            names.insert(0, name)
            del names[_MAX_PER_DIGEST:]

    def forget(self, registry: str, repository: str, digest: str) -> None:
        with self._lock:
            names = self._known.get(digest, [])
            if f"{registry}/{repository}" in names:
                names.remove(f"{registry}/{repository}")

    def sources(self, registry: str, digest: str, exclude: str) -> list[str]:
        """Repositories of ``registry`` said to hold ``digest``, newest first."""
        prefix = f"{registry}/"
        with self._lock:
            names = list(self._known.get(digest, []))
        return [
            n.removeprefix(prefix) for n in names if n.startswith(prefix) and n != prefix + exclude
        ]

    def save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            text = json.dumps(self._known, sort_keys=True)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}")
        tmp.write_text(text)
        tmp.replace(self._path)


def _read(path: Path) -> dict[str, list[str]]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.warning("ignoring blob location cache %s: %s", path, err)
        return {}
    if not isinstance(doc, dict):
        return {}
    return {str(k): _names(v) for k, v in doc.items() if isinstance(v, list)}


def _names(values: Iterable[object]) -> list[str]:
    return [v for v in values if isinstance(v, str)][:_MAX_PER_DIGEST]
