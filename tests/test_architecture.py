"""Package boundaries, one test per rule:

- oci/ stays free of staves, click, podman and Gentoo;
- the in-builder program uses the standard library only (it runs on the builder's own
  Python), and the builder's own Portage in its session module alone;
- Portage knowledge (staves/gentoo) and the spec stay free of Podman, HTTP and the CLI;
- the Podman edge is one group: only staves/podman imports the podman library;
- the command line is one group: only staves/cli.py and staves/commands import click.
"""

import ast
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
STAVES = PROJECT / "staves"
OCI_ALLOWED_THIRD_PARTY = {"isal", "zstandard", "requests", "urllib3", "cryptography", "nacl"}
HTTP_MODULES = {"requests", "urllib3", "http"}
GROUPS = ("podman", "gentoo", "images", "spec", "commands", "builder")


def imported_names(path: Path) -> set[str]:
    """The dotted names of the modules ``path`` imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def imported_modules(path: Path) -> set[str]:
    """Top-level modules ``path`` imports, with ``staves.GROUP`` and ``oci.registry`` kept
    whole so that the groups' rules can name them."""
    found = set()
    for name in imported_names(path):
        parts = name.split(".")
        keep_two = parts[0] == "staves" or parts[:2] == ["oci", "registry"]
        found.add(".".join(parts[:2]) if keep_two and len(parts) > 1 else parts[0])
    return found


def modules_in(relative: str) -> list[Path]:
    found = sorted((PROJECT / relative).rglob("*.py"))
    assert found, relative
    return found


def staves_modules_outside(*groups: str) -> list[Path]:
    inside = {STAVES / group for group in groups}
    return [
        path
        for path in sorted(STAVES.rglob("*.py"))
        if not any(parent in inside for parent in path.parents)
    ]


def test_staves_has_its_groups() -> None:
    for group in GROUPS:
        assert (STAVES / group / "__init__.py").is_file(), group
    top_level = {path.name for path in STAVES.glob("*.py")}
    # Besides the groups, only the entry points, the build's step list, errors and the dry run.
    assert top_level == {
        "__init__.py",
        "__main__.py",
        "build.py",
        "cli.py",
        "dryrun.py",
        "errors.py",
    }


def test_oci_imports_only_stdlib_and_its_few_dependencies() -> None:
    for path in modules_in("oci"):
        outside = imported_modules(path) - set(sys.stdlib_module_names) - {"oci", "oci.registry"}
        assert outside <= OCI_ALLOWED_THIRD_PARTY, f"{path}: imports {outside}"


# The builder's Portage, which only the session module drives (staves/builder/session.py).
BUILDER_PORTAGE = {"portage", "_emerge"}


def builder_imports_outside_stdlib(path: Path) -> set[str]:
    outside = imported_modules(path) - set(sys.stdlib_module_names)
    return outside - BUILDER_PORTAGE if path.name == "session.py" else outside


def test_in_builder_program_is_stdlib_only() -> None:
    for path in modules_in("staves/builder"):
        outside = builder_imports_outside_stdlib(path)
        assert not outside, f"{path}: imports {outside}"


def test_only_the_builders_session_imports_portage(tmp_path: Path) -> None:
    planted = tmp_path / "merge.py"
    planted.write_text("import portage\nfrom _emerge.main import emerge_main\n")
    assert builder_imports_outside_stdlib(planted) == BUILDER_PORTAGE
    session = tmp_path / "session.py"
    session.write_text("import portage\nimport click\n")
    assert builder_imports_outside_stdlib(session) == {"click"}


def test_oci_never_mentions_gentoo() -> None:
    for path in modules_in("oci"):
        text = path.read_text().lower()
        assert "portage" not in text and "gentoo" not in text, path


@pytest.mark.parametrize("group", ["staves/gentoo", "staves/spec"])
def test_portage_knowledge_and_spec_are_free_of_podman_http_and_cli(group: str) -> None:
    forbidden = {"podman", "click", *HTTP_MODULES, "oci.registry"}
    forbidden |= {f"staves.{name}" for name in ("podman", "images", "commands", "cli", "build")}
    for path in modules_in(group):
        used = imported_modules(path) & forbidden
        assert not used, f"{path}: imports {used}"


def test_only_the_podman_group_talks_to_podman() -> None:
    for path in staves_modules_outside("podman"):
        assert "podman" not in imported_modules(path), f"{path}: imports the podman library"


def test_only_the_command_line_imports_click() -> None:
    for path in staves_modules_outside("commands"):
        if path.name == "cli.py" and path.parent == STAVES:
            continue
        assert "click" not in imported_modules(path), f"{path}: imports click"


def test_staves_speaks_http_only_through_oci_and_podman() -> None:
    # podman-py speaks HTTP to the service: the Podman group may name requests' errors.
    for path in staves_modules_outside("podman"):
        used = imported_modules(path) & HTTP_MODULES
        assert not used, f"{path}: imports {used}"


@pytest.mark.parametrize("module", ["diff", "html"])
def test_the_diff_and_the_page_are_pure(module: str) -> None:
    # They compare and render what staves/images/listing read: no files, processes or network.
    io = {"os", "pathlib", "subprocess", "shutil", "tempfile", "socket", "click", "podman"}
    io |= HTTP_MODULES | {"oci.registry", "staves.podman", "staves.commands"}
    used = imported_modules(STAVES / "images" / f"{module}.py") & io
    assert not used, f"staves/images/{module}.py: imports {used}"
