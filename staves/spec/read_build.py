"""Reading the build half of a spec: make.conf, named envs, repositories, misc."""

from typing import Any, get_args

from oci.descriptor import Platform
from staves.gentoo.cpu_levels import PlatformProblem, parse_build_platforms
from staves.gentoo.layering import MAX_LAYERS
from staves.spec import fields
from staves.spec.errors import Collector, Path, show
from staves.spec.makeconf import Unwritable, quote
from staves.spec.model import Locale, NamedEnv, Pairs, Repository, Vdb
from staves.spec.names import (
    CHARSET,
    LICENSE,
    LOCALE,
    VARIABLE,
    VARIABLE_HINT,
    file_name_problem,
    repository_name_problem,
)
from staves.spec.sync_uris import accepted, sync_uri_problem

SYNC_TYPES = frozenset({"cvs", "git", "mercurial", "rsync", "svn", "webrsync", "zipfile"})
REPOSITORY_KEYS = frozenset({"name", "type", "uri", "credentials"})
REQUIRED_REPOSITORY_KEYS = frozenset({"name", "type", "uri"})
CREDENTIAL_KINDS = ("netrc", "ssh")
CREDENTIALS_HINT = (
    'what syncing it needs from you: "ssh" (your SSH agent), "netrc" (~/.netrc), or both'
)
LOCALE_KEYS = frozenset({"name", "charset"})
VDB_MODES: tuple[str, ...] = get_args(Vdb)
VALUE_HINT = "any single-line text; ${NAME} and $NAME refer to other variables, \\$ is a literal $"


def read_env(out: Collector, value: object) -> tuple[Pairs, tuple[NamedEnv, ...]] | None:
    """``[env]``: its string keys are make.conf variables, its tables named envs."""
    env = fields.table(out, ("env",), value)
    if env is None:
        return None
    plain = {key: item for key, item in env.items() if not isinstance(item, dict)}
    make_conf = _variables(out, ("env",), plain)
    named: list[NamedEnv] = []
    for name, item in env.items():
        if not isinstance(item, dict):
            continue
        path = ("env", name)
        if (reason := file_name_problem(name)) is not None:
            out.add(path, f"env name {show(name)} {reason}", "a file name of A-Z a-z 0-9 _ . + -")
            continue
        variables = _variables(out, path, item)
        if variables is not None:
            named.append(NamedEnv(name=name, variables=variables))
    if make_conf is None:
        return None
    return make_conf, tuple(named)


def env_names(doc: dict[str, Any]) -> frozenset[str]:
    """Names of the ``[env.NAME]`` tables, for checking references before reading."""
    env = doc.get("env")
    if not isinstance(env, dict):
        return frozenset()
    return frozenset(key for key, item in env.items() if isinstance(item, dict))


def _variables(out: Collector, path: Path, table: dict[str, Any]) -> Pairs | None:
    result: list[tuple[str, str]] = []
    ok = True
    for key, item in table.items():
        item_path = (*path, key)
        if not VARIABLE.fullmatch(key):
            out.add(item_path, "is not a variable name", VARIABLE_HINT)
            ok = False
            continue
        text = fields.string(out, item_path, item, "a string (or a table for [env.NAME])")
        if text is None:
            ok = False
            continue
        try:
            quote(text)
        except Unwritable as error:
            out.add(item_path, f"cannot be written to make.conf: {error}", VALUE_HINT)
            ok = False
            continue
        result.append((key, text))
    return tuple(result) if ok else None


def read_repositories(out: Collector, value: object) -> tuple[Repository, ...] | None:
    return fields.named_tables(out, "repositories", value, _repository, "repository")


def _repository(out: Collector, path: Path, value: object) -> Repository | None:
    table = fields.table(out, path, value)
    if table is None:
        return None
    fields.unknown_keys(out, path, table, REPOSITORY_KEYS)
    for key in sorted(REQUIRED_REPOSITORY_KEYS - table.keys()):
        out.add((*path, key), "missing", "a repository needs name, type and uri")
    name = type_ = uri = None
    if "name" in table:
        name = fields.checked_string(
            out,
            (*path, "name"),
            table["name"],
            repository_name_problem,
            "A-Z a-z 0-9 _ -, not starting with - nor ending like a version",
        )
    if "type" in table:
        type_ = _sync_type(out, (*path, "type"), table["type"])
    if "uri" in table:
        kind = type_ or ""

        def problem(text: str) -> str | None:
            return _uri_problem(text) or (sync_uri_problem(kind, text) if type_ else None)

        uri = fields.checked_string(out, (*path, "uri"), table["uri"], problem, accepted(kind))
    credentials = _credentials(out, (*path, "credentials"), table.get("credentials", []))
    if name is None or type_ is None or uri is None or credentials is None:
        return None
    return Repository(name=name, type=type_, uri=uri, credentials=credentials)


def _credentials(out: Collector, path: Path, value: object) -> tuple[str, ...] | None:
    def read(item_path: Path, item: object) -> str | None:
        text = fields.string(out, item_path, item)
        if text is None or text in CREDENTIAL_KINDS:
            return text
        out.add(item_path, f"{show(text)} is not a kind of credentials", CREDENTIALS_HINT)
        return None

    kinds = fields.each(out, path, value, "credential kinds", read)
    return None if kinds is None else tuple(sorted(kinds))


