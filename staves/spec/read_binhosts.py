"""Reading ``[[binhosts]]``: binary-package hosts, written to binrepos.conf as Portage
reads it (``name``, ``uri``, ``priority``, ``verify_signature``)."""

from urllib.parse import urlsplit

from staves.spec import fields
from staves.spec.errors import Collector, Path, show
from staves.spec.model import Binhost
from staves.spec.names import repository_name_problem

BINHOST_KEYS = frozenset({"name", "uri", "priority", "verify_signature"})
BINHOST_SCHEMES = ("http", "https", "ftp")
URI_HINT = "an http://, https:// or ftp:// URI without spaces or quotes"


def binhost_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be a binhost's sync-uri, if it cannot."""
    if any(c.isspace() or not c.isprintable() or c in "\"'\\" for c in uri):
        return "contains whitespace, a quote, a backslash or a control character"
    parts = urlsplit(uri)
    if parts.scheme not in BINHOST_SCHEMES or not parts.netloc:
        return "is not an http, https or ftp URI"
    return None


def read_binhosts(out: Collector, value: object) -> tuple[Binhost, ...] | None:
    return fields.named_tables(out, "binhosts", value, _binhost, "binhost")


def _binhost(out: Collector, path: Path, value: object) -> Binhost | None:
    table = fields.table(out, path, value)
    if table is None:
        return None
    fields.unknown_keys(out, path, table, BINHOST_KEYS)
    for key in ("name", "uri"):
        if key not in table:
            out.add((*path, key), "missing", "a binhost needs name and uri")
    name = uri = None
    if "name" in table:
        name = fields.checked_string(
            out,
            (*path, "name"),
            table["name"],
            repository_name_problem,
            "A-Z a-z 0-9 _ -, not starting with - nor ending like a version",
        )
    if "uri" in table:
        uri = fields.checked_string(
            out, (*path, "uri"), table["uri"], binhost_uri_problem, URI_HINT
        )
    priority = _priority(out, (*path, "priority"), table.get("priority", 0))
    verify = fields.boolean(out, (*path, "verify_signature"), table.get("verify_signature", False))
    if name is None or uri is None or priority is None or verify is None:
        return None
    return Binhost(name=name, uri=uri, priority=priority, verify_signature=verify)


def _priority(out: Collector, path: Path, value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    out.add(path, f"{show(value)} is not an integer", "higher priorities are preferred, e.g. 10")
    return None
