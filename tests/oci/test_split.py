"""Splitting one tar stream into several layers: the layers applied in order give the input."""

import io
import tarfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oci.compress import Compression
from oci.errors import InvalidContent
from oci.layer import LayerWriter, write_layer
from oci.split import GroupSpec, split_stream
from oci.tarball import retar_stream
from tests.tar_model import apply_layers, apply_tar, hardlink_classes, tar_names, without_mtimes
from tests.tarbuild import Entry, make_tar

GROUPS = {name: GroupSpec() for name in ("a", "b", "c", "rest")}


def split(data: bytes, assign, tmp: Path, groups=None, **kwargs):
    return split_stream(
        io.BytesIO(data),
        assign,
        groups or GROUPS,
        tmp / "blobs",
        Compression.GZIP,
        strip_components=1,
        fallback="rest",
        **kwargs,
    )


def by_first_component(name: str) -> str | None:
    top = name.split("/")[0]
    return top if top in ("a", "b", "c") else None


def blobs_of(layers) -> list[bytes]:
    return [layer.blob.path.read_bytes() for layer in layers]


SAMPLE = [
    Entry("a/x", data=b"x"),
    Entry("a/sub/y", data=b"y" * 5000, mode=0o4755),
    Entry("b/z", data=b"z"),
    Entry("b/sym", "sym", target="../a/x"),
    Entry("shared/dir/f1", data=b"1"),
    Entry("shared/dir/f2", data=b"2"),
    Entry("shared/empty", "dir", mode=0o1777),
    Entry("top", data=b"top"),
]


def test_every_group_gets_its_entries_and_the_directories_above(tmp_path: Path) -> None:
    def assign(name: str) -> str | None:
        return {"shared/dir/f1": "a", "shared/dir/f2": "b"}.get(name) or by_first_component(name)

    layers = split(make_tar(SAMPLE), assign, tmp_path)
    names = {g: tar_names(layer.blob.path.read_bytes()) for g, layer in layers.items()}
    assert names["a"] == [
        "a",
        "a/sub",
        "a/sub/y",
        "a/x",
        "shared",
        "shared/dir",
        "shared/dir/f1",
    ]
    assert names["b"] == ["b", "b/sym", "b/z", "shared", "shared/dir", "shared/dir/f2"]
    # The empty directory went nowhere else, so it lands in the fallback group.
    assert names["rest"] == ["shared", "shared/empty", "top"]
    assert "c" not in layers  # no entry, no layer


def test_layers_applied_in_order_give_the_input_tree(tmp_path: Path) -> None:
    data = make_tar(SAMPLE)
    layers = split(data, by_first_component, tmp_path)
    expected = apply_tar({}, data, strip=1)
    got = apply_layers(blobs_of(layers.values()))
    assert without_mtimes(got) == without_mtimes(expected)


def test_group_mtime_overrides_every_entry_and_clamp_applies_elsewhere(tmp_path: Path) -> None:
    groups = {**GROUPS, "a": GroupSpec(mtime=42, annotations={"k": "v"})}
    layers = split(make_tar(SAMPLE), by_first_component, tmp_path, groups, clamp_mtime=1000)
    tree_a = apply_tar({}, layers["a"].blob.path.read_bytes())
    assert {entry[6] for entry in tree_a.values()} == {42}
    tree_rest = apply_tar({}, layers["rest"].blob.path.read_bytes())
    assert {entry[6] for entry in tree_rest.values()} == {1000}
    assert layers["a"].annotations == {"k": "v"}
    assert layers["a"].newest_mtime == 42


def test_same_group_content_gives_the_same_blob_whatever_else_is_in_the_stream(
    tmp_path: Path,
) -> None:
    groups = {**GROUPS, "a": GroupSpec(mtime=7)}
    other = [
        Entry("a/x", data=b"x"),
        Entry("a/sub/y", data=b"y" * 5000, mode=0o4755),
        Entry("aa/other", data=b"other"),
        Entry("b/different", data=b"?" * 100),
        Entry("zzz", data=b"z", mtime=1_700_000_000),
    ]
    first = split(make_tar(SAMPLE), by_first_component, tmp_path / "1", groups)
    second = split(make_tar(other), by_first_component, tmp_path / "2", groups)
    assert first["a"].digest == second["a"].digest
    assert first["a"].diff_id == second["a"].diff_id
    assert first["b"].digest != second["b"].digest


def test_hardlink_goes_to_its_targets_group_and_stays_a_hardlink(tmp_path: Path) -> None:
    entries = [
        Entry("a/bin", data=b"binary" * 100, mode=0o755),
        Entry("b/alias", "link", target="a/bin"),
        Entry("c/alias2", "link", target="a/bin"),
    ]
    data = make_tar(entries)
    layers = split(data, by_first_component, tmp_path)
    assert tar_names(layers["b"].blob.path.read_bytes()) == ["b"]  # only its directory
    names = tar_names(layers["a"].blob.path.read_bytes())
    assert {"a/bin", "b/alias", "c/alias2"} <= set(names)
    expected = apply_tar({}, data, strip=1)
    got = apply_layers(blobs_of(layers.values()))
    assert without_mtimes(got) == without_mtimes(expected)
    assert hardlink_classes(got) == hardlink_classes(expected)


def test_kept_entries_only(tmp_path: Path) -> None:
    layers = split(
        make_tar(SAMPLE), by_first_component, tmp_path, keep=lambda n: not n.startswith("shared")
    )
    all_names = {n for layer in layers.values() for n in tar_names(layer.blob.path.read_bytes())}
    assert not any(n.startswith("shared") for n in all_names)


