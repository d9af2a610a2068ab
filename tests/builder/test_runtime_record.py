"""The compiler runtime copied from the builder, entered in the image's package database
under the builder's package that installed it, with only the copied files."""

import hashlib
import os
from pathlib import Path

from staves.builder.runtime_record import record_compiler_runtime, runtime_provides
from staves.gentoo.vdb import read_vdb_dir


def builder_gcc(builder: Path) -> Path:
    """A builder whose sys-devel/gcc entry lists the libraries through /lib, as a stage3's
    (and the test builder's, from dpkg's lists) may, beside a soname link."""
    lib = builder / "usr/lib/x86_64-linux-gnu"
    lib.mkdir(parents=True)
    (lib / "libgcc_s.so.1").write_bytes(b"libgcc")
    (lib / "libstdc++.so.6.0.30").write_bytes(b"libstdc++")
    (lib / "libstdc++.so.6").symlink_to("libstdc++.so.6.0.30")
    (builder / "lib").symlink_to("usr/lib")
    entry = builder / "var/db/pkg/sys-devel/gcc-12.2.0"
    entry.mkdir(parents=True)
    contents = [
        f"dir {builder}/lib/x86_64-linux-gnu",
        f"obj {builder}/lib/x86_64-linux-gnu/libgcc_s.so.1 00 1",
        f"sym {builder}/usr/lib/x86_64-linux-gnu/libstdc++.so.6 -> libstdc++.so.6.0.30 1",
        f"obj {builder}/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30 00 1",
        f"obj {builder}/usr/bin/gcc 00 1",
    ]
    files = {
        "CONTENTS": "\n".join(contents) + "\n",
        "CATEGORY": "sys-devel\n",
        "PF": "gcc-12.2.0\n",
        "SLOT": "12\n",
        "LICENSE": "GPL-3+ LGPL-3+ || ( GPL-3+ libgcc gcc-runtime-library-exception-3.1 )\n",
        "repository": "gentoo\n",
        "USE": "cxx multilib\n",
        "IUSE": "cxx multilib\n",
        "CFLAGS": "-O2 -pipe\n",
        "RDEPEND": "sys-libs/zlib\n",
        "PROVIDES": "x86_64: libgcc_s.so.1 libstdc++.so.6 libgomp.so.1\nx86_32: libgcc_s.so.1\n",
        "COUNTER": "4\n",
    }
    for name, text in files.items():
        (entry / name).write_text(text)
    return lib


def test_copied_libraries_become_the_builders_gcc_with_only_their_files(tmp_path: Path) -> None:
    lib = builder_gcc(tmp_path / "builder")
    root = tmp_path / "root"
    (root / "var/db/pkg/sys-libs/glibc-2.39").mkdir(parents=True)
    (root / "var/db/pkg/sys-libs/glibc-2.39/COUNTER").write_text("7\n")
    target = root / "usr/lib64"
    target.mkdir(parents=True)
    copied = []
    for name in ("libgcc_s.so.1", "libstdc++.so.6"):
        (target / name).write_bytes((lib / name).read_bytes())
        copied.append((target / name, str(lib / name)))
    made = record_compiler_runtime(root, copied, tmp_path / "builder/var/db/pkg")
    assert made == ["sys-devel/gcc-12.2.0"]
    (gcc,) = [p for p in read_vdb_dir(root / "var/db/pkg") if p.pn == "gcc"]
    assert (gcc.pvr, gcc.slot, gcc.repository) == ("12.2.0", "12", "gentoo")
    assert gcc.license.startswith("GPL-3+ LGPL-3+")
    assert gcc.counter == 8  # after every package of the root
    assert gcc.rdepend == ""  # the whole compiler's dependencies are not the libraries'
    files = {e.path: e for e in gcc.contents if e.kind == "obj"}
    assert set(files) == {"/usr/lib64/libgcc_s.so.1", "/usr/lib64/libstdc++.so.6"}
    assert files["/usr/lib64/libgcc_s.so.1"].md5 == hashlib.md5(b"libgcc").hexdigest()
    assert {e.path for e in gcc.contents if e.kind == "dir"} == {"/usr", "/usr/lib64"}
    assert gcc.size == len(b"libgcc") + len(b"libstdc++")
    provides = (root / "var/db/pkg/sys-devel/gcc-12.2.0/PROVIDES").read_text()
    assert provides == "x86_64: libgcc_s.so.1 libstdc++.so.6\nx86_32: libgcc_s.so.1\n"


def test_a_file_of_no_builder_package_is_left_unrecorded(tmp_path: Path) -> None:
    builder_gcc(tmp_path / "builder")
    stray = tmp_path / "libstray.so.1"
    stray.write_bytes(b"x")
    root = tmp_path / "root"
    (root / "usr/lib64").mkdir(parents=True)
    os.link(stray, root / "usr/lib64/libstray.so.1")
    copied = [(root / "usr/lib64/libstray.so.1", str(stray))]
    assert record_compiler_runtime(root, copied, tmp_path / "builder/var/db/pkg") == []


def test_provides_keeps_only_the_copied_sonames() -> None:
    assert runtime_provides("x86_64: a.so.1 b.so.2\nx86_32: b.so.2\n", {"a.so.1"}) == (
        "x86_64: a.so.1"
    )
