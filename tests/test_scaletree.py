"""The generated tree scripts/bench-scale builds against (scripts/scaletree.py): the same
for the same seed, shaped like Gentoo's, images of the sizes asked for, and an md5-cache
that Portage's own egencache writes byte for byte the same."""

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import PROJECT
from tests.portage_support import requires_portage


def _load_scaletree() -> ModuleType:
    path = PROJECT / "scripts" / "scaletree.py"
    spec = importlib.util.spec_from_file_location("scaletree", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scaletree"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


scaletree = _load_scaletree()
COUNT = 3000  # enough for every shape (virtuals come after the first 200 packages)


@pytest.fixture(scope="module")
def tree() -> object:
    return scaletree.generate(COUNT, 26)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_same_seed_writes_the_same_tree_and_another_seed_another(tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        scaletree.write(scaletree.generate(300, seed), tmp_path / name)
    first = files(tmp_path / "a")
    assert first == files(tmp_path / "b")
    assert first != files(tmp_path / "c")
    assert sum(name.endswith(".ebuild") for name in first) > 300


def dependencies(package: object) -> Iterator[object]:
    for dep in [*package.depend, *package.rdepend]:
        yield dep
        if isinstance(dep, scaletree.If):
            yield dep.dep


def test_the_tree_has_the_shapes_of_gentoos(tree: object) -> None:
    packages = list(tree.packages.values())
    libraries = [p for p in packages if p.kind == "lib"]
    # Libraries change subslot with each version; consumers depend on it with ":=".
    assert all(v.slot.startswith("0/") for p in libraries for v in p.versions)
    assert any(len({v.slot for v in p.versions}) > 1 for p in libraries)
    slot_deps = [
        dep
        for p in packages
        for dep in dependencies(p)
        if isinstance(dep, scaletree.Atom) and dep.slot_op
    ]
    assert slot_deps and all(tree.packages[d.cp].kind == "lib" for d in slot_deps)
    # Virtuals with several providers; any-of, USE-conditional, >= and blocker atoms.
    virtuals = [p for p in packages if p.kind == "virtual"]
    assert virtuals and all(
        isinstance(p.rdepend[0], scaletree.AnyOf) and len(p.rdepend[0].atoms) >= 2 for p in virtuals
    )
    every = [dep for p in packages for dep in dependencies(p)]
    assert any(isinstance(d, scaletree.AnyOf) for p in packages if p.kind != "virtual"
               for d in dependencies(p))  # fmt: skip
    assert any(isinstance(d, scaletree.If) for d in every)
    ops = {d.op for d in every if isinstance(d, scaletree.Atom)}
    assert {">=", "!<"} <= ops
    # PDEPEND on a plugin that needs its program back; build tools in BDEPEND.
    plugins = [tree.packages[a.cp] for p in packages for a in p.pdepend]
    assert plugins and all(p.kind == "plugin" for p in plugins)
    assert any(p.bdepend for p in packages)
    # Versions in testing and masked ones, which emerge passes over; profile USE.
    versions = [v for p in packages for v in p.versions]
    assert any(not v.stable for v in versions) and any(v.masked for v in versions)
    assert all(p.best().stable and not p.best().masked for p in packages)
    assert tree.package_use


def test_an_image_holds_the_number_of_packages_asked_for(tree: object) -> None:
    for size in (10, 30, 60):
        changed, packages = scaletree.pick_image(tree, size, 26)
        assert len(tree.closure(packages)) == size
        assert set(scaletree.BASE) <= tree.closure(packages)
        program = tree.packages[changed]
        # Compiled alone for comparison: a program that links nothing, with the flag.
        assert changed in packages and program.kind == "app"
        assert not program.depend and not program.bdepend
        assert scaletree.CHANGE_FLAG in program.iuse


@requires_portage
def test_md5_cache_entries_are_what_egencache_writes(tree: object, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    scaletree.write(tree, repo)
    generated = repo / "metadata" / "md5-cache"  # where egencache writes
    written = tmp_path / "written"  # what scaletree wrote there
    shutil.move(generated, written)
    # One package of every shape: a virtual, a library linking another only with a USE
    # flag, a program with a plugin in PDEPEND and its plugin, a build tool, a package
    # with a masked version, and ones with blockers, >= and any-of atoms.
    packages = list(tree.packages.values())
    wanted = [
        next(p for p in packages if p.kind == "virtual"),
        next(p for p in packages if p.kind == "lib" and any("?" in str(d) for d in p.depend)),
        next(p for p in packages if p.pdepend),
        next(p for p in packages if p.kind == "plugin"),
        next(p for p in packages if p.kind == "tool"),
        next(p for p in packages if any(v.masked for v in p.versions)),
        next(p for p in packages if any(str(d).startswith("!<") for d in p.rdepend)),
        next(p for p in packages if any(str(d).startswith(">=") for d in p.rdepend)),
        next(p for p in packages if any(str(d).startswith("||") for d in p.rdepend)),
        next(p for p in packages if p.kind == "data"),
    ]
    egencache = Path(sys.executable).parent / "egencache"
    config = tmp_path / "config"
    (config / "etc" / "portage").mkdir(parents=True)
    env = {
        **os.environ,
        "PORTAGE_CONFIGROOT": str(config),
        "FEATURES": "-ipc-sandbox -network-sandbox -pid-sandbox",
    }
    done = subprocess.run(
        [str(egencache), "--repositories-configuration", f"[gentoo]\nlocation = {repo}\n",
         "--repo", "gentoo", "--update", *(p.cp for p in wanted)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    entries = [f"{p.category}/{p.name}-{v.pv}" for p in wanted for v in p.versions]
    for entry in entries:
        assert (generated / entry).read_text() == (written / entry).read_text(), entry
