"""The README is the front door: short, its two commands real, its links alive."""

import re
from pathlib import Path

from staves.spec import load_spec

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_is_short() -> None:
    assert len(README.splitlines()) <= 200


def test_the_two_front_door_commands_are_the_ones_ci_runs() -> None:
    """Set up and build the bundled example; run the tests (what .ci/run calls)."""
    blocks = re.findall(r"^```sh\n(.*?)^```$", README, flags=re.M | re.S)
    setup, test = blocks[0].strip(), blocks[1].strip()
    assert setup.startswith("scripts/setup && ")
    spec = re.search(r"staves build -f (\S+)", setup)
    assert spec is not None and load_spec(ROOT / spec.group(1)).image.reference == "hello:1.0"
    assert setup.endswith("podman run --rm localhost/hello:1.0")
    assert test == "scripts/test"
    assert "exec scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_links_into_the_docs_exist() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert len(local) >= 10
    for link in local:
        assert (ROOT / link).is_file(), link


def test_bundled_examples_parse() -> None:
    examples = sorted((ROOT / "examples").glob("*/staves.toml"))
    assert examples
    for path in examples:
        load_spec(path)
