"""Reading ``packages`` and the per-package tables keyed by an atom."""

import re
from collections.abc import Collection
from pathlib import Path as FsPath
from typing import Any

from staves.gentoo.atom import AtomError, parse_atom
from staves.spec import fields
from staves.spec.errors import Collector, Path, show
from staves.spec.model import PackageConfig
from staves.spec.names import KEYWORD, LICENSE, USE_FLAG, file_name_problem
from staves.spec.patches import read_patches

PACKAGE_KEYS = frozenset({"use", "env", "keywords", "license", "unmask", "mask", "patches"})
ATOM_HINT = (
    "a package atom: [OPERATOR]CATEGORY/PACKAGE[-VERSION][:SLOT[/SUBSLOT]][::REPO], "
    'e.g. "app-shells/bash", ">=dev-libs/foo-1.2:3"'
)


def is_package_key(key: str) -> bool:
    """Top-level keys with a slash are per-package tables."""
    return "/" in key


def atom_problem(text: str) -> str | None:
    """Why ``text`` is not an atom usable in Staves, if it isn't."""
    try:
        atom = parse_atom(text)
    except AtomError as error:
        return f"is not a package atom: {error}"
    if atom.blocker:
        return "is a blocker, which Staves cannot install or configure"
    if atom.use_deps:
        return "has USE dependencies; set USE flags with use = [...] in its table"
    if atom.slot_operator:
        return f"has the slot operator :{atom.slot_operator}, which only ebuilds use"
    return None


def read_package_list(out: Collector, doc: dict[str, Any]) -> tuple[str, ...] | None:
    if "packages" not in doc:
        out.add(
            ("packages",), "missing", 'list what to install, e.g. packages = ["app-shells/bash"]'
        )
        return None

    def read(path: Path, value: object) -> str | None:
        return fields.checked_string(out, path, value, atom_problem, ATOM_HINT)

    packages = fields.each(out, ("packages",), doc["packages"], "package atoms", read)
    if packages == ():
        out.add(("packages",), "is empty", "list at least one package atom")
        return None
    return packages


def read_package_table(
    out: Collector, key: str, value: object, env_names: Collection[str], base: FsPath
) -> PackageConfig | None:
    """One ``['CATEGORY/PACKAGE']`` table; ``env_names`` are the defined ``[env.NAME]``,
    ``base`` the spec's directory (its patches are read from there)."""
    path: Path = (key,)
    ok = True
    if (reason := atom_problem(key)) is not None:
        out.add(path, f"{show(key)} {reason}", "per-package tables are keyed by " + ATOM_HINT)
        ok = False
    table = fields.table(out, path, value)
    if table is None:
        return None
    fields.unknown_keys(out, path, table, PACKAGE_KEYS)
    got: dict[str, Any] = {}
    if "use" in table:
        got["use"] = fields.each(out, (*path, "use"), table["use"], "USE flags", _use_reader(out))
    if "env" in table:
        got["env"] = fields.each(
            out, (*path, "env"), table["env"], "[env.NAME] names", _env_reader(out, env_names)
        )
    if "keywords" in table:
        got["keywords"] = _non_empty_words(
            out,
            (*path, "keywords"),
            table["keywords"],
            "a keyword",
            KEYWORD,
            'keywords such as "~amd64" or "**"',
        )
    if "license" in table:
        got["license"] = _non_empty_words(
            out,
            (*path, "license"),
            table["license"],
            "a license",
            LICENSE,
            'license names or @GROUPs, e.g. "GPL-2" or "@BINARY-REDISTRIBUTABLE"',
        )
    for flag in ("unmask", "mask"):
        if flag in table:
            got[flag] = fields.boolean(out, (*path, flag), table[flag])
    if "patches" in table:
        got["patches"] = read_patches(out, (*path, "patches"), key, table["patches"], base)
    if not ok or any(item is None for item in got.values()):
        return None
    return PackageConfig(atom=key, **got)


def _use_reader(out: Collector) -> fields.Reader:
    hint = 'a USE flag such as "ssl", or "-ssl" to disable it'

    def problem(text: str) -> str | None:
        return None if USE_FLAG.fullmatch(text.removeprefix("-")) else "is not a USE flag"

    return lambda path, value: fields.checked_string(out, path, value, problem, hint)


def _env_reader(out: Collector, env_names: Collection[str]) -> fields.Reader:
    def read(path: Path, value: object) -> str | None:
        name = fields.string(out, path, value)
        if name is None or name in env_names:
            return name
        guess = fields.did_you_mean(name, env_names)
        if guess:
            hint = f"did you mean {guess!r}?"
        elif env_names:
            hint = "defined: " + ", ".join(sorted(env_names))
        else:
            hint = f"define it as a table [env.{name}]"
        if file_name_problem(name) is not None:
            hint = "name an [env.NAME] table, NAME being a plain file name"
        out.add(path, f"no [env.NAME] table named {show(name)}", hint)
        return None

    return read


def _non_empty_words(
    out: Collector, path: Path, value: object, noun: str, grammar: re.Pattern[str], hint: str
) -> tuple[str, ...] | None:
    def problem(text: str) -> str | None:
        return None if grammar.fullmatch(text) else f"is not {noun}"

    def read(item_path: Path, item: object) -> str | None:
        return fields.checked_string(out, item_path, item, problem, hint)

    words = fields.each(out, path, value, "strings", read)
    if words == ():
        out.add(path, "is empty", "list " + hint)
        return None
    return words
