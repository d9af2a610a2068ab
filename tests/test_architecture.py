"""Package boundaries, one rule each, every rule shown to fail on a planted module:

- oci/ stays free of staves, click, podman and Gentoo;
- the in-builder program uses the standard library only (it runs on the builder's own
  Python), and the builder's own Portage in its session module alone;
- the groups of staves/ are layers: each imports only the groups below it (``MAY_IMPORT``),
  from the command line down to the edges (Podman, Portage knowledge, the spec);
- Portage knowledge and the spec never reach a registry;
- the Podman edge is one group: only staves/podman imports the podman library;
- the command line is one group: only staves/cli.py and staves/commands import click;
- HTTP only through oci/ and the Podman edge;
- the reports are pure: they format what staves/sources read (no files, processes, network);
- the build's orchestrator (staves/build/pipeline.py) only calls its steps;
- no module is over 400 lines.
"""

import ast
import functools
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
OCI_ALLOWED_THIRD_PARTY = {"isal", "zstandard", "requests", "urllib3", "cryptography", "nacl"}
HTTP_MODULES = {"requests", "urllib3", "http"}
IO_MODULES = {"os", "pathlib", "subprocess", "shutil", "tempfile", "socket", "click", "podman"}

# The groups of staves/ each group may import, besides itself and staves.errors: what
# writes images may read them, the caches ask destinations what they hold, the build
# uses every group, and only the command line (with the dry run) sees the build.
BELOW_THE_BUILD = {
    "builder",
    "gentoo",
    "spec",
    "lockfile",
    "podman",
    "sources",
    "destinations",
    "reports",
}
MAY_IMPORT: dict[str, set[str]] = {
    "builder": set(),
    "gentoo": set(),
    "spec": {"gentoo"},
    "lockfile": {"gentoo", "spec"},  # staves.lock beside the spec, read as strictly
    "podman": {"builder"},  # the marks and file names the in-builder program shares
    "progress": {"gentoo"},  # what a command says as it runs; the steps above tell it
    "sources": {"gentoo", "podman"},
    "destinations": {"gentoo", "spec", "podman", "sources", "progress"},
    "reports": {"gentoo", "sources"},
    "caches": {"gentoo", "podman", "sources", "destinations", "progress"},
    "build": BELOW_THE_BUILD | {"caches", "progress"},
    "dryrun": {"gentoo", "spec", "caches"},
    "commands": BELOW_THE_BUILD | {"caches", "build", "dryrun", "progress"},
    "cli": {"commands"},
    "__main__": {"cli"},
    "__init__": set(),
    "errors": set(),
}
MAX_LINES = 400
# The builder's Portage, which only the session module drives (staves/builder/session.py).
BUILDER_PORTAGE = {"portage", "_emerge"}
# Pure reports: the diff, the text and the pages, from what staves/sources read.
PURE_REPORTS = ("diff", "inspect_text", "treemap", "html", "diff_html")


def imported_names(path: Path) -> frozenset[str]:
    """The dotted names of the modules ``path`` imports."""
    return names_imported_by(path.read_text())


@functools.cache
def names_imported_by(text: str) -> frozenset[str]:
    tree = ast.parse(text)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return frozenset(names)


def imported_modules(path: Path) -> set[str]:
    """Top-level modules ``path`` imports, with ``staves.GROUP`` and ``oci.registry`` kept
    whole so that the groups' rules can name them."""
    found = set()
    for name in imported_names(path):
        parts = name.split(".")
        keep_two = parts[0] == "staves" or parts[:2] == ["oci", "registry"]
        found.add(".".join(parts[:2]) if keep_two and len(parts) > 1 else parts[0])
    return found


def modules_in(root: Path, relative: str) -> list[Path]:
    found = sorted((root / relative).rglob("*.py"))
    assert found, relative
    return found


def group_of(root: Path, path: Path) -> str:
    """``staves/GROUP/...`` → GROUP; a top-level ``staves/NAME.py`` → NAME."""
    relative = path.relative_to(root / "staves").parts
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def staves_modules(root: Path, outside: tuple[str, ...] = ()) -> Iterator[tuple[str, Path]]:
    for path in sorted((root / "staves").rglob("*.py")):
        group = group_of(root, path)
        if group not in outside:
            yield group, path


def oci_imports_only_stdlib_and_its_few_dependencies(root: Path) -> list[str]:
    allowed = set(sys.stdlib_module_names) | {"oci", "oci.registry"} | OCI_ALLOWED_THIRD_PARTY
    return [
        f"{path}: imports {outside}"
        for path in modules_in(root, "oci")
        if (outside := imported_modules(path) - allowed)
    ]


