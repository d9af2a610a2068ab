"""Packaging as a release: ``python -m build`` gives an sdist and a wheel that ``twine
check`` passes, with the project's URLs, classifiers and man pages; the wheel installed
into a fresh virtualenv gives a working ``staves`` whose man pages ``man`` finds."""

import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MAN_PAGES = sorted(p.relative_to(ROOT / "man").as_posix() for p in (ROOT / "man").rglob("*.[0-9]"))


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # A copy of the tree as git has it: the build must not depend on what lies around.
    source = tmp_path_factory.mktemp("source")
    files = run("git", "ls-files", "-co", "--exclude-standard", cwd=ROOT).stdout.split("\n")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "build", "--outdir", out, source)
    return out


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    artifacts = sorted(dist.iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in artifacts] == [".gz", ".whl"]
    run(sys.executable, "-m", "twine", "check", "--strict", *artifacts)


def test_the_wheel_carries_metadata_and_man_pages(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Documentation", "Source", "Issues"} <= urls.keys()
    classifiers = metadata.get_all("Classifier")
    assert "Operating System :: POSIX :: Linux" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in classifiers)
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.11"
    # Only the runtime dependencies: the docs and test tools are extras.
    runtime = [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    assert not any(r.startswith(("mkdocs", "pytest", "build", "twine")) for r in runtime)
    shipped = sorted(n.split("/share/man/", 1)[1] for n in names if "/share/man/" in n)
    assert shipped == MAN_PAGES and "man5/staves.toml.5" in shipped
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        inside = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"man/{page}" for page in MAN_PAGES} | {"LICENSE", "mkdocs.yml"} <= inside


def test_the_wheel_installs_into_a_fresh_virtualenv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    # Nothing of the checkout: not its PYTHONPATH (the tests' conftest sets it), nor its
    # directory (python -m pip would see its staves.egg-info and install nothing).
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run(env_dir / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path, env=clean)
    staves = env_dir / "bin" / "staves"
    assert run(staves, "--version", env=clean).stdout.strip().endswith("0.1.0")
    located = run(env_dir / "bin" / "python", "-c", "import staves; print(staves.__file__)",
                  cwd=tmp_path, env=clean)  # fmt: skip
    assert located.stdout.startswith(str(env_dir))
    example = ROOT / "examples" / "hello" / "staves.toml"
    dry = run(staves, "build", "-f", example, "--dry-run", "--format", "json", cwd=tmp_path,
              env=clean)  # fmt: skip
    assert '"reference": "hello:1.0"' in dry.stdout
    # man finds the pages beside the environment's bin/, as it does for pipx.
    path = f"{env_dir / 'bin'}:{os.environ.get('PATH', '')}"
    found = run("man", "-w", "staves-build", env={**clean, "PATH": path, "MANPATH": ""})
    assert Path(found.stdout.strip()) == env_dir / "share" / "man" / "man1" / "staves-build.1"
