"""``debug``: a debug image beside the image, from the same build.

``debug = true`` builds the image's packages with Portage's ``FEATURES=splitdebug`` (and
``-g``, so that there is debug information to split): estrip keeps each ELF file's debug
information in ``/usr/lib/debug``, keyed by build ID, and leaves a debug link in the
stripped file. ``debug = "sources"`` adds ``installsources``: the sources the debug
information names, in ``/usr/src/debug``. A ``[debug]`` table says the same with
``sources = true`` and lists ``packages`` the debug image holds besides (a shell, a
debugger).
"""

from typing import Any

from staves.spec import fields
from staves.spec.errors import Collector, show
from staves.spec.model import Debug
from staves.spec.read_packages import ATOM_HINT, atom_problem

DEBUG_KEYS = frozenset({"sources", "packages"})
DEBUG_HINT = (
    'true, "sources" (with the sources in /usr/src/debug), or a [debug] table with '
    'sources = true|false and packages = ["app-shells/bash", …]'
)
# What every package of the image root is compiled with: the flags gain -g (debug
# information to split out), Portage's FEATURES splitdebug (and installsources).
FLAG_VARIABLES = ("CFLAGS", "CXXFLAGS", "FCFLAGS", "FFLAGS")


def read_debug(out: Collector, value: object) -> Debug | None:
    """``debug = true | false | "sources"`` or a ``[debug]`` table; None: no debug image."""
    if value is False:
        return None
    if value is True:
        return Debug()
    if value == "sources":
        return Debug(sources=True)
    if isinstance(value, str):
        out.add(("debug",), f"{show(value)} is not a debug setting", DEBUG_HINT)
        return None
    table = fields.table(out, ("debug",), value)
    if table is None:
        return None
    fields.unknown_keys(out, ("debug",), table, DEBUG_KEYS)
    sources = False
    if "sources" in table:
        sources = bool(fields.boolean(out, ("debug", "sources"), table["sources"]))
    packages: tuple[str, ...] | None = ()
    if "packages" in table:

        def read(path: tuple[str | int, ...], item: object) -> str | None:
            return fields.checked_string(out, path, item, atom_problem, ATOM_HINT)

        packages = fields.each(out, ("debug", "packages"), table["packages"], "atoms", read)
    return None if packages is None else Debug(sources=sources, packages=packages)


def debug_make_conf(debug: Debug) -> str:
    """What the image root's make.conf gains, after the spec's own settings."""
    features = "splitdebug installsources" if debug.sources else "splitdebug"
    lines = ["# debug: debug information split out into /usr/lib/debug, for the debug image"]
    lines.append(f'FEATURES="${{FEATURES}} {features}"')
    lines += [f'{name}="${{{name}}} -g"' for name in FLAG_VARIABLES]
    return "\n".join(lines) + "\n"


def debug_entry(debug: Debug | None) -> dict[str, Any] | None:
    """The plan's ``debug``: whether sources are installed, the debug image's packages."""
    if debug is None:
        return None
    return {"sources": debug.sources, "packages": list(debug.packages)}
