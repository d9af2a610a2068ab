"""Comparing layers entry by entry."""

import io
import tarfile

from oci.compare import compare_entries, stream_entries


def test_entries_differing_in_metadata_or_presence_say_how() -> None:
    def tar_of(**members: int) -> dict:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, mtime in members.items():
                info = tarfile.TarInfo(name)
                info.mtime = mtime
                tar.addfile(info, io.BytesIO(b""))
        buffer.seek(0)
        return stream_entries(buffer)

    differences = compare_entries(tar_of(a=1, b=1), tar_of(a=2, c=1))
    assert [(d.name, d.what) for d in differences] == [
        ("a", ("mtime",)),
        ("b", ("only in the first",)),
        ("c", ("only in the second",)),
    ]


def test_the_same_bytes_under_another_owner_or_mode_differ_in_just_that() -> None:
    def one(mode: int, uid: int, data: bytes) -> dict:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            info = tarfile.TarInfo("usr/bin/x")
            info.mode, info.uid, info.size = mode, uid, len(data)
            tar.addfile(info, io.BytesIO(data))
        buffer.seek(0)
        return stream_entries(buffer, "application/vnd.oci.image.layer.v1.tar+gzip")

    base = one(0o755, 0, b"abc")
    assert compare_entries(base, one(0o755, 0, b"abc")) == ()
    assert compare_entries(base, one(0o4755, 0, b"abc"))[0].what == ("mode",)
    assert compare_entries(base, one(0o755, 250, b"abd"))[0].what == ("uid", "content")
