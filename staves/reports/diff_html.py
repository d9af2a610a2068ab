"""The page for ``staves diff --format html``: the changes, and B's treemap coloured by
them. Pure: made from the diff and what ``staves.sources.listing`` read of B."""

from typing import Any

from staves.reports.diff import ImageDiff
from staves.reports.html import escape, facts, human, map_section, package_data, page, table
from staves.sources.listing import ImageContents

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
        f'<tr class="{kind}"><td>{kind}</td><td>{escape(what)}</td><td>{escape(old)}</td>'
        f"<td>{escape(new)}</td></tr>"
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
        f"<h1>{escape(diff.a.source)} → {escape(diff.b.source)}</h1>",
        "<p>same image</p>"
        if diff.same
        else (
            f"<p>same content, different image: {escape('; '.join(diff.differences))}</p>"
            if diff.same_content
            else ""
        ),
        facts(
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
        map_section(b, colour),
        "<h2>Layers</h2>",
        f"<p>{len(diff.shared_layers)} shared, {len(diff.layers_only_a)} only in A, "
        f"{len(diff.layers_only_b)} only in B.</p>",
        table(
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
    data = {"packages": package_data(b, extra)}
    return page(f"{diff.a.source} → {diff.b.source}: staves diff", "\n".join(body), data)
