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

    @property
    def same(self) -> bool:
        """The same image: one config (which names every layer), so one tree."""
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


def diff_images(a_name: str, a: ImageContents, b_name: str, b: ImageContents) -> ImageDiff:
    """What changed from image ``a`` to image ``b``."""
    # One config names the same layers: packages that differ were only read differently
    # (an SBOM on one side, the package database on the other).
    same = a.report.image_id == b.report.image_id
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
    if diff.a.packages_from != diff.b.packages_from and not diff.same:
        # An SBOM writes licenses as SPDX and USE as IUSE; the database as Gentoo does.
        lines.append(
            f"note: packages of A from {diff.a.packages_from}, of B from "
            f"{diff.b.packages_from}: licenses and USE may differ only in how they are written"
        )
    if diff.same:
        lines.append("same image")
    return "\n".join(lines) + "\n"
