"""Package boundaries: oci/ stays free of staves, click, podman and Gentoo; the in-builder
script uses the standard library only (it runs on the builder's own Python)."""

import ast
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
OCI_ALLOWED_THIRD_PARTY = {"isal", "zstandard", "requests", "urllib3"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_oci_imports_only_stdlib_and_its_few_dependencies() -> None:
    for path in (PROJECT / "oci").rglob("*.py"):
        outside = imported_modules(path) - set(sys.stdlib_module_names) - {"oci"}
        assert outside <= OCI_ALLOWED_THIRD_PARTY, f"{path}: imports {outside}"


def test_in_builder_script_is_stdlib_only() -> None:
    scripts = list((PROJECT / "staves" / "builder").glob("*.py"))
    for path in scripts:
        outside = imported_modules(path) - set(sys.stdlib_module_names)
        assert not outside, f"{path}: imports {outside}"


def test_oci_never_mentions_gentoo() -> None:
    for path in (PROJECT / "oci").rglob("*.py"):
        text = path.read_text().lower()
        assert "portage" not in text and "gentoo" not in text, path
