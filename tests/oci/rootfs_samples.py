"""Root filesystem trees with every kind of entry a layer must carry faithfully."""

import os
import shutil
import stat
import struct
from pathlib import Path

# A VFS_CAP_REVISION_2 capability set granting cap_net_raw (bit 13) "+ep", as ping has.
NET_RAW_CAPABILITY = struct.pack("<IIIII", 0x02000001 | 0x000001, 1 << 13, 0, 0, 0)
LONG_DIR = "d" * 120
LONG_NAME = "f" * 200
NON_UTF8_NAME = os.fsdecode(b"caf\xe9-latin1")


def make_rich_rootfs(root: Path) -> Path:
    """Create a tree with files, links, special modes and xattrs; needs root for some."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "bin").mkdir()
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "hostname").write_text("staves\n")
    (root / "etc" / "hardlink-to-hostname").hardlink_to(root / "etc" / "hostname")
    (root / "etc" / "absolute-link").symlink_to("/etc/hostname")
    suid = root / "bin" / "suid-tool"
    suid.write_bytes(b"#!/bin/sh\n")
    suid.chmod(0o4755)
    sgid_dir = root / "srv"
    sgid_dir.mkdir()
    sgid_dir.chmod(0o2775)
    sticky = root / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    owned = root / "srv" / "owned"
    owned.write_text("owned by 1234:5678\n")
    os.chown(owned, 1234, 5678)
    (root / "dev").mkdir()
    os.mknod(root / "dev" / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(root / "dev" / "loop0", 0o660 | stat.S_IFBLK, os.makedev(7, 0))
    os.mkfifo(root / "dev" / "fifo", 0o600)
    ping = root / "bin" / "ping"
    ping.write_bytes(b"\x7fELF not really\n")
    ping.chmod(0o755)
    os.setxattr(ping, "security.capability", NET_RAW_CAPABILITY)
    os.setxattr(root / "etc" / "hostname", "user.staves.note", b"kept")
    (root / LONG_DIR).mkdir()
    (root / LONG_DIR / LONG_NAME).write_text("long path\n")
    (root / NON_UTF8_NAME).write_text("latin-1 name\n")
    (root / "empty-dir").mkdir()
    return root


def describe_tree(root: Path) -> dict[bytes, tuple[object, ...]]:
    """Everything a faithful copy must keep, per path (bytes), comparable across trees."""
    result: dict[bytes, tuple[object, ...]] = {}
    inodes: dict[int, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, os.fsencode(root))
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            detail: object = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    detail = f.read()
                if st.st_nlink > 1:
                    detail = (detail, "hardlink-group", inodes.setdefault(st.st_ino, rel))
            elif stat.S_ISLNK(st.st_mode):
                detail = os.readlink(path)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                detail = (os.major(st.st_rdev), os.minor(st.st_rdev))
            xattrs = {
                n: os.getxattr(path, n, follow_symlinks=False)
                for n in sorted(os.listxattr(path, follow_symlinks=False))
            }
            result[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, detail, xattrs)
    return result
