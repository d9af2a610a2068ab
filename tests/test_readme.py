"""Every TOML example in the README is a valid spec."""

import re
from pathlib import Path

import pytest

from staves.spec import SpecErrors, load_spec, loads_spec
from staves.spec.load import TOP_LEVEL_KEYS
from staves.spec.read_packages import PACKAGE_KEYS

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```toml\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)
REFERENCE = README[README.index("## staves.toml reference") :]


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("block", BLOCKS)
def test_readme_example_parses(block: str) -> None:
    loads_spec(block, "README.md")


DOCUMENTED = sorted(
    (TOP_LEVEL_KEYS - {"image", "env", "repositories", "binhosts"})
    | PACKAGE_KEYS
    | {"[env]", "[env.NAME]", "[image.env]", "[[repositories]]", "[[binhosts]]"}
)


@pytest.mark.parametrize("key", DOCUMENTED)
def test_reference_documents_every_key(key: str) -> None:
    assert f"`{key}`" in REFERENCE


def test_bundled_examples_parse() -> None:
    examples = sorted((ROOT / "examples").glob("*/staves.toml"))
    assert examples
    for path in examples:
        load_spec(path)


def test_readme_error_lines_are_real() -> None:
    sample = README[README.index("```text\nstaves.toml: nmae") :].split("```")[1]
    expected = [line for line in sample.splitlines()[1:] if line]
    spec = (
        'nmae = "x"\nname = "x"\npackages = ["app-shells/bash"]\n'
        '[env]\nFEATURES = "a\\nb"\n[\'app-shells/bash\']\nuse = ["+nls"]\n'
    )
    with pytest.raises(SpecErrors) as caught:
        loads_spec(spec)
    assert sorted(str(caught.value).splitlines()) == sorted(expected)
