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
        version = draw(versions)
        if operator == "~":
            version = version.split("-r")[0]
        text = f"{operator}{text}-{version}"
        if operator == "=" and draw(st.booleans()):
            text += "*"
    if draw(st.booleans()):
        text += ":" + draw(slots)
        if draw(st.booleans()):
            text += "/" + draw(slots)
    if draw(st.booleans()):
        text += "::" + draw(repo_names)
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
