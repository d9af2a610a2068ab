"""A build's own checks against its lock, and what an image with a live package says: no
build key, its live packages named."""

from dataclasses import replace
from pathlib import Path

import pytest

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import ImageConfig
from staves.build.live import LIVE, mark_live
from staves.build.locked import check_built, unchanged_inputs
from staves.build.plans import PlatformPlan
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.caches.build_key import BUILD_KEY
from staves.destinations.naming import ImageName
from staves.errors import StavesError
from staves.gentoo.vdb import InstalledPackage
from staves.lockfile.model import LockedPackage, LockedPlatform
from staves.podman.builder_container import BuilderSettings
from staves.podman.service_map import PlatformServices
from tests.lockfile.test_lockfile import DIGEST, OTHER, sample

AMD64 = Platform("linux", "amd64")


def installed(cpv: str, use: str = "", iuse: str = "", properties: str = "") -> InstalledPackage:
    category, pf = cpv.split("/")
    pn, pv = pf.rsplit("-", 1)
    return InstalledPackage(
        category,
        pf,
        pn,
        pv,
        pv,
        repository="gentoo",
        use=tuple(use.split()),
        iuse=tuple(iuse.split()),
        properties=tuple(properties.split()),
    )


def root_of(*packages: InstalledPackage, given: tuple[str, ...] = ()) -> BuiltRoot:
    return BuiltRoot(packages, None, None, (), sources={"builder_packages": list(given)})  # type: ignore[arg-type]


def request_of(**changes: object) -> BuildRequest:
    request = BuildRequest(
        plan={},
        config=ImageConfig(labels={BUILD_KEY: "sha256:k", "a": "1"}),
        name=ImageName("hello", "1"),
        annotations={BUILD_KEY: "sha256:k", "t": "x"},
        builder=BuilderSettings("b", "p", "c"),
        destinations=(),
        compression=Compression.GZIP,
        platforms=(AMD64,),
        epoch=None,
        services=PlatformServices(),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


LOCKED = LockedPlatform(
    "linux/amd64",
    DIGEST,
    (
        LockedPackage("app-misc/hello-1.0", "gentoo", "0", ("-debug", "shout")),
        LockedPackage("sys-libs/glibc-2.36-r1", "gentoo", "2.2"),
    ),
)


def test_a_root_that_holds_the_locked_packages_passes() -> None:
    lock = sample(LOCKED)
    hello = installed("app-misc/hello-1.0", "shout amd64", "debug shout")
    glibc = installed("sys-libs/glibc-2.36-r1")
    runtime = installed("sys-devel/gcc-12.2.0")  # the compiler runtime the builder copies
    check_built(
        request_of(lock=lock), {AMD64: root_of(hello, glibc, runtime, given=(runtime.key,))}
    )


@pytest.mark.parametrize(
    ("hello", "named"),
    [
        (installed("app-misc/hello-1.1", "shout", "debug shout"), "app-misc/hello 1.0 → 1.1"),
        (
            installed("app-misc/hello-1.0", "debug", "debug shout"),
            "app-misc/hello USE +debug -shout",
        ),
    ],
)
def test_a_root_other_than_the_lock_fails_naming_the_package(
    hello: InstalledPackage, named: str
) -> None:
    roots = {AMD64: root_of(hello, installed("sys-libs/glibc-2.36-r1"))}
    with pytest.raises(StavesError) as caught:
        check_built(request_of(lock=sample(LOCKED)), roots)
    assert str(caught.value).startswith(f"linux/amd64: the image differs from the lock: {named}")
    check_built(request_of(), roots)  # no lock: nothing to hold to


def test_an_image_with_a_live_package_names_it_and_has_no_build_key() -> None:
    live = installed("app-misc/livehello-9999", properties="live")
    request = mark_live(request_of(), {AMD64: root_of(live, installed("app-misc/hello-1.0"))})
    assert BUILD_KEY not in request.annotations and BUILD_KEY not in request.config.labels
    assert request.annotations[LIVE] == request.config.labels[LIVE] == "app-misc/livehello-9999"
    assert request.annotations["t"] == "x" and request.config.labels["a"] == "1"
    plain = request_of()
    assert mark_live(plain, {AMD64: root_of(installed("app-misc/hello-1.0"))}) is plain


def test_a_locked_build_needs_no_resolution_while_its_inputs_are_the_locks(
    tmp_path: Path,
) -> None:
    lock = sample(LOCKED)
    plan = {"inputs": {"builder": DIGEST.removeprefix("sha256:"), "snapshot": DIGEST}, "sync": []}
    assert unchanged_inputs(lock, {AMD64: PlatformPlan(AMD64, plan)})
    moved = {**plan, "inputs": {**plan["inputs"], "snapshot": OTHER}}
    assert not unchanged_inputs(lock, {AMD64: PlatformPlan(AMD64, moved)})
    synced = {**plan, "sync": ["overlay"]}
    assert not unchanged_inputs(lock, {AMD64: PlatformPlan(AMD64, synced)})