def oci_never_mentions_gentoo(root: Path) -> list[str]:
    return [
        f"{path}: mentions Portage or Gentoo"
        for path in modules_in(root, "oci")
        if "portage" in path.read_text().lower() or "gentoo" in path.read_text().lower()
    ]


def builder_imports_outside_stdlib(path: Path) -> set[str]:
    outside = imported_modules(path) - set(sys.stdlib_module_names)
    return outside - BUILDER_PORTAGE if path.name == "session.py" else outside


def in_builder_program_is_stdlib_only(root: Path) -> list[str]:
    return [
        f"{path}: imports {outside}"
        for path in modules_in(root, "staves/builder")
        if (outside := builder_imports_outside_stdlib(path))
    ]


def groups_import_only_the_groups_below(root: Path) -> list[str]:
    found = []
    for group, path in staves_modules(root):
        allowed = MAY_IMPORT.get(group)
        if allowed is None:
            found.append(f"{path}: {group} is no group of MAY_IMPORT")
            continue
        used = {m.split(".")[1] for m in imported_modules(path) if m.startswith("staves.")}
        if wrong := used - allowed - {group, "errors"}:
            found.append(f"{path}: {group} imports staves.{', staves.'.join(sorted(wrong))}")
    return found


def portage_knowledge_and_spec_never_reach_a_registry(root: Path) -> list[str]:
    return [
        f"{path}: imports oci.registry"
        for group in ("gentoo", "spec", "lockfile")
        for path in modules_in(root, f"staves/{group}")
        if "oci.registry" in imported_modules(path)
    ]


def only_the_podman_group_talks_to_podman(root: Path) -> list[str]:
    return [
        f"{path}: imports the podman library"
        for _, path in staves_modules(root, outside=("podman",))
        if "podman" in imported_modules(path)
    ]


def only_the_command_line_imports_click(root: Path) -> list[str]:
    return [
        f"{path}: imports click"
        for _, path in staves_modules(root, outside=("commands", "cli"))
        if "click" in imported_modules(path)
    ]


def staves_speaks_http_only_through_oci_and_podman(root: Path) -> list[str]:
    # podman-py speaks HTTP to the service: the Podman group may name requests' errors.
    return [
        f"{path}: imports {used}"
        for _, path in staves_modules(root, outside=("podman",))
        if (used := imported_modules(path) & HTTP_MODULES)
    ]


def reports_are_pure(root: Path) -> list[str]:
    # They compare and render what staves/sources read: no files, processes or network.
    io = IO_MODULES | HTTP_MODULES | {"oci.registry", "staves.podman", "staves.commands"}
    return [
        f"{path}: imports {used}"
        for module in PURE_REPORTS
        if (used := imported_modules(path := root / "staves" / "reports" / f"{module}.py") & io)
    ]


def the_pipeline_only_calls_its_steps(root: Path) -> list[str]:
    # The list of steps: each step's module does the work; types come from the groups.
    path = root / "staves" / "build" / "pipeline.py"
    used = {m for m in imported_modules(path) if m not in sys.stdlib_module_names}
    wrong = used - {"staves.build", "staves.destinations"}
    return [f"{path}: imports {wrong}"] if wrong else []


def modules_stay_short(root: Path) -> list[str]:
    return [
        f"{path}: {lines} lines, over {MAX_LINES}"
        for top in ("oci", "staves")
        for path in modules_in(root, top)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    ]


