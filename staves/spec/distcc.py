"""distcc helpers: ``[distcc] hosts`` in the spec, ``--distcc HOST`` on the command line.

A helper is written as distcc's DISTCC_HOSTS takes a TCP host: ``HOST[:PORT][/LIMIT]``,
with ``,lzo`` to compress what goes over the wire; ``localhost[/LIMIT]`` is the builder
itself. SSH helpers (``@HOST``) and pump mode (``,cpp``) are refused: the builder holds no
SSH keys, and Gentoo installs no pump mode.

The builder is set up as Gentoo's handbook does it: ``FEATURES="distcc"`` (Portage puts
distcc's masquerade directory first in PATH), ``DISTCC_HOSTS``, and ``MAKEOPTS`` sized to
every job slot: twice the slots plus one. The builder's own ``--jobs`` are a last
``localhost/JOBS`` slot (unless ``localhost`` is listed): helpers get the work first, the
builder compiles what they cannot take. No ``-l`` load limit: in a container the load
average is the whole host's, other tenants' builds included.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from staves.spec import fields
from staves.spec.errors import Collector, Path, show

DISTCC_KEYS = frozenset({"hosts"})
DEFAULT_PORT = 3632
# distcc's own default limit for a TCP host, and for localhost.
DEFAULT_LIMIT = 4
LOCALHOST_LIMIT = 2
MAX_LIMIT = 1024
HOST_HINT = 'HOST[:PORT][/LIMIT][,lzo] as DISTCC_HOSTS takes a TCP host, e.g. "10.0.0.5/8"'

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_SPEC = re.compile(
    r"(?P<host>[^:/,]+)(?::(?P<port>[0-9]{1,5}))?(?:/(?P<limit>[0-9]{1,5}))?(?P<options>(?:,[a-z]+)*)"
)


@dataclass(frozen=True)
class DistccHost:
    """One entry of DISTCC_HOSTS."""

    host: str
    port: int | None = None
    limit: int | None = None
    lzo: bool = False

    @property
    def is_local(self) -> bool:
        return self.host == "localhost"

    @property
    def slots(self) -> int:
        """The jobs distcc sends there at once: the limit, else distcc's default."""
        if self.limit is not None:
            return self.limit
        return LOCALHOST_LIMIT if self.is_local else DEFAULT_LIMIT

    @property
    def address(self) -> str:
        """``HOST:PORT`` as distcc connects to it."""
        return f"{self.host}:{self.port or DEFAULT_PORT}"

    def __str__(self) -> str:
        text = self.host
        if self.port is not None:
            text += f":{self.port}"
        if self.limit is not None:
            text += f"/{self.limit}"
        return text + (",lzo" if self.lzo else "")


def host_problem(text: str) -> str | None:
    """Why ``text`` is not a distcc helper Staves takes, if it is not."""
    return _parse(text)[1]


def parse_host(text: str) -> DistccHost:
    """``text`` as a helper; ValueError saying why not (see ``HOST_HINT``)."""
    host, problem = _parse(text)
    if host is None:
        raise ValueError(problem)
    return host


def _parse(text: str) -> tuple[DistccHost | None, str | None]:
    if text.startswith("@") or "@" in text:
        return None, "is an SSH helper; Staves takes TCP helpers (distccd --daemon) only"
    if text.startswith("-"):
        return None, "is a distcc option; give helpers only"
    match = _SPEC.fullmatch(text)
    if match is None:
        return None, "is not HOST[:PORT][/LIMIT][,lzo]"
    name, port, limit = match["host"], match["port"], match["limit"]
    if not _HOST.fullmatch(name) or len(name) > 253:
        return None, f"{name!r} is not a host name or IPv4 address"
    options = [o for o in match["options"].split(",") if o]
    if "cpp" in options:
        return None, "asks for pump mode (,cpp), which Gentoo's distcc does not install"
    if any(o != "lzo" for o in options):
        return None, f"has options other than ,lzo: {','.join(options)}"
    if port is not None and not 0 < int(port) < 65536:
        return None, f"port {port} is not between 1 and 65535"
    if port is not None and name == "localhost":
        return None, "localhost is the builder itself, which needs no port"
    if limit is not None and not 0 < int(limit) <= MAX_LIMIT:
        return None, f"limit {limit} is not between 1 and {MAX_LIMIT}"
    return DistccHost(
        name, int(port) if port else None, int(limit) if limit else None, "lzo" in options
    ), None


def read_distcc(out: Collector, value: object) -> tuple[DistccHost, ...] | None:
    """The ``[distcc]`` table: ``hosts``, the helpers."""
    table = fields.table(out, ("distcc",), value)
    if table is None:
        return None
    fields.unknown_keys(out, ("distcc",), table, DISTCC_KEYS)
    if "hosts" not in table:
        out.add(("distcc", "hosts"), "missing", 'list the helpers, e.g. hosts = ["10.0.0.5/8"]')
        return None
    return read_hosts(out, ("distcc", "hosts"), table["hosts"])


def read_hosts(out: Collector, path: Path, value: object) -> tuple[DistccHost, ...] | None:
    texts = fields.array(out, path, value, "distcc helpers")
    if texts is None:
        return None
    found: list[DistccHost] = []
    for number, text in enumerate(texts):
        where = (*path, number)
        if not isinstance(text, str):
            fields.wrong_type(out, where, text, "a string")
            continue
        host, problem = _parse(text)
        if host is None:
            out.add(where, f"{show(text)} {problem}", HOST_HINT)
        elif any(h.address == host.address for h in found):
            out.add(where, f"{show(text)} is listed twice", "list each helper once")
        else:
            found.append(host)
    if len(found) != len(texts):
        return None
    if found and all(h.is_local for h in found):
        out.add(path, "names only localhost", "list at least one helper")
        return None
    return tuple(found)


def distcc_plan(hosts: Sequence[DistccHost], jobs: int) -> dict[str, Any]:
    """What the builder writes into make.conf for ``hosts`` and ``jobs`` local jobs:
    DISTCC_HOSTS (helpers first, then the builder's slots), MAKEOPTS over every slot, and
    the helpers to check before the build."""
    entries = [str(h) for h in hosts]
    local = [h for h in hosts if h.is_local]
    if not local:
        entries.append(f"localhost/{jobs}")
    slots = sum(h.slots for h in hosts if not h.is_local) + (local[0].slots if local else jobs)
    return {
        "hosts": " ".join(entries),
        "makeopts": f"-j{2 * slots + 1}",
        "helpers": [str(h) for h in hosts if not h.is_local],
    }
