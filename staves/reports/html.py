"""The size report as one self-contained HTML page: inline CSS, SVG and script, nothing
fetched (a Content-Security-Policy of ``default-src 'none'`` makes any stray request a
console error). Pure: the page is a string made from what ``staves.sources.listing`` read.

The treemap is laid out in ``staves.reports.treemap`` and drawn here as SVG; the page's
script only shows details of the box clicked. ``staves.reports.diff_html`` makes the diff's
page from the same parts.
"""

import hashlib
import html
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from staves.reports.treemap import HEIGHT, WIDTH, Rect, layer_totals, owner, treemap
from staves.sources.listing import ImageContents, ImageFile
from staves.sources.packages import PackageInfo

FILES_PER_PACKAGE = 200  # listed in the page's data; the rest are counted
LARGEST_FILES = 30
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


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


def escape(text: object) -> str:
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
        f"{escape(shown)}</text>"
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
            f'class="pkg" data-package="{escape(box.package or "")}" '
            f'data-owner="{escape(box.owner)}" '
            f'data-layer="{box.layer}" data-bytes="{box.bytes}" fill="{colour(box.package)}">'
        )
        out.append(_svg_rect(box.rect, attrs) + f"<title>{escape(title)}</title></rect>")
        out.append(_label(box.owner.split("/", 1)[-1], box.rect))
    out.append("</svg>")
    return "\n".join(line for line in out if line)


def package_data(
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


def table(head: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _use(info: PackageInfo) -> str:
    return " ".join([*info.use, *(f"-{f}" for f in info.use_disabled)])


def _layers_table(contents: ImageContents) -> str:
    totals = layer_totals(contents.files)
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
    return table(["layer", "digest", "compressed", "files", "packages"], rows)


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
    return table(head, rows, "packages")


def _largest_files_table(files: Sequence[ImageFile]) -> str:
    largest = sorted(files, key=lambda f: (-f.size, f.path))[:LARGEST_FILES]
    rows = [("/" + f.path, human(f.size), owner(f), f.layer + 1) for f in largest]
    return table(["file", "size", "package", "layer"], rows, "files")


def _licenses_table(contents: ImageContents) -> str:
    by_license: dict[str, list[str]] = {}
    for p in contents.report.packages:
        by_license.setdefault(p.license or "NOASSERTION", []).append(p.key)
    rows = [
        (license_, len(keys), " ".join(sorted(keys)))
        for license_, keys in sorted(by_license.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return table(["license", "packages", "which"], rows, "licenses")


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


def page(title: str, body: str, data: object) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
        f"{_json_script(data)}\n<script>{SCRIPT}</script>\n</body></html>\n"
    )


def facts(items: Iterable[tuple[str, object]]) -> str:
    cells = "".join(f"<div>{escape(k)}<b>{escape(v)}</b></div>" for k, v in items)
    return f'<div class="facts">{cells}</div>'


def map_section(contents: ImageContents, colour: Callable[[str | None], str] = _colour) -> str:
    infos = {p.key: p for p in contents.report.packages}
    svg = render_treemap(contents.files, infos, colour)
    hint = "<p>Box area is bytes in the image; click a box for the package's details.</p>"
    return f'{hint}<div id="map">{svg}<div id="details"></div></div>'


def _fileless(contents: ImageContents) -> str:
    owners = {f.package for f in contents.files if f.size}
    keys = [p.key for p in contents.report.packages if p.key not in owners]
    if not keys:
        return ""
    return f"<p>Packages with no bytes in the image (no box): {escape(' '.join(keys))}</p>"


def render_inspect_html(name: str, contents: ImageContents) -> str:
    """The page for one image (``name`` as the user gave it)."""
    report = contents.report
    layer_bytes = sum(layer.size for layer in report.layers)
    body = [
        f"<h1>{escape(name)}</h1>",
        f"<p>image {escape(report.digest or 'ID ' + report.image_id)} · packages from "
        f"{escape(report.source)}</p>",
        facts(
            [
                ("files", human(contents.file_bytes)),
                ("layers (compressed)", human(layer_bytes)),
                ("packages", len(report.packages)),
                ("regular files", len(contents.files)),
                ("layers", len(report.layers)),
            ]
        ),
        "<h2>Bytes by layer and package</h2>",
        map_section(contents),
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
    data = {"packages": package_data(contents, {})}
    return page(f"{name}: staves image report", "\n".join(body), data)
