"""The layer cache: a reused layer is the layer a fresh pack gives, whatever the cache holds."""

import io
import os
from pathlib import Path

from oci.compress import Compression
from oci.layer import Layer
from oci.layer_cache import LayerCache
from oci.split import GroupSpec, split_stream
from tests.tarbuild import Entry, make_tar

GROUPS = {"a": GroupSpec(annotations={"k": "a"}), "rest": GroupSpec()}
ROOT = [
    Entry("a/x", data=b"x" * 10_000),
    Entry("a/sub/y", data=b"y" * 5000, mode=0o4755),
    Entry("top", data=b"top"),
]


def pack(entries: list[Entry], blobs: Path, cache: LayerCache | None) -> dict[str, Layer]:
    def new_writer(name: str, spec: GroupSpec):  # type: ignore[no-untyped-def]
        assert cache is not None
        return cache.writer(f"key-{name}", blobs, Compression.GZIP, spec.annotations)

    return split_stream(
        io.BytesIO(make_tar(entries)),
        lambda name: "a" if name.startswith("a/") else None,
        GROUPS,
        blobs,
        Compression.GZIP,
        strip_components=1,
        fallback="rest",
        new_writer=new_writer if cache is not None else None,
    )


def descriptors(layers: dict[str, Layer]) -> dict[str, tuple[str, str, int, dict[str, str]]]:
    return {n: (la.digest, la.diff_id, la.size, dict(la.annotations)) for n, la in layers.items()}


def test_cached_layers_are_the_layers_a_fresh_pack_gives(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    fresh = pack(ROOT, tmp_path / "fresh", None)
    first = pack(ROOT, tmp_path / "one", cache)
    assert (cache.repacked, cache.reused) == (2, 0)
    second = pack(ROOT, tmp_path / "two", cache)
    assert (cache.repacked, cache.reused) == (2, 2)
    assert descriptors(fresh) == descriptors(first) == descriptors(second)
    for layer in second.values():
        assert layer.blob.path.parent == tmp_path / "two"
        assert layer.blob.path.read_bytes() == fresh_blob(fresh, layer.digest)


def fresh_blob(layers: dict[str, Layer], digest: str) -> bytes:
    return next(la.blob.path.read_bytes() for la in layers.values() if la.digest == digest)


def test_a_key_whose_content_changed_is_compressed_anew(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    pack(ROOT, tmp_path / "one", cache)
    changed = [Entry("a/x", data=b"changed"), *ROOT[1:]]
    got = pack(changed, tmp_path / "two", cache)  # same keys, other content in group a
    assert (cache.repacked, cache.reused) == (3, 1)
    assert descriptors(got) == descriptors(pack(changed, tmp_path / "fresh", None))
    third = pack(changed, tmp_path / "three", cache)  # the cache now holds the new content
    assert (cache.repacked, cache.reused) == (3, 3)
    assert descriptors(third) == descriptors(got)


def test_eviction_keeps_the_most_recently_used_blobs_under_the_bound(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache", max_bytes=1 << 30)
    layers = pack(ROOT, tmp_path / "one", cache)
    blobs = {la.digest: tmp_path / "cache/blobs/sha256" / la.digest[7:] for la in layers.values()}
    older, newer = sorted(blobs, key=lambda d: layers["a"].digest != d)  # "a" used longest ago
    os.utime(blobs[older], (1, 1))
    cache.max_bytes = blobs[newer].stat().st_size
    cache.evict()
    assert not blobs[older].exists() and blobs[newer].exists()
    # An evicted blob is a miss: packed again, the same layer.
    cache.max_bytes = 1 << 30
    again = pack(ROOT, tmp_path / "two", cache)
    assert descriptors(again) == descriptors(layers)
    assert cache.repacked == 3


def test_a_blob_evicted_after_the_lookup_is_packed_from_the_spool(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "cache")
    layers = pack(ROOT, tmp_path / "one", cache)
    for blob in (tmp_path / "cache/blobs/sha256").iterdir():
        blob.unlink()  # another build's eviction, between lookup and use
    again = pack(ROOT, tmp_path / "two", cache)
    assert descriptors(again) == descriptors(layers)
    assert cache.reused == 0
