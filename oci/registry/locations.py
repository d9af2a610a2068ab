"""Where blobs are known to be already: the source of cross-repository mounts."""

import fcntl
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
        # What this process learnt, replayed over the file's newer content on save, so that
        # pushes running side by side keep each other's records.
        self._changes: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        if path is not None:
            self._known = _read(path)

    def record(self, registry: str, repository: str, digest: str) -> None:
        with self._lock:
            self._changes.append(("record", f"{registry}/{repository}", digest))
            _record(self._known, f"{registry}/{repository}", digest)

    def forget(self, registry: str, repository: str, digest: str) -> None:
        with self._lock:
            self._changes.append(("forget", f"{registry}/{repository}", digest))
            _forget(self._known, f"{registry}/{repository}", digest)

    def sources(self, registry: str, digest: str, exclude: str) -> list[str]:
        """Repositories of ``registry`` said to hold ``digest``, newest first."""
        prefix = f"{registry}/"
        with self._lock:
            names = list(self._known.get(digest, []))
        return [
            n.removeprefix(prefix) for n in names if n.startswith(prefix) and n != prefix + exclude
        ]

    def save(self) -> None:
        """Merge this process's records into the file, under a lock, and replace it."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self._path.with_name(f".{self._path.name}.lock")
        with lock_path.open("a") as lock, self._lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            merged = _read(self._path)
            for change, name, digest in self._changes:
                (_record if change == "record" else _forget)(merged, name, digest)
            tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(merged, sort_keys=True))
            tmp.replace(self._path)
            self._known, self._changes = merged, []


def _record(known: dict[str, list[str]], name: str, digest: str) -> None:
    names = known.setdefault(digest, [])
    if name in names:
        names.remove(name)
    names.insert(0, name)
    del names[_MAX_PER_DIGEST:]


def _forget(known: dict[str, list[str]], name: str, digest: str) -> None:
    names = known.get(digest, [])
    if name in names:
        names.remove(name)


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
