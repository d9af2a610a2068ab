"""Limits on spec text: depth, key parts, size, mistakes; values quoted in messages."""

import tomllib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from staves.errors import EXIT_USAGE, StavesError
from staves.spec import SpecErrors, loads_spec
from staves.spec.errors import MAX_ERRORS, show
from staves.spec.nesting import MAX_KEY_PARTS, MAX_NESTING, nesting_problem
from tests.spec_text import BASE
from tests.toml_writer import dumps


def refusal(text: str) -> str | None:
    """The spec error for ``BASE + text``, or None if the spec is accepted."""
    try:
        loads_spec(BASE + text)
    except StavesError as error:
        assert error.exit_code == EXIT_USAGE
        return str(error)
    return None


@pytest.mark.parametrize(
    ("opening", "closing"), [("[", "]"), ("{a = ", "}")], ids=["arrays", "inline tables"]
)
def test_nesting_up_to_the_limit_is_read(opening: str, closing: str) -> None:
    def value(depth: int) -> str:
        inner = "1" if opening == "{a = " else ""
        return opening * depth + inner + closing * depth

    assert "nest" not in (refusal(f"labels = {{ x = {value(MAX_NESTING - 1)} }}\n") or "")
    assert f"line 3: arrays and inline tables nest over {MAX_NESTING} deep" in (
        refusal(f"labels = {{ x = {value(MAX_NESTING)} }}\n") or ""
    )


def test_key_parts_up_to_the_limit_are_read() -> None:
    def key(parts: int) -> str:
        return "image." + ".".join(["a"] * (parts - 1))

    assert "dotted" not in (refusal(f"{key(MAX_KEY_PARTS)} = 1\n") or "")
    assert "dotted" in (refusal(f"{key(MAX_KEY_PARTS + 1)} = 1\n") or "")
    assert "dotted" in (refusal(f"[{key(MAX_KEY_PARTS + 1)}]\n") or "")


# Brackets, dots and comment signs inside strings and comments are no nesting.
@pytest.mark.parametrize(
    "text",
    [
        'x = "[[[[{{{{ a.b.c.d # ]"\n',
        "x = '[[[[{{{{'\n",
        'x = """\n[[[[\n"[[[["\n"""\n',
        'x = """a\\"""[[[[""""\n',
        "x = '''\n[[[[ '' '''\n",
        "x = '''[[[['''''\n",
        "# [[[[{{{{ a.b.c.d.e\n",
        'x = ["a.b.c", 1.5, 1979-05-27T07:32:00.999Z]\n',
    ],
)
def test_strings_and_comments_do_not_nest(text: str) -> None:
    deep = text.replace("[[[[", "[" * 100).replace("a.b.c", ".".join(["a"] * 100))
    assert nesting_problem(deep) is None


# Strings written every way TOML allows, full of the characters the scan looks at.
_special = st.text(alphabet="[]{}.#=,'\"\\\n ab", max_size=30)


def _as_toml_string(text: str, style: int) -> str | None:
    if style == 1 and "'" not in text and "\n" not in text:
        return f"'{text}'"
    if style == 2 and "'''" not in text and not text.endswith("'"):
        return f"'''{text}'''"
    if style == 3:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"""{escaped}"""'
    return None


@given(st.lists(st.tuples(_special, st.integers(0, 3)), max_size=6))
def test_valid_toml_within_the_limits_is_never_refused(values: list[tuple[str, int]]) -> None:
    lines = []
    for index, (text, style) in enumerate(values):
        written = _as_toml_string(text, style) or dumps({"v": text}).split(" = ", 1)[1].strip()
        lines.append(f"k{index} = [{{ a = {written} }}] # {text.splitlines()[0] if text else ''}")
    document = "\n".join(lines) + "\n"
    tomllib.loads(document)  # valid indeed
    assert nesting_problem(document) is None


_junk = st.lists(st.sampled_from([*"[]{}.=,'\"#\\\n ax1", '"""', "'''"])).map("".join)


_deep_junk = st.builds(lambda a, n, b: a + "[" * n + b, _junk, st.integers(0, 3000), _junk)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_junk, _deep_junk))
@example("a = " + "[" * 5000)
@example("a = " + "{b = " * 5000)
@example('a = """' + "[" * 5000)
def test_junk_ends_in_a_spec_error(text: str) -> None:
    try:
        loads_spec(text)
    except StavesError as error:
        assert error.exit_code == EXIT_USAGE
        assert len(str(error).splitlines()) <= MAX_ERRORS + 1


def test_reading_stops_after_the_tenth_mistake() -> None:
    with pytest.raises(SpecErrors) as caught:
        loads_spec('name = "x"\npackages = [' + '"bad", ' * 1000 + "]\n")
    assert len(caught.value.errors) == MAX_ERRORS
    assert str(caught.value).splitlines()[-1] == (
        f"staves.toml: stopped after {MAX_ERRORS} mistakes; fix these first"
    )


def test_size_limit() -> None:
    with pytest.raises(StavesError, match="is larger than 1 MiB"):
        loads_spec(BASE + "#" * (1 << 20))


def test_show_walks_no_further_than_it_quotes() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert show(deep) == "[" * 59 + "…"
    assert show({"k": "v" * 10_000_000}) == '{"k": "' + "v" * 52 + "…"
    assert show(2**100_000).startswith("0x1000")


def test_long_keys_and_values_are_cut_in_messages() -> None:
    message = refusal(f'"{"k" * 100_000}" = 1\n["{"a/b" + "c" * 100_000}"]\nuse = ["-"]\n') or ""
    assert message.startswith("staves.toml: ['kkk")
    assert max(len(line) for line in message.splitlines()) < 600
