"""A lock file read back and checked, every mistake one line naming the file and key: a
lock is written by ``staves lock``, so any mistake means it was edited or damaged, and
the cure is to write it anew."""

import re
import tomllib
from pathlib import Path
from typing import Any

from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.atom import AtomError, parse_atom
from staves.lockfile.model import (
    LOCK_VERSION,
    Distfile,
    Lock,
    LockedImage,
    LockedPackage,
    LockedPlatform,
    LockedRepository,
    SpecInputs,
)
from staves.spec.errors import show
from staves.spec.nesting import nesting_problem

MAX_LOCK_BYTES = 16 << 20  # thousands of packages with their distfiles on a few platforms
_HINT = "run staves lock to write it anew"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]{7,128}")
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


class _Reader:
    """Typed access to the parsed document, failing on the first mistake with its key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> StavesError:
        return StavesError(problem, file=self.file, key=key, hint=_HINT, exit_code=EXIT_USAGE)

    def table(self, doc: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise self.fail(where + key, "is missing or not a table")
        return value

    def tables(self, doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "is not an array of tables")
        return value

    def text(
        self, doc: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", "is missing or not a string")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(f"{where}.{key}", f"{show(value)} is not what Staves writes there")
        return value

    def optional(
        self, doc: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        return self.text(doc, key, where, pattern) if key in doc else None

    def strings(self, doc: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = doc.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "is missing or not an array of strings")
        return tuple(value)


def _image(read: _Reader, doc: dict[str, Any], key: str) -> LockedImage:
    table = read.table(doc, key)
    return LockedImage(
        read.text(table, "image", key),
        read.optional(table, "digest", key, _DIGEST),
        read.optional(table, "id", key, _DIGEST),
    )


def _distfile(read: _Reader, value: Any, where: str) -> Distfile:
    if not isinstance(value, dict):
        raise read.fail(where, "is not an inline table")
    size = value.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise read.fail(f"{where}.size", "is not a size in bytes")
    return Distfile(
        read.text(value, "name", where),
        size,
        read.optional(value, "blake2b", where, _HEX),
        read.optional(value, "sha512", where, _HEX),
    )


def _package(read: _Reader, doc: dict[str, Any], where: str) -> tuple[str, LockedPackage]:
    platform = read.text(doc, "platform", where, _PLATFORM)
    atom_text = read.text(doc, "atom", where)
    try:
        atom = parse_atom(atom_text)
    except AtomError as exc:
        raise read.fail(f"{where}.atom", f"{show(atom_text)}: {exc}") from None
    if atom.operator != "=" or atom.repo is None or atom.wildcard or atom.slot or atom.use_deps:
        raise read.fail(f"{where}.atom", f"{show(atom_text)} is not =CATEGORY/PF::REPOSITORY")
    live = doc.get("live", False)
    if not isinstance(live, bool):
        raise read.fail(f"{where}.live", "is not true or false")
    distfiles = doc.get("distfiles", [])
    if not isinstance(distfiles, list):
        raise read.fail(f"{where}.distfiles", "is not an array")
    package = LockedPackage(
        f"{atom.cp}-{atom.version}",
        atom.repo,
        read.text(doc, "slot", where),
        read.strings(doc, "use", where),
        live,
        tuple(_distfile(read, d, f"{where}.distfiles[{n}]") for n, d in enumerate(distfiles)),
    )
    return platform, package


def parse_lock(doc: dict[str, Any], file: str = "staves.lock") -> Lock:
    """A parsed lock document, checked."""
    read = _Reader(file)
    if doc.get("lock-version") != LOCK_VERSION:
        raise read.fail(
            "lock-version", f"is {show(doc.get('lock-version'))}; this Staves reads {LOCK_VERSION}"
        )
    spec = read.table(doc, "spec")
    inputs = SpecInputs(read.strings(spec, "packages", "spec"), read.text(spec, "portage", "spec"))
    snapshot = _image(read, doc, "snapshot")
    timestamp = read.optional(read.table(doc, "snapshot"), "timestamp-commit", "snapshot", _HEX)
    repositories = tuple(
        LockedRepository(
            read.text(repo, "name", f"repository[{n}]"),
            read.optional(repo, "commit", f"repository[{n}]", _HEX),
            read.optional(repo, "sync-type", f"repository[{n}]"),
            read.optional(repo, "uri", f"repository[{n}]"),
        )
        for n, repo in enumerate(read.tables(doc, "repository"))
    )
    packages: dict[str, list[LockedPackage]] = {}
    for n, entry in enumerate(read.tables(doc, "package")):
        platform, package = _package(read, entry, f"package[{n}]")
        packages.setdefault(platform, []).append(package)
    platforms = []
    for n, entry in enumerate(read.tables(doc, "platform")):
        name = read.text(entry, "name", f"platform[{n}]", _PLATFORM)
        builder_id = read.text(entry, "builder-id", f"platform[{n}]", _DIGEST)
        digest = read.optional(entry, "builder-digest", f"platform[{n}]", _DIGEST)
        found = tuple(packages.pop(name, ()))
        platforms.append(LockedPlatform(name, builder_id, found, digest))
    if packages:
        raise read.fail(
            "package", f"names platform {next(iter(packages))}, which no [[platform]] has"
        )
    return Lock(
        inputs, snapshot, _image(read, doc, "builder"), repositories, tuple(platforms), timestamp
    )


def loads_lock(text: str, file: str = "staves.lock") -> Lock:
    if (deep := nesting_problem(text)) is not None:
        raise StavesError(deep.problem, file=file, key=f"line {deep.line}", hint=_HINT)
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise StavesError(
            f"invalid TOML: {exc}", file=file, hint=_HINT, exit_code=EXIT_USAGE
        ) from None
    return parse_lock(doc, file)


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``; None when there is none."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_LOCK_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StavesError(
            f"cannot read: {exc.strerror}", file=str(path), exit_code=EXIT_USAGE
        ) from None
    if len(data) > MAX_LOCK_BYTES:
        raise StavesError("is larger than 16 MiB", file=str(path), hint=_HINT, exit_code=EXIT_USAGE)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise StavesError(
            "is not UTF-8", file=str(path), hint=_HINT, exit_code=EXIT_USAGE
        ) from None
    return loads_lock(text, str(path))


def lock_path(spec_path: str | Path) -> Path:
    """Where the lock of a spec is: beside it, ``NAME.lock`` for ``NAME.toml``."""
    return Path(spec_path).with_suffix(".lock")
