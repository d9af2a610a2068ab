"""Hypothesis strategies for spec pieces that are valid by construction."""

import re
import string

from hypothesis import strategies as st

_ALNUM = string.ascii_letters + string.digits


def _word(first: str, rest: str, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, b: a + b,
        st.sampled_from(first),
        st.text(alphabet=rest, max_size=max_size),
    )


categories = _word(_ALNUM + "_", _ALNUM + "+_.-")
package_names = _word(_ALNUM + "_", _ALNUM + "+_-").filter(lambda n: not re.search(r"-[0-9]", n))
versions = st.builds(
    lambda nums, letter, suffixes, rev: ".".join(map(str, nums)) + letter + "".join(suffixes) + rev,
    st.lists(st.integers(0, 999), min_size=1, max_size=3),
    st.sampled_from(["", "a", "z"]),
    st.lists(
        st.builds(
            lambda s, n: f"_{s}{n}",
            st.sampled_from(["alpha", "beta", "pre", "rc", "p"]),
            st.sampled_from(["", "1", "20"]),
        ),
        max_size=2,
    ),
    st.sampled_from(["", "-r0", "-r12"]),
)
slots = _word(_ALNUM + "_", _ALNUM + "+_.-", 4)
repo_names = _word(_ALNUM + "_", _ALNUM + "_", 6)


@st.composite
def atoms(draw: st.DrawFn) -> str:
    """Atoms Staves accepts: no blocker, USE dependency or slot operator."""
    text = f"{draw(categories)}/{draw(package_names)}"
    operator = draw(st.sampled_from(["", "<", "<=", "=", "~", ">=", ">"]))
    if operator:
        text = f"{operator}{text}-{draw(versions)}"
        if operator == "=" and draw(st.booleans()):
            text += "*"
    if draw(st.booleans()):
        text += ":" + draw(slots)
        if draw(st.booleans()):
            text += "/" + draw(slots)
    if draw(st.booleans()):
        text += "::" + draw(repo_names)
    return text


_USE_DEPS = ["ssl", "-ssl", "ssl?", "!ssl?", "ssl=", "!ssl=", "ssl(+)", "-ssl(-)", "ssl(+)?"]


def _use_deps(forms: list[str]) -> str:
    """``[...]`` with a different flag in each form (Portage refuses conflicting ones)."""
    return "[" + ",".join(form.replace("ssl", f"f{i}") for i, form in enumerate(forms)) + "]"


_slot_deps = st.one_of(
    slots,
    st.builds(lambda a, b: f"{a}/{b}", slots, slots),
    st.builds(lambda a: a + "=", slots),
    st.sampled_from(["=", "*"]),
)
# Each part of an atom: (well formed, slightly wrong).
_PARTS: dict[str, tuple[st.SearchStrategy[str], st.SearchStrategy[str]]] = {
    "blocker": (st.sampled_from(["", "", "", "!", "!!"]), st.sampled_from(["!!!", "?", "~"])),
    "operator": (
        st.sampled_from(["<", "<=", "=", "~", ">=", ">"]),
        st.sampled_from(["", "==", "=<", "~>", "!=", "=="]),
    ),
    "category": (categories, st.text(alphabet="aZ09+_.-*é", max_size=5)),
    "slash": (st.just("/"), st.sampled_from(["", "//", "\\"])),
    "package": (package_names, st.text(alphabet="aZ09+_-.*", max_size=6)),
    "version": (
        st.builds(lambda v: "-" + v, versions),
        st.builds(lambda v: "-" + v, st.text(alphabet="0123.abrpc_-*", max_size=8)),
    ),
    "wildcard": (st.sampled_from(["", "*"]), st.sampled_from(["**", ".*", "*1"])),
    "slot": (
        st.builds(lambda s: ":" + s, _slot_deps),
        st.builds(lambda s: ":" + s, st.text(alphabet="aZ09+_.-/=*:", max_size=6)),
    ),
    "repo": (
        st.builds(lambda r: "::" + r, repo_names),
        st.builds(lambda r: "::" + r, st.text(alphabet="aZ09_-+.:", max_size=6)),
    ),
    "use": (
        st.builds(_use_deps, st.lists(st.sampled_from(_USE_DEPS), min_size=1, max_size=3)),
        st.builds(lambda u: f"[{u}]", st.text(alphabet="a-!?=(+),", max_size=6)),
    ),
}


@st.composite
def atom_candidates(draw: st.DrawFn) -> str:
    """Atoms in every form Portage knows, half with one part slightly wrong."""
    wrong = draw(st.sampled_from([None] * len(_PARTS) + list(_PARTS)))
    parts = {name: draw(_PARTS[name][name == wrong]) for name in _PARTS}
    if not draw(st.booleans()) and wrong not in ("operator", "version"):
        parts["operator"] = parts["version"] = ""  # unversioned
    if parts["operator"] != "=" and wrong != "wildcard":
        parts["wildcard"] = ""
    for optional in ("slot", "repo", "use"):
        if optional != wrong and draw(st.booleans()):
            parts[optional] = ""
    text = "".join(parts[name] for name in _PARTS)
    if text and draw(st.integers(0, 9)) == 0:  # one character dropped or doubled
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + text[at + 1 :] if draw(st.booleans()) else text[: at + 1] + text[at:]
    return text


use_flags = st.builds(
    lambda minus, flag: minus + flag,
    st.sampled_from(["", "-"]),
    _word(_ALNUM, _ALNUM + "+_@-"),
)
variable_names = _word(string.ascii_letters + "_", _ALNUM + "_")
file_names = _word(_ALNUM + "_", _ALNUM + "_+-", 8)
# Printable text rich in the characters make.conf treats specially.
make_conf_values = st.one_of(
    st.text(alphabet="$\\\"'{}aB_ ", max_size=20),
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("$\\\"' {}ab_-=#;")),
            st.characters(blacklist_categories=("Cc", "Cs")),
        ),
        max_size=30,
    ),
)


_URI_SCHEMES = {"git": ["https", "http", "git", "ssh"], "rsync": ["rsync", "ssh"]}


@st.composite
def sync_uris(draw: st.DrawFn, sync_type: str) -> str:
    """URLs a repository of ``sync_type`` (git or rsync) takes as its uri."""
    scheme = draw(st.sampled_from(_URI_SCHEMES[sync_type]))
    host = draw(_word(string.ascii_lowercase + string.digits, string.ascii_lowercase + ".-"))
    path = draw(st.text(alphabet=string.ascii_letters + "%:/._-~", max_size=20))
    return f"{scheme}://{host}/{path}"
