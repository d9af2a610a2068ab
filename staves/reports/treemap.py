"""The treemap of an image's bytes, laid out (squarified, Bruls, Huizing and van Wijk 2000):
one box per layer holding one box per package with the bytes that package has in that layer
of the final tree. Pure geometry over what ``staves.sources.listing`` read."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from staves.gentoo.layering import VDB_DIR
from staves.sources.listing import ImageFile

WIDTH, HEIGHT = 1200, 640
LABEL = 18  # the layer's name strip, where a layer is tall enough
NO_PACKAGE = "(no package)"  # files made after emerge: ld.so.cache, the compiler runtime
PACKAGE_DATABASE = "(package database)"  # /var/db/pkg, as vdb = "trim" or "full" keeps it


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


def _worst(row: Sequence[float], side: float) -> float:
    total = sum(row)
    return max(max(row) * side * side / (total * total), total * total / (side * side * min(row)))


def _lay_row(row: Sequence[float], area: Rect, last: bool) -> tuple[list[Rect], Rect]:
    """Place ``row`` along the short side of ``area``; the rest of it is left. The row's
    last box ends at the area's edge, and the last row fills what is left, so that
    rounding never puts a box outside the area."""
    total = sum(row)
    if area.w >= area.h:
        width = area.w if last else total / area.h
        y, out = area.y, []
        for n, a in enumerate(row):
            h = area.y + area.h - y if n == len(row) - 1 else a / width
            out.append(Rect(area.x, y, width, h))
            y += h
        return out, Rect(area.x + width, area.y, area.w - width, area.h)
    height = area.h if last else total / area.w
    x, out = area.x, []
    for n, a in enumerate(row):
        w = area.x + area.w - x if n == len(row) - 1 else a / height
        out.append(Rect(x, area.y, w, height))
        x += w
    return out, Rect(area.x, area.y + height, area.w, area.h - height)


def squarify(weights: Sequence[float], area: Rect) -> list[Rect]:
    """Rectangles filling ``area``, one per weight (sorted largest first), areas in
    proportion, as close to square as the greedy rows of the algorithm get."""
    total = sum(weights)
    if total <= 0 or area.w <= 0 or area.h <= 0:
        return [Rect(area.x, area.y, 0, 0) for _ in weights]
    areas = [w * area.w * area.h / total for w in weights]
    out: list[Rect] = []
    i = 0
    while i < len(areas):
        side = min(area.w, area.h)
        row = [areas[i]]
        i += 1
        while i < len(areas) and _worst([*row, areas[i]], side) <= _worst(row, side):
            row.append(areas[i])
            i += 1
        placed, area = _lay_row(row, area, last=i == len(areas))
        out += placed
    return out


@dataclass(frozen=True)
class Box:
    """One box of the treemap: a package's bytes in one layer."""

    layer: int
    owner: str  # CATEGORY/PF, or NO_PACKAGE or PACKAGE_DATABASE
    bytes: int
    rect: Rect

    @property
    def package(self) -> str | None:
        return None if self.owner in (NO_PACKAGE, PACKAGE_DATABASE) else self.owner


def owner(f: ImageFile) -> str:
    """Who a file is shown as belonging to: its package, the package database, or none."""
    if f.package:
        return f.package
    return PACKAGE_DATABASE if f.path.startswith(VDB_DIR + "/") else NO_PACKAGE


def layer_totals(files: Iterable[ImageFile]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for f in files:
        by_owner = out.setdefault(f.layer, {})
        by_owner[owner(f)] = by_owner.get(owner(f), 0) + f.size
    return out


def _largest_first(items: Mapping[Any, int]) -> list[tuple[Any, int]]:
    return sorted(((k, v) for k, v in items.items() if v > 0), key=lambda kv: (-kv[1], str(kv[0])))


def treemap(files: Sequence[ImageFile]) -> tuple[list[tuple[int, int, Rect]], list[Box]]:
    """(layer, bytes, rect) of each layer with files, and the package boxes inside them."""
    totals = layer_totals(files)
    layers = _largest_first({layer: sum(p.values()) for layer, p in totals.items()})
    rects = squarify([b for _, b in layers], Rect(0, 0, WIDTH, HEIGHT))
    boxes: list[Box] = []
    for (layer, _), rect in zip(layers, rects, strict=True):
        top = LABEL if rect.h > 3 * LABEL and rect.w > 80 else 0
        inner = Rect(rect.x + 2, rect.y + top + 1, max(rect.w - 4, 0), max(rect.h - top - 3, 0))
        packages = _largest_first(totals[layer])
        placed = squarify([b for _, b in packages], inner)
        boxes += [Box(layer, p, b, r) for (p, b), r in zip(packages, placed, strict=True)]
    return [(layer, b, r) for (layer, b), r in zip(layers, rects, strict=True)], boxes
