"""What the host and the in-builder program agree on: the files the program leaves for the
host to read out of the builder. What it says as it runs, the host reads from its records
on stdout (``events``; ``staves.podman.builder_output`` follows them)."""

# The host's heartbeat: this signal, sent to the builder's first process every few seconds
# (Podman's kill: no process of its own, unlike copying a file in). Its default action is to
# be ignored: a beat that comes before the program's handler (qemu-user, an init such as
# catatonit: signals the kernel does not keep from a container's first process) ends
# nothing, where SIGUSR1's ended an emulated build. Portage's merges take SIGUSR2,
# SIGWINCH, SIGCONT, SIGINT and SIGTERM for themselves; SIGURG nobody uses.
LEASE_SIGNAL = "SIGURG"
# The line a failure is said with in the build's log; the host reads the record beside it.
FAILURE_MARK = "staves: build failed: "
# The cache partition's two directories (the builder's, the image's), for the host (JSON).
PARTITION_FILE = "/tmp/staves-partition.json"
REPO_PATH = "/var/db/repos/gentoo"
# Gentoo's snapshots say when they were taken, as "Mon, 30 Nov 2026 00:45:01 +0000".
TIMESTAMP_FILE = "metadata/timestamp.chk"
# What the host reads back after a build, but for the root itself, in one directory: one
# request to Podman for all of them (each archive request costs Podman a process or two).
RECORDS_DIR = "/tmp/staves-records"
# The epoch the packages were built with, for the host to read (empty: none known).
EPOCH_FILE = f"{RECORDS_DIR}/epoch"
# The root's directory symlinks, "/lib64" → "/usr/lib64", for the host (JSON).
ROOT_LINKS_FILE = f"{RECORDS_DIR}/root-links.json"
# What the image was made from, for the host's provenance (JSON): the repositories with
# their revisions, and each package's repository revisions and distfiles (with Manifest
# digests).
SOURCES_FILE = f"{RECORDS_DIR}/sources.json"
# The finished root's package database (a tar of its var/db/pkg, top directory "pkg").
VDB_RECORD = f"{RECORDS_DIR}/vdb.tar"
# Copies of the finished root's /etc/passwd and /etc/group (where they are files), for the
# host to check the user the image runs as.
PASSWD_RECORD = f"{RECORDS_DIR}/passwd"
GROUP_RECORD = f"{RECORDS_DIR}/group"
# A copy of the snapshot's metadata/license-mapping.conf (where it has one), for the SBOM.
LICENSE_MAPPING_RECORD = f"{RECORDS_DIR}/license-mapping.conf"
# Where the host mounts the credentials it shares (besides root's home): root's alone
# while packages build (userpriv).
CREDENTIALS_DIR = "/run/staves"
# The finished root as one tar, beside the root: Podman's archive API gives every file it
# copies out root's ownership, so the root travels inside this file, owners intact.
ROOT_ARCHIVE_SUFFIX = ".tar"
# What ``staves lock`` resolved (a lock run): the packages the image would hold, each with
# its repository, slot, USE flags, live or not, distfiles; each repository's revision (JSON).
LOCK_FILE = "/tmp/staves-lock.json"
# A debug build with [debug] packages: the copy of the image root they were merged into
# (the host reads its package database), and what they added or changed, as a tar.
DEBUG_ROOT = "/tmp/staves-debug-root"
DEBUG_PACKAGES_ARCHIVE = "/tmp/staves-debug-packages.tar"
# What that root was made from, as SOURCES_FILE says it of the image root.
DEBUG_SOURCES_FILE = "/tmp/staves-debug-sources.json"
