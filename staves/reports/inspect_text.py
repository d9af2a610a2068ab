"""``staves inspect``'s text: an image's packages and layers as two tables, and what its
provenance says it was made from. Pure: it formats what ``staves.sources.packages`` read."""

from staves.sources.packages import ImageReport
from staves.sources.provenance import ProvenanceInfo


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_text(report: ImageReport) -> str:
    name = report.digest or f"ID {report.image_id}"
    lines = [f"image {name} (packages from {report.source})", ""]
    rows = [["PACKAGE", "VERSION", "SIZE", "LICENSE", "USE"]]
    for p in report.packages:
        use = " ".join([*p.use, *(f"-{f}" for f in p.use_disabled)])
        rows.append([p.name, p.version, _size(p.size), p.license, use])
    lines += _table(rows)
    lines.append("")
    rows = [["LAYER", "DIGEST", "SIZE", "PACKAGES"]]
    for i, layer in enumerate(report.layers, 1):
        rows.append([str(i), layer.digest[:19], _size(layer.size), " ".join(layer.packages)])
    lines += _table(rows)
    if report.provenance is not None:
        lines += ["", *render_provenance(report.provenance)]
    return "\n".join(lines) + "\n"


def render_provenance(info: ProvenanceInfo) -> list[str]:
    lines = [f"provenance (SLSA v1, {'signed' if info.signed else 'unsigned'} DSSE envelope)"]
    lines.append(f"  builder   {info.builder or '?'}")
    lines.append(f"  snapshot  {info.snapshot or '?'}")
    for name, revision in sorted(info.repositories.items()):
        lines.append(f"  repository {name} at {revision or 'an unknown revision'}")
    lines.append(f"  distfiles {info.distfiles}, built by staves {info.staves or '?'}")
    return lines
