"""Atomic file placement: write to a temporary name beside the target, then rename."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from oci.blob import Blob, FileBlob
from oci.errors import OciError


def check_file_target(target: Path) -> None:
    """A file can be written at ``target``: its directory exists (none is made) and it is
    not a directory itself."""
    if target.is_dir():
        raise OciError(f"{target} is a directory; give the path of a file to write")
    if not target.parent.is_dir():
        raise OciError(
            f"{target.parent} is not a directory; create it first, or give a path in one"
        )


@contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """Open a temporary file that replaces ``target`` only if the block succeeds."""
    check_file_target(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write(target: Path, data: bytes) -> None:
    with atomic_output(target) as out:
        out.write(data)


def place_blob(blob: Blob, target: Path) -> bool:
    """Put ``blob`` at ``target`` unless it is there already; True if it was written.

    File blobs are hardlinked when source and target share a filesystem.
    """
    if target.exists() and target.stat().st_size == blob.size:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(blob, FileBlob) and _try_link(blob.path, target):
        return True
    with atomic_output(target) as out, blob.open() as src:
        shutil.copyfileobj(src, out, 1 << 20)
    return True


def _try_link(source: Path, target: Path) -> bool:
    tmp = target.with_name(f".{target.name}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
    except OSError:
        return False
    os.replace(tmp, target)
    return True
