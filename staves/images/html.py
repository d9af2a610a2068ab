"""The size report as one self-contained HTML page: inline CSS, SVG and script, nothing
fetched (a Content-Security-Policy of ``default-src 'none'`` makes any stray request a
console error). Pure: the page is a string made from what ``staves.images.listing`` read.

The treemap is laid out here (squarified, Bruls, Huizing and van Wijk 2000): one box per
layer holding one box per package with the bytes that package has in that layer of the
final tree; the page's script only shows details of the box clicked.
"""

import hashlib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from staves.gentoo.layering import VDB_DIR
from staves.images.diff import ImageDiff
from staves.images.listing import ImageContents, ImageFile
from staves.images.report import PackageInfo

WIDTH, HEIGHT = 1200, 640
LABEL = 18  # the layer's name strip, where a layer is tall enough
FILES_PER_PACKAGE = 200  # listed in the page's data; the rest are counted
LARGEST_FILES = 30
NO_PACKAGE = "(no package)"  # files made after emerge: ld.so.cache, the compiler runtime
PACKAGE_DATABASE = "(package database)"  # /var/db/pkg, as vdb = "trim" or "full" keeps it
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


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


def _layer_totals(files: Iterable[ImageFile]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for f in files:
        by_owner = out.setdefault(f.layer, {})
        by_owner[owner(f)] = by_owner.get(owner(f), 0) + f.size
    return out


def _largest_first(items: Mapping[Any, int]) -> list[tuple[Any, int]]:
    return sorted(((k, v) for k, v in items.items() if v > 0), key=lambda kv: (-kv[1], str(kv[0])))


def treemap(files: Sequence[ImageFile]) -> tuple[list[tuple[int, int, Rect]], list[Box]]:
    """(layer, bytes, rect) of each layer with files, and the package boxes inside them."""
    totals = _layer_totals(files)
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


def human(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _colour(package: str | None) -> str:
    if package is None:
        return "#9aa3ad"
    hue = int(hashlib.sha1(package.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue} 55% 62%)"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _package_title(key: str, info: PackageInfo | None, size: int) -> str:
    if info is None:
        return f"{key}\n{human(size)}"
    use = " ".join([*info.use, *(f"-{f}" for f in info.use_disabled)]) or "(none)"
    return (
        f"{info.name} {info.version}\nUSE: {use}\nlicense: {info.license}\n"
        f"{human(size)} in this layer"
    )


def _label(text: str, rect: Rect, size: int = 11) -> str:
    room = int((rect.w - 6) / (size * 0.6))
    if room < 4 or rect.h < size + 4:
        return ""
    shown = text if len(text) <= room else text[: room - 1] + "…"
    return (
        f'<text x="{rect.x + 3:.1f}" y="{rect.y + size + 1:.1f}" font-size="{size}">'
        f"{_e(shown)}</text>"
    )


def _svg_rect(rect: Rect, attrs: str) -> str:
    return (
        f'<rect x="{rect.x:.2f}" y="{rect.y:.2f}" width="{rect.w:.2f}" '
        f'height="{rect.h:.2f}" {attrs}'
    )


def render_treemap(
    files: Sequence[ImageFile],
    packages: Mapping[str, PackageInfo],
    colour: Callable[[str | None], str] = _colour,
) -> str:
    """The SVG treemap; each package box carries ``data-package`` and ``data-bytes``."""
    layers, boxes = treemap(files)
    out = [f'<svg id="treemap" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">']
    for layer, size, rect in layers:
        out.append(
            _svg_rect(rect, f'class="layer" data-layer="{layer}" data-bytes="{size}">')
            + f"<title>layer {layer + 1}: {human(size)}</title></rect>"
        )
        out.append(_label(f"layer {layer + 1} · {human(size)}", rect, 12))
    for box in boxes:
        title = _package_title(box.owner, packages.get(box.owner), box.bytes)
        attrs = (
            f'class="pkg" data-package="{_e(box.package or "")}" data-owner="{_e(box.owner)}" '
            f'data-layer="{box.layer}" data-bytes="{box.bytes}" fill="{colour(box.package)}">'
        )
        out.append(_svg_rect(box.rect, attrs) + f"<title>{_e(title)}</title></rect>")
        out.append(_label(box.owner.split("/", 1)[-1], box.rect))
    out.append("</svg>")
    return "\n".join(line for line in out if line)


def _package_data(
    contents: ImageContents, extra: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    by_owner: dict[str, list[ImageFile]] = {}
    for f in contents.files:
        by_owner.setdefault(owner(f), []).append(f)
    infos = {p.key: p for p in contents.report.packages}
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(by_owner.keys() | infos.keys()):
        files = sorted(by_owner.get(key, []), key=lambda f: (-f.size, f.path))
        info = infos.get(key)
        out[key] = {
            "name": info.name if info else key,
            "version": info.version if info else "",
            "use": list(info.use) if info else [],
            "use_disabled": list(info.use_disabled) if info else [],
            "license": info.license if info else "",
            "portage_size": info.size if info else None,
            "bytes": sum(f.size for f in files),
            "file_count": len(files),
            "files": [[f.path, f.size] for f in files[:FILES_PER_PACKAGE]],
            **extra.get(key, {}),
        }
    return out


def _json_script(data: object) -> str:
    # "<" escaped, so that no "</script>" in a file name ends the block.
    text = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="data">{text}</script>'


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _use(info: PackageInfo) -> str:
    return " ".join([*info.use, *(f"-{f}" for f in info.use_disabled)])


def _layers_table(contents: ImageContents) -> str:
    totals = _layer_totals(contents.files)
    rows = [
        (
            i + 1,
            layer.digest[:19],
            human(layer.size),
            human(sum(totals.get(i, {}).values())),
            " ".join(layer.packages),
        )
        for i, layer in enumerate(contents.report.layers)
    ]
    return _table(["layer", "digest", "compressed", "files", "packages"], rows)


def _packages_table(contents: ImageContents) -> str:
    owned: dict[str | None, int] = {}
    for f in contents.files:
        owned[f.package] = owned.get(f.package, 0) + f.size
    packages = sorted(contents.report.packages, key=lambda p: (-owned.get(p.key, 0), p.key))
    rows = [
        (p.name, p.version, human(owned.get(p.key, 0)), human(p.size), p.license, _use(p))
        for p in packages
    ]
    head = ["package", "version", "in image", "Portage SIZE", "license", "USE"]
    return _table(head, rows, "packages")


def _largest_files_table(files: Sequence[ImageFile]) -> str:
    largest = sorted(files, key=lambda f: (-f.size, f.path))[:LARGEST_FILES]
    rows = [("/" + f.path, human(f.size), owner(f), f.layer + 1) for f in largest]
    return _table(["file", "size", "package", "layer"], rows, "files")


def _licenses_table(contents: ImageContents) -> str:
    by_license: dict[str, list[str]] = {}
    for p in contents.report.packages:
        by_license.setdefault(p.license or "NOASSERTION", []).append(p.key)
    rows = [
        (license_, len(keys), " ".join(sorted(keys)))
        for license_, keys in sorted(by_license.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return _table(["license", "packages", "which"], rows, "licenses")


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d232a;background:#fbfbfa}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
.facts{display:flex;gap:2em;flex-wrap:wrap;margin:.6em 0}.facts b{display:block;font-size:1.3em}
#map{display:flex;gap:1em;align-items:flex-start}#treemap{flex:1;max-width:1200px;
background:#fff;border:1px solid #ccd}
#treemap rect.layer{fill:#eef1f4;stroke:#56606b;stroke-width:1.5}
#treemap rect.pkg{stroke:#fff;stroke-width:1;cursor:pointer}
#treemap rect.pkg:hover,#treemap rect.pkg.on{stroke:#111;stroke-width:2}
#treemap text{pointer-events:none;fill:#1d232a;font-family:system-ui,sans-serif}
#details{width:22em;min-height:10em;background:#fff;border:1px solid #ccd;padding:.6em;
font-size:13px;overflow-wrap:anywhere}#details ol{padding-left:1.4em;max-height:24em;
overflow:auto}table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #dde;padding:.2em .7em;text-align:left;vertical-align:top}
th{background:#eef1f4}.added{color:#17703a}.removed{color:#a32020}.changed{color:#8a5a00}
.key span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}
"""

SCRIPT = """
const data = JSON.parse(document.getElementById('data').textContent);
const details = document.getElementById('details');
function size(n){if(n==null)return '?';const u=['B','KiB','MiB','GiB'];let i=0,v=n;
while(Math.abs(v)>=1024&&i<3){v/=1024;i++}return i?v.toFixed(1)+' '+u[i]:n+' B'}
function line(label, value){const p=document.createElement('p');const b=document.createElement('b');
b.textContent=label+': ';p.append(b,value);return p}
function show(rect){
  document.querySelectorAll('rect.pkg.on').forEach(r=>r.classList.remove('on'));
  rect.classList.add('on');
  const p = data.packages[rect.dataset.owner];
  details.replaceChildren();
  const h=document.createElement('h3');h.textContent=p.name+' '+p.version;details.append(h);
  if(p.status)details.append(line('change', p.status));
  const use=[...p.use,...p.use_disabled.map(f=>'-'+f)].join(' ')||'(none)';
  details.append(line('USE', use), line('license', p.license||'-'),
    line('in this layer', size(Number(rect.dataset.bytes))),
    line('in the image', size(p.bytes)+' in '+p.file_count+' files'),
    line('Portage SIZE', size(p.portage_size)));
  const ol=document.createElement('ol');
  for(const [path,n] of p.files){const li=document.createElement('li');
    li.textContent='/'+path+' '+size(n);ol.append(li)}
  details.append(ol);
  if(p.file_count>p.files.length)details.append(line('and', (p.file_count-p.files.length)+' more'));
}
document.querySelectorAll('#treemap rect.pkg').forEach(r=>r.addEventListener('click',()=>show(r)));
const first=document.querySelector('#treemap rect.pkg');if(first)show(first);
"""


def _page(title: str, body: str, data: object) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
        f"{_json_script(data)}\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def _facts(items: Iterable[tuple[str, object]]) -> str:
    cells = "".join(f"<div>{_e(k)}<b>{_e(v)}</b></div>" for k, v in items)
    return f'<div class="facts">{cells}</div>'


def _map_section(contents: ImageContents, colour: Callable[[str | None], str] = _colour) -> str:
    infos = {p.key: p for p in contents.report.packages}
    svg = render_treemap(contents.files, infos, colour)
    hint = "<p>Box area is bytes in the image; click a box for the package's details.</p>"
    return f'{hint}<div id="map">{svg}<div id="details"></div></div>'


def _fileless(contents: ImageContents) -> str:
    owners = {f.package for f in contents.files if f.size}
    keys = [p.key for p in contents.report.packages if p.key not in owners]
    if not keys:
        return ""
    return f"<p>Packages with no bytes in the image (no box): {_e(' '.join(keys))}</p>"


def render_inspect_html(name: str, contents: ImageContents) -> str:
    """The page for one image (``name`` as the user gave it)."""
    report = contents.report
    layer_bytes = sum(layer.size for layer in report.layers)
    body = [
        f"<h1>{_e(name)}</h1>",
        f"<p>image {_e(report.digest or 'ID ' + report.image_id)} · packages from "
        f"{_e(report.source)}</p>",
        _facts(
            [
                ("files", human(contents.file_bytes)),
                ("layers (compressed)", human(layer_bytes)),
                ("packages", len(report.packages)),
                ("regular files", len(contents.files)),
                ("layers", len(report.layers)),
            ]
        ),
        "<h2>Bytes by layer and package</h2>",
        _map_section(contents),
        _fileless(contents),
        "<h2>Packages</h2>",
        _packages_table(contents),
        "<h2>Largest files</h2>",
        _largest_files_table(contents.files),
        "<h2>Licenses</h2>",
        _licenses_table(contents),
        "<h2>Layers</h2>",
        _layers_table(contents),
    ]
    data = {"packages": _package_data(contents, {})}
    return _page(f"{name}: staves image report", "\n".join(body), data)


DIFF_COLOURS = {"added": "#4caf6e", "changed": "#e3a33b", "same": "#b9c3cc", "none": "#dde1e5"}


def _statuses(diff: ImageDiff) -> dict[str, str]:
    out = {p.key: "added" for p in diff.added}
    out.update({c.new.key: "changed" for c in diff.changed})
    return out


def _shown(field: str, value: Any) -> str:
    if isinstance(value, tuple | list):
        return " ".join(value)
    return human(value) if field == "size" else str(value)


def _diff_rows(diff: ImageDiff) -> list[tuple[str, str, str, str]]:
    rows = [("added", p.name, "", p.version) for p in diff.added]
    rows += [("removed", p.name, p.version, "") for p in diff.removed]
    for change in diff.changed:
        for c in change.changes:
            old, new = _shown(c.field, c.old), _shown(c.field, c.new)
            if old == new:  # sizes a few bytes apart
                old, new = str(c.old), str(c.new)
            rows.append(("changed", f"{change.name} {c.field}", old, new))
    return rows


def _diff_table(diff: ImageDiff) -> str:
    rows = _diff_rows(diff)
    if not rows:
        return "<p>No package changed.</p>"
    body = "".join(
        f'<tr class="{kind}"><td>{kind}</td><td>{_e(what)}</td><td>{_e(old)}</td>'
        f"<td>{_e(new)}</td></tr>"
        for kind, what, old, new in rows
    )
    head = "<thead><tr><th></th><th>package</th><th>A</th><th>B</th></tr></thead>"
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _legend() -> str:
    spans = "".join(
        f'<span style="background:{DIFF_COLOURS[k]}"></span>{label}'
        for k, label in (("added", "added"), ("changed", "changed"), ("same", "unchanged"))
    )
    return f'<p class="key">In B:{spans}</p>'


def render_diff_html(diff: ImageDiff, b: ImageContents) -> str:
    """The page for a diff: the changes, and B's treemap coloured by them."""
    status = _statuses(diff)

    def colour(package: str | None) -> str:
        return DIFF_COLOURS[status.get(package, "same") if package else "none"]

    def signed(n: int) -> str:
        return ("+" if n > 0 else "") + human(n)

    body = [
        f"<h1>{_e(diff.a.source)} → {_e(diff.b.source)}</h1>",
        "<p>same image</p>"
        if diff.same
        else (
            f"<p>same content, different image: {_e('; '.join(diff.differences))}</p>"
            if diff.same_content
            else ""
        ),
        _facts(
            [
                ("files", f"{human(diff.a.file_bytes)} → {human(diff.b.file_bytes)}"),
                ("change", signed(diff.b.file_bytes - diff.a.file_bytes)),
                ("compressed", f"{human(diff.a.layer_bytes)} → {human(diff.b.layer_bytes)}"),
                ("added", len(diff.added)),
                ("removed", len(diff.removed)),
                ("changed", len(diff.changed)),
            ]
        ),
        "<h2>Packages</h2>",
        _diff_table(diff),
        "<h2>B by layer and package</h2>",
        _legend(),
        _map_section(b, colour),
        "<h2>Layers</h2>",
        f"<p>{len(diff.shared_layers)} shared, {len(diff.layers_only_a)} only in A, "
        f"{len(diff.layers_only_b)} only in B.</p>",
        _table(
            ["", "digest", "compressed", "packages"],
            [
                *(
                    ("only in A", x.digest[:19], human(x.size), " ".join(x.packages))
                    for x in diff.layers_only_a
                ),
                *(
                    ("only in B", x.digest[:19], human(x.size), " ".join(x.packages))
                    for x in diff.layers_only_b
                ),
                *(
                    ("shared", x.digest[:19], human(x.size), " ".join(x.packages))
                    for x in diff.shared_layers
                ),
            ],
        ),
    ]
    extra = {key: {"status": kind} for key, kind in status.items()}
    data = {"packages": _package_data(b, extra)}
    return _page(f"{diff.a.source} → {diff.b.source}: staves diff", "\n".join(body), data)