def test_hardlink_to_a_dropped_file_is_refused(tmp_path: Path) -> None:
    data = make_tar([Entry("a/f", data=b"f"), Entry("b/l", "link", target="a/f")])
    with pytest.raises(InvalidContent, match="dropped"):
        split(data, by_first_component, tmp_path, keep=lambda n: n != "a/f")
    assert not list((tmp_path / "blobs").glob(".layer-*"))  # temporary files removed


def test_unknown_group_is_an_error_and_leaves_no_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown group"):
        split(make_tar(SAMPLE), lambda n: "nope", tmp_path)
    assert not list((tmp_path / "blobs").glob(".layer-*"))


def test_file_observer_hears_digests(tmp_path: Path) -> None:
    seen: dict[str, dict[str, str]] = {}
    split(
        make_tar(SAMPLE),
        by_first_component,
        tmp_path,
        file_hashes=("sha1",),
        on_file=lambda n, d: seen.__setitem__(n, dict(d)),
    )
    import hashlib

    assert seen["a/x"] == {"sha1": hashlib.sha1(b"x").hexdigest()}
    assert "b/sym" not in seen


def test_single_group_matches_retar(tmp_path: Path) -> None:
    """One group and no overrides: the same layer write_layer(retar_stream) gives."""
    data = make_tar(SAMPLE)
    single = split_stream(
        io.BytesIO(data),
        lambda n: None,
        {"all": GroupSpec()},
        tmp_path / "b1",
        strip_components=1,
        clamp_mtime=1_000,
        fallback="all",
    )["all"]
    whole = write_layer(
        retar_stream(io.BytesIO(data), strip_components=1, clamp_mtime=1_000), tmp_path / "b2"
    )
    assert without_mtimes(apply_tar({}, single.blob.path.read_bytes())) == without_mtimes(
        apply_tar({}, whole.blob.path.read_bytes())
    )


def test_layer_writer_push_style(tmp_path: Path) -> None:
    with LayerWriter(tmp_path, Compression.NONE, {"x": "y"}) as writer:
        info = tarfile.TarInfo("hello")
        info.size, info.mtime = 5, 99
        writer.add(info, io.BytesIO(b"world"))
        layer = writer.finish()
    assert layer.newest_mtime == 99
    assert layer.annotations == {"x": "y"}
    data = layer.blob.path.read_bytes()
    assert tar_names(data) == ["hello"]
    assert [p.name for p in tmp_path.iterdir()] == [layer.digest.split(":")[1]]


def test_layer_writer_without_finish_leaves_nothing(tmp_path: Path) -> None:
    with LayerWriter(tmp_path, Compression.GZIP) as writer:
        writer.add(tarfile.TarInfo("x"), io.BytesIO())
    assert list(tmp_path.iterdir()) == []


# --- property: any tree, any assignment --------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "c", "d d", "é", "x.so", "x.so.1"])


@st.composite
def trees(draw: st.DrawFn) -> list[Entry]:
    paths = draw(st.lists(st.lists(_NAMES, min_size=1, max_size=4), min_size=1, max_size=25))
    names = sorted({"/".join(p) for p in paths})
    # A name that is a prefix directory of another must be a directory.
    dirs = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    entries: list[Entry] = []
    files: list[str] = []
    for name in names:
        if name in dirs:
            entries.append(Entry(name, "dir", mode=draw(st.sampled_from([0o755, 0o700, 0o1777]))))
            continue
        kind = draw(st.sampled_from(["file", "file", "sym", "link", "dir"]))
        if kind == "link" and files:
            entries.append(Entry(name, "link", target=draw(st.sampled_from(files))))
        elif kind == "sym":
            entries.append(Entry(name, "sym", target=draw(_NAMES)))
        elif kind == "dir":
            entries.append(Entry(name, "dir"))
        else:
            entries.append(
                Entry(name, data=draw(st.binary(max_size=600)), uid=draw(st.sampled_from([0, 7])))
            )
            files.append(name)
    # Hardlinks must follow their targets in the stream: keep only those that do.
    order = sorted(entries, key=lambda e: tuple(e.name.split("/")))
    seen: set[str] = set()
    kept = []
    for e in order:
        if e.kind == "link" and e.target not in seen:
            continue
        seen.add(e.name)
        kept.append(e)
    return kept


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees(), salt=st.integers(0, 1000), groups=st.integers(1, 4))
def test_any_split_reassembles_the_input(
    tmp_path: Path, tree: list[Entry], salt: int, groups: int
) -> None:
    names = [f"g{i}" for i in range(groups)]
    specs = {n: GroupSpec(mtime=i * 10 if i % 2 else None) for i, n in enumerate(names)}

    def assign(name: str) -> str | None:
        h = zlib.crc32(f"{salt}:{name}".encode()) % (groups + 1)
        return names[h] if h < groups else None

    data = make_tar(tree)
    out = tmp_path / f"run-{salt}-{groups}-{len(tree)}"
    layers = split_stream(io.BytesIO(data), assign, specs, out, strip_components=1, fallback="g0")
    ordered = [layers[n] for n in names if n in layers]
    expected = apply_tar({}, data, strip=1)
    got = apply_layers(blobs_of(ordered))
    assert without_mtimes(got) == without_mtimes(expected)
    assert hardlink_classes(got) == hardlink_classes(expected)
    for layer in ordered:  # every layer is self-contained: parents before children
        listed = tar_names(layer.blob.path.read_bytes())
        present = {n.rstrip("/") for n in listed}
        for n in listed:
            parent = n.rstrip("/").rpartition("/")[0]
            assert not parent or parent in present or parent not in expected
