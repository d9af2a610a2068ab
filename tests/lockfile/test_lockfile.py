"""staves.lock as text: written in a stable order, read back as it was written, every
mistake of an edited or damaged lock one line naming the file and key."""

import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staves.errors import StavesError
from staves.lockfile.model import (
    Distfile,
    Lock,
    LockedImage,
    LockedPackage,
    LockedPlatform,
    LockedRepository,
    SpecInputs,
)
from staves.lockfile.read import MAX_LOCK_BYTES, loads_lock, lock_path, read_lock
from staves.lockfile.toml_text import render_lock
from tests.strategies import categories, package_names, repo_names, versions

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
COMMIT = "6828cc6a6941be646bc97be23cd92738a444c84b"

HELLO = LockedPackage("app-misc/hello-1.0", "gentoo", "0", ("-debug", "shout"))
GLIBC = LockedPackage("sys-libs/glibc-2.36-r1", "gentoo", "2.2", ("multilib",))
FETCHED = LockedPackage(
    "app-misc/fetched-1.0",
    "gentoo",
    "0",
    (),
    distfiles=(Distfile("fetched-1.0.tar.gz", 220, "c" * 128, "d" * 128),),
)
LIVE = LockedPackage("app-misc/livehello-9999", "staves-overlay", "0", (), live=True)


def sample(*platforms: LockedPlatform) -> Lock:
    return Lock(
        SpecInputs(("app-misc/hello",), DIGEST),
        LockedImage("docker.io/gentoo/portage:latest", OTHER, DIGEST),
        LockedImage("docker.io/gentoo/stage3:latest"),
        (
            LockedRepository("gentoo", COMMIT),
            LockedRepository("staves-overlay", "1" * 40, "git", "https://example.org/o.git"),
        ),
        platforms or (LockedPlatform("linux/amd64", DIGEST, (HELLO, GLIBC, FETCHED, LIVE)),),
        COMMIT,
    )


def test_a_lock_reads_back_as_it_was_written() -> None:
    lock = sample(
        LockedPlatform("linux/amd64", DIGEST, (GLIBC, HELLO, FETCHED, LIVE), OTHER),
        LockedPlatform("linux/arm64", OTHER, (HELLO, GLIBC)),
    )
    again = loads_lock(render_lock(lock))
    assert again.platform("linux/amd64") is not None
    assert {p.platform: set(p.packages) for p in again.platforms} == {
        p.platform: set(p.packages) for p in lock.platforms
    }
    assert replace(again, platforms=()) == replace(lock, platforms=())
    assert again.pins == {"staves-overlay": "1" * 40}  # git repositories only


def test_the_text_is_the_same_whatever_order_the_resolution_came_in() -> None:
    packages = [HELLO, GLIBC, FETCHED, LIVE]
    texts = set()
    for seed in range(5):
        random.Random(seed).shuffle(packages)
        texts.add(render_lock(sample(LockedPlatform("linux/amd64", DIGEST, tuple(packages)))))
    assert len(texts) == 1
    text = texts.pop()
    # One package a table, sorted by name: a version bump is a one-line diff.
    assert text.index("=app-misc/fetched-1.0::gentoo") < text.index("=sys-libs/glibc")
    assert 'atom = "=app-misc/hello-1.0::gentoo"\nslot = "0"\nuse = ["-debug", "shout"]' in text
    assert "live = true" in text


@given(
    st.lists(
        st.tuples(categories, package_names, versions, repo_names, st.booleans()),
        max_size=8,
        unique_by=lambda t: (t[0], t[1], t[2]),
    )
)
def test_any_resolution_reads_back(found: list[tuple[str, str, str, str, bool]]) -> None:
    packages = tuple(
        LockedPackage(f"{c}/{n}-{v}", r, "0", ("-x", "y"), live) for c, n, v, r, live in found
    )
    lock = sample(LockedPlatform("linux/amd64", DIGEST, packages))
    again = loads_lock(render_lock(lock))
    (platform,) = again.platforms
    assert sorted(platform.packages, key=lambda p: p.cpv) == sorted(packages, key=lambda p: p.cpv)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("lock-version = 1", "lock-version = 2"), "lock-version"),
        (('atom = "=app-misc/hello-1.0::gentoo"', 'atom = "app-misc/hello"'), "package[1].atom"),
        (
            ('atom = "=app-misc/hello-1.0::gentoo"', 'atom = "=app-misc/hello-1.0"'),
            "package[1].atom",
        ),
        (('atom = "=app-misc/hello-1.0::gentoo"', 'atom = "=app/"'), "package[1].atom"),
        (('name = "linux/amd64"', 'name = "linux/arm64"'), "package"),
        (("[snapshot]", "[snapshots]"), "snapshot"),
        (('use = ["-debug", "shout"]', "use = 3"), "package[1].use"),
        (("live = false", 'live = "no"'), "package[0].live"),
        (("size = 220", "size = -1"), "package[0].distfiles[0].size"),
        (('\ncommit = "6828', '\ncommit = "--upload-pack=x'), "repository[0].commit"),
    ],
)
def test_an_edited_lock_is_one_line_naming_its_key(change: tuple[str, str], key: str) -> None:
    text = render_lock(sample())
    old, new = change
    assert old in text
    with pytest.raises(StavesError) as caught:
        loads_lock(text.replace(old, new, 1), "web/staves.lock")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"web/staves.lock: {key}: ")
    assert message.endswith("run staves lock to write it anew")


def test_a_lock_that_is_not_toml_or_too_deep_or_too_large_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StavesError, match="invalid TOML"):
        loads_lock("lock-version = \n")
    with pytest.raises(StavesError, match="nest"):
        loads_lock("x = " + "[" * 5000 + "]" * 5000 + "\n")
    path = tmp_path / "staves.lock"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(StavesError, match="not UTF-8"):
        read_lock(path)
    path.write_bytes(b"#" * (MAX_LOCK_BYTES + 1))
    with pytest.raises(StavesError, match="larger than 16 MiB"):
        read_lock(path)
    assert read_lock(tmp_path / "none.lock") is None


def test_the_lock_of_a_spec_is_beside_it() -> None:
    assert lock_path("staves.toml") == Path("staves.lock")
    assert lock_path("web/app.toml") == Path("web/app.lock")
