"""Hand-made root filesystems with a Portage package database, as the builder leaves them."""

import bz2
import hashlib
import io
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

VDB = "var/db/pkg"


@dataclass(frozen=True)
class Pkg:
    key: str  # CATEGORY/PF
    files: dict[str, bytes] = field(default_factory=dict)  # absolute path -> data
    symlinks: dict[str, str] = field(default_factory=dict)  # absolute path -> target
    dirs: tuple[str, ...] = ()  # extra (empty) directories it owns
    meta: dict[str, str] = field(default_factory=dict)  # other vdb files
    mtime: int = 1_650_000_000
    built_epoch: int | None = None  # SOURCE_DATE_EPOCH in its saved build environment
    src_uri: str | None = None  # SRC_URI in its saved build environment


def _all_dirs(paths: list[str]) -> set[str]:
    out = set()
    for path in paths:
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/" + "/".join(parts[:i]))
    return out


def contents_text(pkg: Pkg) -> str:
    lines = []
    dirs = _all_dirs([*pkg.files, *pkg.symlinks]) | set(pkg.dirs)
    entries: list[tuple[str, str]] = [(d, f"dir {d}") for d in dirs]
    for path, data in pkg.files.items():
        md5 = hashlib.md5(data).hexdigest()
        entries.append((path, f"obj {path} {md5} {pkg.mtime}"))
    for path, target in pkg.symlinks.items():
        entries.append((path, f"sym {path} -> {target} {pkg.mtime}"))
    for _, line in sorted(entries):
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_package(root: Path, pkg: Pkg) -> None:
    for path, data in pkg.files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, (pkg.mtime, pkg.mtime))
    for path, link in pkg.symlinks.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_symlink():
            target.symlink_to(link)
    for d in pkg.dirs:
        (root / d.lstrip("/")).mkdir(parents=True, exist_ok=True)
    vdb = root / VDB / pkg.key
    vdb.mkdir(parents=True, exist_ok=True)
    size = sum(len(d) for d in pkg.files.values())
    meta = {"SIZE": str(size), "SLOT": "0", "repository": "gentoo", "COUNTER": "1", **pkg.meta}
    meta["CONTENTS"] = contents_text(pkg)
    for name, text in meta.items():
        (vdb / name).write_text(text if text.endswith("\n") else text + "\n")
    (vdb / "environment.bz2").write_bytes(environment_bz2(pkg.built_epoch, pkg.src_uri))


def environment_bz2(epoch: int | None, src_uri: str | None = None) -> bytes:
    """A saved build environment as Portage writes it (bash's ``declare -p``)."""
    lines = ['declare -x CHOST="x86_64-pc-linux-gnu"']
    if epoch is not None:
        lines.append(f'declare -x SOURCE_DATE_EPOCH="{epoch}"')
    if src_uri is not None:
        escaped = "".join("\\" + c if c in '"\\$`' else c for c in src_uri)
        lines.append(f'declare -- SRC_URI="{escaped}"')
    lines.append('declare -- T="/var/tmp/portage/x/temp"')
    return bz2.compress("\n".join(lines).encode() + b"\n")


def make_rootfs(root: Path, packages: list[Pkg], unowned: dict[str, bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for pkg in packages:
        write_package(root, pkg)
    for path, data in (unowned or {}).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def podman_archive(directory: Path, top: str = "rootfs") -> bytes:
    """The tar Podman's archive API gives for ``directory``: top entry ``top/``, sorted."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(directory, arcname=top)
    return buf.getvalue()


GLIBC = Pkg(
    "sys-libs/glibc-2.39-r6",
    files={"/usr/lib64/libc.so.6": b"\x7fELF libc" * 4000, "/usr/bin/ldd": b"#!/bin/sh\n"},
    symlinks={"/lib64": "usr/lib64"},
    meta={
        "LICENSE": "LGPL-2.1+ BSD HPND ISC inner-net rc PCRE",
        "USE": "amd64 multiarch ssp elibc_glibc",
        "IUSE": "+multiarch +ssp systemtap -static-libs",
        "CFLAGS": "-O2 -pipe",
        "CHOST": "x86_64-pc-linux-gnu",
        "BUILD_TIME": "1700000000",
        "BUILD_ID": "3",
        "COUNTER": "10",
        "DESCRIPTION": "GNU libc C library",
        "HOMEPAGE": "https://www.gnu.org/software/libc/",
    },
)
LIBGREET = Pkg(
    "dev-libs/libgreet-1.0",
    files={"/usr/lib64/libgreet.so.1": b"greet" * 300},
    symlinks={"/usr/lib64/libgreet.so": "libgreet.so.1"},
    meta={
        "LICENSE": "MIT",
        "USE": "amd64",
        "IUSE": "",
        "BUILD_TIME": "1700000100",
        "COUNTER": "11",
    },
)
HELLO = Pkg(
    "app-misc/hello-1.0-r1",
    files={
        "/usr/bin/hello": b"#!/bin/sh\necho hello\n",
        "/usr/share/hello/a file with spaces.txt": b"spaces\n",
    },
    dirs=("/var/lib/hello",),
    src_uri="https://example.org/hello-1.0.tar.gz\n\t"
    "ssl? ( mirror://gnu/hello/tls.tar.xz -> hello-tls-1.0.tar.xz ) "
    "!ssl? ( https://example.org/plain.tar.gz )",
    meta={
        "RDEPEND": "dev-libs/libgreet:0/1= virtual/libc !app-misc/goodbye",
        "LICENSE": "|| ( MIT GPL-2+ ) ssl? ( openssl ) !ssl? ( Unknown-License )",
        "USE": "amd64 ssl",
        "IUSE": "+ssl test",
        "BUILD_TIME": "1700000200",
        "CFLAGS": "-O2 -march=x86-64-v2",
        "COUNTER": "12",
    },
)
VIRTUAL = Pkg(
    "virtual/libc-1", meta={"COUNTER": "9", "LICENSE": "", "RDEPEND": "sys-libs/glibc:2.2"}
)
UNOWNED = {"/etc/ld.so.cache": b"cache", "/usr/lib64/libgcc_s.so.1": b"gcc runtime"}
ALL = [GLIBC, LIBGREET, HELLO, VIRTUAL]
