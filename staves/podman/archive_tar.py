"""Tars for Podman's archive PUT, ending at their end-of-archive marker.

Python pads a tar to a record of 20 blocks after the marker. Podman's copier stops reading
at the marker and closes its pipe, and the rest of the padding then fails the request
("passing bulk input to subprocess: write |1: broken pipe", containers/buildah#6573)
whenever the pipe has no room left for it: builds failed so, at random, under load.
"""

import io
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path


def tar_of(files: Mapping[str, tuple[bytes, int]]) -> bytes:
    """A tar of ``files`` (name → data and mode), without the padding after its marker."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()[: tar.offset]


def drop_padding(path: Path, tar: tarfile.TarFile) -> None:
    """Cut the tar file ``path``, just written and closed as ``tar``, after its marker."""
    os.truncate(path, tar.offset)
