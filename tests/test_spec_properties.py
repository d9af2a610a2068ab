"""Property tests: generated specs parse and render back; junk never crashes."""

import configparser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staves.errors import EXIT_USAGE, StavesError
from staves.spec import SpecErrors, loads_spec, parse_spec, render_portage
from staves.spec.makeconf import Unwritable, quote
from staves.spec.render import HEADER
from tests.makeconf_reader import expected_reading, read_make_conf
from tests.portage_support import portage_getconfig, requires_portage
from tests.strategies import (
    atoms,
    file_names,
    make_conf_values,
    repo_names,
    sync_uris,
    use_flags,
    variable_names,
)
from tests.toml_writer import dumps

writable_values = make_conf_values.filter(lambda v: _writable(v))


def _writable(value: str) -> bool:
    try:
        quote(value)
    except Unwritable:
        return False
    return True


def _variables() -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(variable_names, writable_values, max_size=4)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec document as tomllib would give it."""
    doc: dict[str, Any] = {
        "name": draw(st.sampled_from(["hello", "ghcr.io/me/x", "localhost:5000/a_b/c"])),
        "packages": draw(st.lists(atoms(), min_size=1, max_size=3, unique=True)),
    }
    env: dict[str, Any] = dict(draw(_variables()))
    named = draw(st.dictionaries(file_names, _variables(), max_size=2))
    for name in list(named):
        if name in env:
            del named[name]
    env.update(named)
    if env:
        doc["env"] = env
    for atom in draw(st.lists(atoms(), max_size=3, unique=True)):
        table: dict[str, Any] = {}
        if draw(st.booleans()):
            table["use"] = draw(st.lists(use_flags, min_size=0, max_size=3, unique=True))
        if named and draw(st.booleans()):
            table["env"] = draw(st.lists(st.sampled_from(sorted(named)), min_size=1, unique=True))
        if draw(st.booleans()):
            table["keywords"] = draw(
                st.lists(st.sampled_from(["~amd64", "amd64", "**", "~*"]), min_size=1, unique=True)
            )
        if draw(st.booleans()):
            table["license"] = draw(
                st.lists(st.sampled_from(["GPL-2", "@FREE", "-*", "MIT"]), min_size=1, unique=True)
            )
        if draw(st.booleans()):
            table["unmask"] = draw(st.booleans())
        if draw(st.booleans()):
            table["mask"] = draw(st.booleans())
        doc[atom] = table
    repos = draw(st.lists(repo_names, max_size=2, unique=True))
    if repos:
        doc["repositories"] = []
        for name in repos:
            kind = draw(st.sampled_from(["git", "rsync"]))
            doc["repositories"].append({"name": name, "type": kind, "uri": draw(sync_uris(kind))})
    return doc


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line and not line.startswith("#")]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(documents())
def test_generated_specs_render_back_to_the_same_values(doc: dict[str, Any]) -> None:
    spec = loads_spec(dumps(doc))
    portage = render_portage(spec)
    files = portage.files
    assert all(text.startswith(HEADER) for text in files.values())
    tables = {key: value for key, value in doc.items() if "/" in key}

    expected_use = [[atom, *t["use"]] for atom, t in tables.items() if t.get("use")]
    assert _lines(files.get("/etc/portage/package.use/staves", "")) == expected_use
    for name, attribute in [
        ("env", "env"),
        ("accept_keywords", "keywords"),
        ("license", "license"),
    ]:
        expected = [[atom, *t[attribute]] for atom, t in tables.items() if t.get(attribute)]
        assert _lines(files.get(f"/etc/portage/package.{name}/staves", "")) == expected
    for flag in ("mask", "unmask"):
        expected = [[atom] for atom, t in tables.items() if t.get(flag)]
        assert _lines(files.get(f"/etc/portage/package.{flag}/staves", "")) == expected

    env = doc.get("env", {})
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    named = {k: v for k, v in env.items() if isinstance(v, dict)}
    unexpanded = {name: "${" + name + "}" for name in _all_names(env)}
    if plain:
        appended = portage.append["/etc/portage/make.conf"]
        assert read_make_conf(appended, unexpanded) == _expand_all(plain)
    for name, variables in named.items():
        got = read_make_conf(files[f"/etc/portage/env/{name}"], unexpanded)
        assert got == _expand_all(variables)

    for repo in doc.get("repositories", []):
        parser = configparser.ConfigParser()
        parser.read_string(files[f"/etc/portage/repos.conf/{repo['name']}"])
        section = parser[repo["name"]]
        assert (section["sync-type"], section["sync-uri"]) == (repo["type"], repo["uri"])


@requires_portage
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.dictionaries(variable_names, writable_values, min_size=1, max_size=4))
def test_make_conf_append_reads_back_with_portage(variables: dict[str, str]) -> None:
    spec = loads_spec(dumps({"name": "x", "packages": ["a/b"], "env": variables}))
    text = render_portage(spec).append["/etc/portage/make.conf"]
    known = {name: f"<{name}>" for name in _all_names(variables)}
    assert portage_getconfig(text, known) == _expand_all(variables, known)


def _all_names(env: dict[str, Any]) -> set[str]:
    from staves.spec.makeconf import references

    names: set[str] = set()
    for value in env.values():
        if isinstance(value, dict):
            names |= _all_names(value)
        else:
            names |= set(references(value))
    return names


def _expand_all(variables: dict[str, str], known: dict[str, str] | None = None) -> dict[str, str]:
    """What make.conf gives: each value with references to earlier ones expanded."""
    seen = dict(known or {})
    result = {}
    for name, value in variables.items():
        result[name] = seen[name] = expected_reading(value, seen)
    return result


def _assert_spec_error(error: StavesError) -> None:
    assert error.exit_code == EXIT_USAGE
    lines = str(error).splitlines()
    assert lines
    for line in lines:
        assert line.isprintable()
        assert "; " in line


@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_the_spec_error(data: bytes) -> None:
    try:
        loads_spec(data)
    except StavesError as error:
        _assert_spec_error(error)


toml_values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=10),
        st.sampled_from(["a/b", "=a/b-1", "app-misc/hello", "git", "x", "${X}", "-nls", "/p"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(["use", "env", "name", "type", "uri", "charset", "a/b"]),
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
top_keys = st.one_of(
    st.sampled_from(
        [
            "name",
            "version",
            "packages",
            "command",
            "cmd",
            "user",
            "workdir",
            "ports",
            "volumes",
            "labels",
            "annotations",
            "stop_signal",
            "locale",
            "stdlib",
            "layers",
            "vdb",
            "env",
            "image",
            "repositories",
            "app-misc/hello",
            "=a/b-1",
            "nmae",
        ]
    ),
    st.text(max_size=8),
)


@given(st.dictionaries(top_keys, toml_values, max_size=8))
def test_random_documents_parse_or_raise_the_spec_error(doc: dict[str, Any]) -> None:
    try:
        parse_spec(doc)
    except SpecErrors as error:
        _assert_spec_error(error)
        assert all(e.file == "staves.toml" for e in error.errors)


@given(st.dictionaries(top_keys, toml_values, max_size=8))
def test_random_documents_through_toml_text(doc: dict[str, Any]) -> None:
    try:
        loads_spec(dumps(doc))
    except StavesError as error:
        _assert_spec_error(error)
