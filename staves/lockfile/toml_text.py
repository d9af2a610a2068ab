"""A lock as TOML text: one key a line, tables in a fixed order, packages sorted by
platform and name, so that a change to what goes into the image is a small diff."""

import json
from collections.abc import Iterable

from staves.lockfile.model import (
    LOCK_VERSION,
    Distfile,
    Lock,
    LockedImage,
    LockedPackage,
)

HEADER = """\
# What `staves build` puts into the image of {spec}, pinned: the snapshot and builder
# images, each repository's commit, and per platform every package with its SLOT, USE
# flags and distfiles. Written by `staves lock`; do not edit. `staves lock` moves it,
# `staves lock --check` says whether it is up to date.
"""


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value)


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _pair(key: str, value: str | int | bool | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [f"{key} = {'true' if value else 'false'}"]
    if isinstance(value, int):
        return [f"{key} = {value}"]
    return [f"{key} = {_string(value)}"]


def _image(table: str, image: LockedImage) -> list[str]:
    return [f"[{table}]", *_pair("image", image.image), *_pair("digest", image.digest)]


def _distfile(distfile: Distfile) -> str:
    parts = [f"name = {_string(distfile.name)}"]
    for key, value in (
        ("size", distfile.size),
        ("blake2b", distfile.blake2b),
        ("sha512", distfile.sha512),
    ):
        parts += _pair(key, value)
    return "{ " + ", ".join(parts) + " }"


def _package(platform: str, package: LockedPackage) -> list[str]:
    lines = ["[[package]]", *_pair("platform", platform), *_pair("atom", package.atom)]
    lines += [*_pair("slot", package.slot), f"use = {_strings(package.use)}"]
    lines += _pair("live", package.live)
    if not package.distfiles:
        return [*lines, "distfiles = []"]
    return [*lines, "distfiles = [", *(f"  {_distfile(d)}," for d in package.distfiles), "]"]


def render_lock(lock: Lock, spec_name: str = "staves.toml") -> str:
    """The lock file's text."""
    blocks = [
        [f"lock-version = {LOCK_VERSION}"],
        [
            "[spec]",
            f"packages = {_strings(lock.spec.packages)}",
            *_pair("portage", lock.spec.portage),
        ],
        [
            *_image("snapshot", lock.snapshot),
            *_pair("id", lock.snapshot.id),
            *_pair("timestamp-commit", lock.timestamp_commit),
        ],
        _image("builder", lock.builder),
    ]
    for repo in sorted(lock.repositories, key=lambda r: r.name):
        blocks.append(
            [
                "[[repository]]",
                *_pair("name", repo.name),
                *_pair("sync-type", repo.sync_type),
                *_pair("uri", repo.uri),
                *_pair("commit", repo.commit),
            ]
        )
    platforms = sorted(lock.platforms, key=lambda p: p.platform)
    for platform in platforms:
        blocks.append(
            [
                "[[platform]]",
                *_pair("name", platform.platform),
                *_pair("builder-id", platform.builder_id),
                *_pair("builder-digest", platform.builder_digest),
            ]
        )
    for platform in platforms:
        for package in sorted(platform.packages, key=lambda p: (p.name, p.cpv, p.repository)):
            blocks.append(_package(platform.platform, package))
    body = "\n\n".join("\n".join(block) for block in blocks)
    return HEADER.format(spec=spec_name) + "\n" + body + "\n"
