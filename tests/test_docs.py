"""The documentation site, the man pages and the reference pages: built strictly, rendered
by man, made from the commands they describe, and complete."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from staves.cli import main
from staves.commands.environment import ENVIRONMENT
from staves.commands.reference import MAN_DIR, generated_files
from staves.lockfile.read import loads_lock
from staves.lockfile.toml_text import render_lock
from staves.spec import SpecErrors, loads_spec
from staves.spec.load import TOP_LEVEL_KEYS
from staves.spec.read_packages import PACKAGE_KEYS

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
SPEC_PAGE = (DOCS / "staves-toml.md").read_text(encoding="utf-8")
TOML_BLOCKS = [
    (page.relative_to(ROOT), block)
    for page in [*PAGES, ROOT / "README.md"]
    for block in re.findall(
        r"^```toml\n(.*?)^```$", page.read_text(encoding="utf-8"), flags=re.M | re.S
    )
]
# Examples of staves.lock (they start with its header) are read as locks, the rest as specs.
LOCKS = [(page, block) for page, block in TOML_BLOCKS if "\nlock-version = " in block]
BLOCKS = [(page, block) for page, block in TOML_BLOCKS if (page, block) not in LOCKS]


def test_generated_reference_is_current() -> None:
    """The CLI page, the environment table and the man pages say what the commands and
    docs/staves-toml.md say now; scripts/gen-docs rewrites them."""
    expected = generated_files(main, ROOT)
    stale = [str(p) for p, text in expected.items() if _read(ROOT / p) != text]
    extra = [
        str(p.relative_to(ROOT))
        for p in (ROOT / MAN_DIR).rglob("*.[0-9]")
        if p.relative_to(ROOT) not in expected
    ]
    assert not stale and not extra, f"run scripts/gen-docs: out of date {stale}, stale {extra}"


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    """Every page in the nav, every link and anchor found (mkdocs.yml's validation)."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "staves build" in page and "--dry-run" in page


@pytest.mark.parametrize("page", ["man1/staves-build.1", "man5/staves.toml.5"])
def test_man_renders_the_pages_without_warnings(page: str) -> None:
    assert shutil.which("man"), "man-db is missing: scripts/test installs it"
    done = subprocess.run(
        ["man", "--warnings", "-l", str(ROOT / MAN_DIR / page)],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "100", "MAN_KEEP_FORMATTING": "0", "PAGER": "cat"},
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    text = re.sub(r".\x08", "", done.stdout)
    if page.startswith("man1"):
        for words in ("NAME", "staves-build - Build the image", "SYNOPSIS", "-t, --tag NAME[:TAG]"):
            assert words in text
    else:
        for key in ("accept_license", "install_mask", "[[binhosts]]", "stop_signal"):
            assert key in text


def _environment_names_in_code() -> set[str]:
    """Every variable name the code reads: environ.get("X"), environ["X"], "X" in
    environ, and the *_VARIABLE constants and ENV_KEYS that name them."""
    names: set[str] = set()
    for path in [*(ROOT / "staves").rglob("*.py"), *(ROOT / "oci").rglob("*.py")]:
        if "builder" in path.relative_to(ROOT).parts:  # runs in the builder, on its env
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "get" and _envish(node.func.value):
                    names.update(_strings(node.args[:1]))
            elif isinstance(node, ast.Subscript) and _envish(node.value):
                names.update(_strings([node.slice]))
            elif isinstance(node, ast.Compare) and any(_envish(c) for c in node.comparators):
                names.update(_strings([node.left]))
            elif isinstance(node, ast.Assign):
                target = node.targets[0]
                if isinstance(target, ast.Name) and (
                    target.id.endswith("_VARIABLE") or target.id == "ENV_KEYS"
                ):
                    value = node.value
                    names.update(_strings(value.elts if isinstance(value, ast.Tuple) else [value]))
    return {n for n in names if re.fullmatch(r"[A-Z][A-Z0-9_]+", n)}


def _envish(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name in {"environ", "env", "environment"}


def _strings(nodes: list[ast.expr]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_every_environment_variable_read_is_documented() -> None:
    read = _environment_names_in_code()
    assert {"STAVES_LAYER_CACHE", "COSIGN_PASSWORD", "CONTAINER_HOST"} <= read  # it finds them
    documented = {variable.name for variable in ENVIRONMENT}
    assert read - documented == set()


def test_docs_have_examples() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize(("page", "block"), BLOCKS, ids=[f"{p}" for p, _ in BLOCKS])
def test_every_toml_example_parses(page: Path, block: str, tmp_path: Path) -> None:
    # The patch files an example names, beside it (a patch is read with its spec).
    for table in tomllib.loads(block).values():
        for name in table.get("patches", []) if isinstance(table, dict) else []:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n")
    loads_spec(block, str(page), tmp_path)


@pytest.mark.parametrize(("page", "block"), LOCKS, ids=[f"{p}" for p, _ in LOCKS])
def test_every_lock_example_reads_and_is_what_staves_lock_writes(page: Path, block: str) -> None:
    assert render_lock(loads_lock(block, str(page))) == block


DOCUMENTED = sorted(
    (TOP_LEVEL_KEYS - {"image", "env", "repositories", "binhosts"})
    | PACKAGE_KEYS
    | {"[env]", "[env.NAME]", "[image.env]", "[[repositories]]", "[[binhosts]]"}
)


@pytest.mark.parametrize("key", DOCUMENTED)
def test_reference_documents_every_key(key: str) -> None:
    assert f"`{key}`" in SPEC_PAGE


def test_the_reference_error_lines_are_real() -> None:
    sample = SPEC_PAGE[SPEC_PAGE.index("```text\nstaves.toml: nmae") :].split("```")[1]
    expected = [line for line in sample.splitlines()[1:] if line]
    spec = (
        'nmae = "x"\nname = "x"\npackages = ["app-shells/bash"]\n'
        '[env]\nFEATURES = "a\\nb"\n[\'app-shells/bash\']\nuse = ["+nls"]\n'
    )
    with pytest.raises(SpecErrors) as caught:
        loads_spec(spec)
    assert sorted(str(caught.value).splitlines()) == sorted(expected)
