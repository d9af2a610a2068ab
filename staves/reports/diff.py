"""What changed between two images: packages, layers and sizes. Pure: it compares what
``staves.sources.listing`` read from each side.

Packages are matched by ``CATEGORY/PN``; where one side holds several versions of a name
(slots), versions on one side only count as added or removed. Layers are matched by
their uncompressed digest (``diff_id``), which is the same whichever transport the image
was read from, so an image copied from a layout to a registry is "the same".
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from staves.sources.listing import ImageContents
from staves.sources.packages import LayerInfo, PackageInfo

COMPARED = ("version", "use", "use_disabled", "license", "size")


@dataclass(frozen=True)
class FieldChange:
    field: str  # one of COMPARED
    old: Any
    new: Any


@dataclass(frozen=True)
class PackageChange:
    name: str  # CATEGORY/PN
    old: PackageInfo
    new: PackageInfo
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class Side:
    """One image of the two, in totals."""

    source: str  # as given on the command line
    digest: str | None
    image_id: str
    layer_bytes: int  # compressed, as pulled
    file_bytes: int  # the regular files of the final tree
    packages_from: str  # "sbom", "vdb" or "none", as ImageReport.source


@dataclass(frozen=True)
class ImageDiff:
    a: Side
    b: Side
    added: tuple[PackageInfo, ...]
    removed: tuple[PackageInfo, ...]
    changed: tuple[PackageChange, ...]
    shared_layers: tuple[LayerInfo, ...]  # as B has them
    layers_only_a: tuple[LayerInfo, ...]
    layers_only_b: tuple[LayerInfo, ...]
    # The same layers (their uncompressed digests, in order): one tree of files.
    same_content: bool = False
    # Why two images of the same content are not the same image: the manifest
    # annotations, config fields and layer media types that differ.
    differences: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        """The same image: one manifest where both sides keep one, else one config (which
        names every layer). Content alone is not enough: two manifests that differ are
        two images to a registry, a signature or a pull by digest."""
        if self.a.digest is not None and self.b.digest is not None:
            return self.a.digest == self.b.digest
        return self.a.image_id == self.b.image_id

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["same"] = self.same
        out["layer_bytes_change"] = self.b.layer_bytes - self.a.layer_bytes
        out["file_bytes_change"] = self.b.file_bytes - self.a.file_bytes
        return out


def _field_changes(old: PackageInfo, new: PackageInfo) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in COMPARED
        if getattr(old, name) != getattr(new, name)
    )


def _by_name(packages: Iterable[PackageInfo]) -> dict[str, list[PackageInfo]]:
    out: dict[str, list[PackageInfo]] = {}
    for package in packages:
        out.setdefault(package.name, []).append(package)
    return out


def diff_packages(
    old: Iterable[PackageInfo], new: Iterable[PackageInfo]
) -> tuple[list[PackageInfo], list[PackageInfo], list[PackageChange]]:
    """(added, removed, changed) from ``old`` to ``new``."""
    before, after = _by_name(old), _by_name(new)
    added: list[PackageInfo] = []
    removed: list[PackageInfo] = []
    changed: list[PackageChange] = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name, []), after.get(name, [])
        if len(was) == 1 and len(now) == 1:
            if changes := _field_changes(was[0], now[0]):
                changed.append(PackageChange(name, was[0], now[0], changes))
            continue
        versions_was = {p.version for p in was}
        versions_now = {p.version for p in now}
        removed += [p for p in was if p.version not in versions_now]
        added += [p for p in now if p.version not in versions_was]
        for p in was:
            twin = next((q for q in now if q.version == p.version), None)
            if twin is not None and (changes := _field_changes(p, twin)):
                changed.append(PackageChange(name, p, twin, changes))
    return added, removed, changed


def _layer_id(layer: LayerInfo) -> str:
    return layer.diff_id or layer.digest


def _side(source: str, image: ImageContents) -> Side:
    report = image.report
    layer_bytes = sum(layer.size for layer in report.layers)
    return Side(
        source, report.digest, report.image_id, layer_bytes, image.file_bytes, report.source
    )


def _diff_ids(image: ImageContents) -> list[str] | None:
    ids = (image.config.get("rootfs") or {}).get("diff_ids")
    return list(ids) if isinstance(ids, list) else None


def _changed_keys(old: Any, new: Any, prefix: str) -> list[str]:
    """The dotted keys whose values differ between two JSON objects (one level into
    objects, as ``config.Labels``)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [prefix]
    return [
        f"{prefix}.{key}" if prefix else key
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def manifest_differences(a: ImageContents, b: ImageContents) -> tuple[str, ...]:
    """Why two images of the same layers are two images: annotations, config fields,
    layer media types. A docker-archive's or Podman storage's made-up manifest is not
    compared (they keep none)."""
    found = [f"config {key}" for key in _changed_keys(_config_fields(a), _config_fields(b), "")]
    if a.report.digest is not None and b.report.digest is not None:
        annotations = _changed_keys(
            dict(a.manifest.get("annotations") or {}), dict(b.manifest.get("annotations") or {}), ""
        )
        found += [f"manifest annotation {key}" for key in annotations]
        types = [
            [layer.get("mediaType") for layer in m.get("layers", [])]
            for m in (a.manifest, b.manifest)
        ]
        if types[0] != types[1]:
            found.append(f"layer media types {_media(types[0])} -> {_media(types[1])}")
        layer_notes = [
            [layer.get("annotations") or {} for layer in m.get("layers", [])]
            for m in (a.manifest, b.manifest)
        ]
        if layer_notes[0] != layer_notes[1]:
            found.append("layer annotations")
        if not found and a.report.digest != b.report.digest:
            found.append("the manifests' JSON (the same fields, written differently)")
    return tuple(found)


def _config_fields(image: ImageContents) -> dict[str, Any]:
    # The layers are compared as content; everything else in the config is a field.
    fields = {k: v for k, v in image.config.items() if k != "rootfs"}
    inner = fields.pop("config", None) or {}
    return {**fields, **inner}  # Labels, Env, …: the names differ from the top level's


def _media(types: list[Any]) -> str:
    return ", ".join(sorted({str(t).rsplit(".", 1)[-1] for t in types})) or "(none)"


def diff_images(a_name: str, a: ImageContents, b_name: str, b: ImageContents) -> ImageDiff:
    """What changed from image ``a`` to image ``b``."""
    # The same layers are one tree: packages that differ were only read differently
    # (an SBOM on one side, the package database on the other).
    same_content = _diff_ids(a) is not None and _diff_ids(a) == _diff_ids(b)
    same = a.report.image_id == b.report.image_id or same_content
    added, removed, changed = (
        ([], [], []) if same else diff_packages(a.report.packages, b.report.packages)
    )
    in_a = {_layer_id(layer) for layer in a.report.layers}
    in_b = {_layer_id(layer) for layer in b.report.layers}
    return ImageDiff(
        _side(a_name, a),
        _side(b_name, b),
        tuple(added),
        tuple(removed),
        tuple(changed),
        tuple(layer for layer in b.report.layers if _layer_id(layer) in in_a),
        tuple(layer for layer in a.report.layers if _layer_id(layer) not in in_b),
        tuple(layer for layer in b.report.layers if _layer_id(layer) not in in_a),
        same_content,
        manifest_differences(a, b) if same_content else (),
    )


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return " ".join(value) or "(none)"
    return "?" if value is None else str(value)


def render_diff_text(diff: ImageDiff) -> str:
    """The diff for people: one line per change, then the layers and totals."""
    lines = [f"--- {diff.a.source} ({diff.a.image_id[:19]})"]
    lines.append(f"+++ {diff.b.source} ({diff.b.image_id[:19]})")
    lines += [f"+ {p.name} {p.version}" for p in diff.added]
    lines += [f"- {p.name} {p.version}" for p in diff.removed]
    for change in diff.changed:
        fields = "; ".join(f"{c.field} {_value(c.old)} -> {_value(c.new)}" for c in change.changes)
        lines.append(f"~ {change.name}: {fields}")
    lines.append(
        f"layers: {len(diff.shared_layers)} shared, {len(diff.layers_only_a)} only in A, "
        f"{len(diff.layers_only_b)} only in B"
    )
    lines.append(
        f"size: {diff.a.layer_bytes} -> {diff.b.layer_bytes} bytes compressed "
        f"({_signed(diff.b.layer_bytes - diff.a.layer_bytes)}), "
        f"{diff.a.file_bytes} -> {diff.b.file_bytes} bytes of files "
        f"({_signed(diff.b.file_bytes - diff.a.file_bytes)})"
    )
    if diff.a.packages_from != diff.b.packages_from and not diff.same_content:
        # An SBOM writes licenses as SPDX and USE as IUSE; the database as Gentoo does.
        lines.append(
            f"note: packages of A from {diff.a.packages_from}, of B from "
            f"{diff.b.packages_from}: licenses and USE may differ only in how they are written"
        )
    if diff.same:
        lines.append("same image")
    elif diff.same_content:
        why = "; ".join(diff.differences) or "the manifests differ"
        lines.append(f"same content, different image: {why}")
    return "\n".join(lines) + "\n"