def _sync_type(out: Collector, path: Path, value: object) -> str | None:
    text = fields.string(out, path, value)
    if text is None or text in SYNC_TYPES:
        return text
    guess = fields.did_you_mean(text, SYNC_TYPES)
    accepted = "one of " + ", ".join(sorted(SYNC_TYPES))
    out.add(
        path,
        f"{show(text)} is not a sync type",
        f"did you mean {guess!r}? {accepted}" if guess else accepted,
    )
    return None


def _uri_problem(uri: str) -> str | None:
    if not uri:
        return "is empty"
    if any(c.isspace() or not c.isprintable() for c in uri):
        return "contains whitespace or control characters"
    if any(c in uri for c in "\"'\\"):
        return "contains a quote or backslash"
    return None


def read_locale(out: Collector, value: object) -> Locale | None:
    table = fields.table(out, ("locale",), value)
    if table is None:
        return None
    fields.unknown_keys(out, ("locale",), table, LOCALE_KEYS)
    if "name" not in table:
        out.add(("locale", "name"), "missing", 'e.g. locale = { name = "en_US.UTF-8" }')
        return None
    hint = 'a glibc locale such as "en_US.UTF-8" or "de_DE@euro"'

    def locale_problem(text: str) -> str | None:
        return None if LOCALE.fullmatch(text) else "is not a locale name"

    name = fields.checked_string(out, ("locale", "name"), table["name"], locale_problem, hint)
    if name is None:
        return None
    if "charset" not in table:
        if "." not in name:
            out.add(("locale", "charset"), "missing", f"{name!r} names no charset: add charset")
            return None
        return Locale(name=name, charset=name.split(".", 1)[1].split("@", 1)[0])

    def charset_problem(text: str) -> str | None:
        return None if CHARSET.fullmatch(text) else "is not a charset name"

    charset = fields.checked_string(
        out,
        ("locale", "charset"),
        table["charset"],
        charset_problem,
        'a charset such as "UTF-8" or "ISO-8859-1"',
    )
    return None if charset is None else Locale(name=name, charset=charset)


INSTALL_MASK_HINT = (
    'an absolute path or file pattern such as "/usr/share/locale" or "*.pc", '
    'or "-/usr/include" to keep what Staves leaves out'
)


def _install_mask_problem(text: str) -> str | None:
    pattern = text.removeprefix("-")
    if not pattern or any(c.isspace() or not c.isprintable() for c in pattern):
        return "is empty or contains whitespace or control characters"
    if "/" in pattern and not pattern.startswith("/"):
        return "is a relative path"
    if any(c in pattern for c in "\"'\\$`"):
        return "contains a quote, backslash, $ or `"
    return None


def read_install_mask(out: Collector, value: object) -> tuple[str, ...] | None:
    """``install_mask``: INSTALL_MASK patterns after Staves' own, for the image root."""

    def read(path: Path, item: object) -> str | None:
        return fields.checked_string(out, path, item, _install_mask_problem, INSTALL_MASK_HINT)

    return fields.each(out, ("install_mask",), value, "INSTALL_MASK patterns", read)


def read_layers(out: Collector, value: object) -> int | None:
    accepted = f"a whole number of layers from 1 to {MAX_LAYERS}"
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_LAYERS:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        problem = "is less than 1" if value < 1 else "is over the limit"
        out.add(("layers",), f"{show(value)} {problem}", accepted)
        return None
    fields.wrong_type(out, ("layers",), value, f"an integer from 1 to {MAX_LAYERS}")
    return None


def read_vdb(out: Collector, value: object) -> Vdb | None:
    text = fields.string(out, ("vdb",), value)
    if text is None:
        return None
    modes: dict[str, Vdb] = {mode: mode for mode in ("trim", "none", "full")}
    if text in modes:
        return modes[text]
    out.add(("vdb",), f"{show(text)} is not a vdb mode", "one of " + ", ".join(VDB_MODES))
    return None


ACCEPT_LICENSE_HINT = (
    'ACCEPT_LICENSE tokens: a license ("MIT"), a group ("@FREE"), "*" for all, '
    'each with "-" to refuse it ("-GPL-3", "-@BINARY-REDISTRIBUTABLE", "-*")'
)


def read_accept_license(out: Collector, value: object) -> tuple[str, ...] | None:
    """``accept_license``: ACCEPT_LICENSE tokens for the image root, after the profile's."""

    def problem(text: str) -> str | None:
        return None if LICENSE.fullmatch(text) else "is not a license, @GROUP or *"

    def read(path: Path, item: object) -> str | None:
        return fields.checked_string(out, path, item, problem, ACCEPT_LICENSE_HINT)

    tokens = fields.each(out, ("accept_license",), value, "ACCEPT_LICENSE tokens", read)
    if tokens == ():
        out.add(("accept_license",), "is empty", ACCEPT_LICENSE_HINT)
        return None
    return tokens


def read_platforms(out: Collector, value: object) -> tuple[Platform, ...] | None:
    """``platforms``: the platforms to build, one image each in one index."""
    texts = fields.array(out, ("platforms",), value, "platforms")
    if texts is None:
        return None
    if not all(isinstance(text, str) for text in texts):
        out.add(("platforms",), "holds a non-string", 'strings such as "linux/arm64"')
        return None
    try:
        return parse_build_platforms(texts)
    except PlatformProblem as exc:
        out.add(("platforms",), str(exc), exc.accepted)
        return None