Rule = Callable[[Path], list[str]]
RULES: dict[str, Rule] = {
    rule.__name__: rule
    for rule in (
        oci_imports_only_stdlib_and_its_few_dependencies,
        oci_never_mentions_gentoo,
        in_builder_program_is_stdlib_only,
        groups_import_only_the_groups_below,
        portage_knowledge_and_spec_never_reach_a_registry,
        only_the_podman_group_talks_to_podman,
        only_the_command_line_imports_click,
        staves_speaks_http_only_through_oci_and_podman,
        reports_are_pure,
        the_pipeline_only_calls_its_steps,
        modules_stay_short,
    )
}
# For each rule, modules that break it: (where, what it says). Each must be caught.
PLANTED: dict[str, list[tuple[str, str]]] = {
    "oci_imports_only_stdlib_and_its_few_dependencies": [
        ("oci/planted.py", "from staves.errors import StavesError\n"),
        ("oci/registry/planted.py", "import click\n"),
    ],
    "oci_never_mentions_gentoo": [("oci/planted.py", '"""Reads a Gentoo stage3."""\n')],
    "in_builder_program_is_stdlib_only": [
        ("staves/builder/planted.py", "import requests\n"),
        # Portage only in the session module; the session module nothing else.
        ("staves/builder/merge.py", "import portage\nfrom _emerge.main import emerge_main\n"),
        ("staves/builder/session.py", "import click\n"),
    ],
    "groups_import_only_the_groups_below": [
        ("staves/sources/planted.py", "from staves.destinations import outputs\n"),
        ("staves/reports/planted.py", "import staves.podman.storage\n"),
        ("staves/destinations/planted.py", "from staves.caches.build_key import BUILD_KEY\n"),
        ("staves/caches/planted.py", "from staves.build.request import BuildRequest\n"),
        ("staves/build/planted.py", "from staves.commands.build import build_command\n"),
        ("staves/podman/planted.py", "from staves.spec import load_spec\n"),
        ("staves/gentoo/planted.py", "from staves.spec.model import Spec\n"),
        ("staves/spec/planted.py", "from staves.podman import storage\n"),
        ("staves/progress/planted.py", "from staves.build.request import BuildRequest\n"),
        ("staves/podman/planted.py", "from staves.progress.reporter import current\n"),
        ("staves/planted.py", "import staves.errors\n"),
    ],
    "portage_knowledge_and_spec_never_reach_a_registry": [
        ("staves/gentoo/planted.py", "from oci.registry import push_image\n"),
        ("staves/spec/planted.py", "import oci.registry.pull\n"),
    ],
    "only_the_podman_group_talks_to_podman": [("staves/build/planted.py", "import podman\n")],
    "only_the_command_line_imports_click": [("staves/destinations/planted.py", "import click\n")],
    "staves_speaks_http_only_through_oci_and_podman": [
        ("staves/sources/planted.py", "import requests\n")
    ],
    "reports_are_pure": [("staves/reports/treemap.py", "import subprocess\n")],
    "the_pipeline_only_calls_its_steps": [
        ("staves/build/pipeline.py", "from staves.podman.storage import load_image\n"),
        ("staves/build/pipeline.py", "from oci.layout import write_layout\n"),
    ],
    "modules_stay_short": [
        ("staves/build/planted.py", "step = 1\n" * (MAX_LINES + 1)),
        ("staves/builder/planted.py", "phase = 1\n" * (MAX_LINES + 1)),
    ],
}


def test_staves_has_its_groups() -> None:
    groups = {name for name, allowed in MAY_IMPORT.items() if (PROJECT / "staves" / name).is_dir()}
    for group in groups:
        assert (PROJECT / "staves" / group / "__init__.py").is_file(), group
    assert groups == {
        "builder",
        "gentoo",
        "spec",
        "lockfile",
        "podman",
        "progress",
        "sources",
        "destinations",
        "reports",
        "caches",
        "build",
        "commands",
    }
    top_level = {path.name for path in (PROJECT / "staves").glob("*.py")}
    # Besides the groups, only the entry points, errors and the dry run.
    assert top_level == {"__init__.py", "__main__.py", "cli.py", "dryrun.py", "errors.py"}


@pytest.mark.parametrize("rule", RULES)
def test_rule_holds(rule: str) -> None:
    assert RULES[rule](PROJECT) == []


def test_every_rule_is_shown_to_fail() -> None:
    assert set(PLANTED) == set(RULES)


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's oci/ and staves/ sources (only), to plant modules into."""
    target = tmp_path_factory.mktemp("project")
    for top in ("oci", "staves"):
        shutil.copytree(PROJECT / top, target / top, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize(
    ("rule", "where", "text"),
    [(rule, where, text) for rule, plants in PLANTED.items() for where, text in plants],
    ids=[f"{rule}:{where}" for rule, plants in PLANTED.items() for where, _ in plants],
)
def test_rule_fails_on_a_planted_module(
    rule: str, where: str, text: str, project_copy: Path
) -> None:
    planted = project_copy / where
    before = planted.read_text() if planted.exists() else None
    planted.write_text(text + (before or ""))
    try:
        found = RULES[rule](project_copy)
    finally:
        if before is None:
            planted.unlink()
        else:
            planted.write_text(before)
    assert any(line.startswith(f"{planted}:") for line in found), found
    assert RULES[rule](project_copy) == []  # and nothing else broke it
