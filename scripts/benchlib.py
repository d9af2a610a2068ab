"""What the build benchmarks share: run `staves build` and `podman build` with a clock,
read what staves compiled from its metadata file, and remove what a run made from Podman.

Imported by scripts/bench-build and scripts/bench-scale (which put scripts/ on sys.path).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEST_IMAGES = os.environ.get("STAVES_TEST_IMAGES", "localhost/staves-test")
BUILDER = f"{TEST_IMAGES}/builder:latest"
PORTAGE = f"{TEST_IMAGES}/portage:latest"
# This checkout's staves, run by the project's venv (or STAVES_PYTHON).
VENV_PYTHON = PROJECT / ".venv" / "bin" / "python"
PYTHON = os.environ.get("STAVES_PYTHON") or str(
    VENV_PYTHON if VENV_PYTHON.exists() else sys.executable
)
# The multi-stage Containerfile's emerge says what it did only in words: ">>> Emerging (3 of
# 7) app-misc/hello-1.0::gentoo for /tmp/rootfs/" was compiled from its ebuild; a binary
# package says ">>> Emerging binary (…)". (Staves says it in its metadata file.)
_COMPILED = re.compile(r">>> Emerging \(\d+ of \d+\) (\S+)")
_MERGED = re.compile(r">>> Emerging (?:binary )?\(\d+ of \d+\) (\S+?)(?:::\S+)? for (\S+)")
# Buildah keeps a RUN's --mount=type=cache directories here, one directory per id (root's
# storage: TMPDIR, else /var/tmp).
BUILDAH_CACHE = Path(os.environ.get("TMPDIR", "/var/tmp")) / "buildah-cache"
# Labels every image a bench's podman build makes, intermediate ones too, to remove them.
BENCH_LABEL = "io.staves.bench"


@dataclass(frozen=True)
class Result:
    label: str
    seconds: float
    compiled: list[str]  # CATEGORY/PF of each package compiled from its ebuild
    repacked: str = "-"  # staves: "N of M" layers packed anew, or "-" when nothing was packed
    merged: int = 0  # packages merged into the image root, compiled or binary


def compiled_in(metadata: dict) -> list[str]:
    """CATEGORY/PF of the packages a build compiled (into the image or the builder), as its
    --metadata-file says."""
    platforms = metadata["staves.platforms"].values()
    merged = [
        p
        for one in platforms
        for p in (*one["packages"], *one["builder_merges"], *one["other_merges"])
    ]
    return sorted({p["cpv"] for p in merged if p["how"] == "compiled"})


def merged_into_image(metadata: dict) -> int:
    """How many packages a build merged into the image root, compiled or binary."""
    platforms = metadata["staves.platforms"].values()
    return sum(p["how"] in ("compiled", "binary") for one in platforms for p in one["packages"])


def repacked_in(metadata: dict) -> str:
    """ "N of M" layers packed anew, or "-" when nothing was packed (an unchanged build)."""
    counts = [one["counts"] for one in metadata["staves.platforms"].values()]
    if not counts:
        return "-"
    return f"{sum(c['layers_repacked'] for c in counts)} of {sum(c['layers'] for c in counts)}"


def emerge_compiled(log: str) -> list[str]:
    """CATEGORY/PF of the packages an emerge's output says it compiled."""
    return [name.split("::")[0] for name in _COMPILED.findall(log)]


def emerge_merged(log: str, root: str = "/tmp/rootfs/") -> int:
    """How many packages an emerge's output says it merged into ``root``."""
    return sum(1 for _, target in _MERGED.findall(log) if target.rstrip("/") == root.rstrip("/"))


def fail(message: str) -> None:
    sys.exit(f"{Path(sys.argv[0]).name}: {message}")


def staves_build(
    label: str,
    spec: str,
    cache: str,
    work: Path,
    destination: str,
    env: dict[str, str],
    *extra: str,
    portage: str = PORTAGE,
) -> Result:
    """One `staves build` of ``spec`` (written to ``work``) into ``destination``: its
    time, compiled packages, repacked layers and packages merged."""
    work.mkdir(parents=True)
    (work / "staves.toml").write_text(spec)
    argv = [PYTHON, "-m", "staves", "build", "-c", str(work / "staves.toml")]
    argv += ["--builder", BUILDER, "--portage", portage, "--build-cache", cache]
    argv += ["--log-file", str(work / "build.log"), "--metadata-file", str(work / "meta.json")]
    start = time.perf_counter()
    proc = subprocess.run(
        [*argv, "-o", destination, *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
        env=env,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        fail(f"{label}: staves build failed:\n{proc.stderr[-2000:]}")
    metadata = json.loads((work / "meta.json").read_text())
    return Result(
        label, elapsed, compiled_in(metadata), repacked_in(metadata), merged_into_image(metadata)
    )


def beside_containers(run_id: str) -> list[str]:
    """podman build options that put its RUN steps in the cgroup where Podman puts
    containers, staves' builders among them; empty where that cannot be told.

    Buildah gives each RUN a cgroup at the top of the hierarchy, while Podman's containers
    share one parent (cgroupfs: /libpod_parent; systemd: machine.slice): on a loaded machine
    one RUN would get as much CPU as every container together, and the comparison would
    measure the cgroup tree instead of the builds. On an idle machine it changes nothing.
    """
    found = subprocess.run(
        ["podman", "run", "--rm", "--network", "none", BUILDER, "cat", "/proc/self/cgroup"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.split(":", 2) for line in found.stdout.splitlines() if line.count(":") >= 2]
    # The cpu controller's line (cgroups v1), else the unified hierarchy's (v2).
    paths = [path for _, names, path in lines if "cpu" in names.split(",")]
    paths += [path for number, names, path in lines if number == "0" and not names]
    if found.returncode != 0 or not paths:
        return []
    parent = Path(paths[0]).parent
    if parent.name.endswith(".slice"):  # systemd: a slice of our own under Podman's
        return ["--cgroup-parent", f"{parent.name[: -len('.slice')]}-stavesbench{run_id}.slice"]
    if parent == Path("/"):
        return []
    return ["--cgroup-parent", str(parent / f"staves-bench-{run_id}")]


def podman_build(label: str, context: Path, tag: str, run_id: str, *extra: str) -> Result:
    """One `podman build` of ``context``'s Containerfile, tagged ``tag`` and labelled with
    the run (so that ``remove_labelled`` finds every image it made)."""
    argv = ["podman", "build", "--label", f"{BENCH_LABEL}={run_id}", "-t", tag, *extra]
    start = time.perf_counter()
    proc = subprocess.run(
        [*argv, str(context)], capture_output=True, text=True, check=False, cwd=context
    )
    elapsed = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    (context / (re.sub(r"\W+", "-", label).strip("-") + ".log")).write_text(log)
    if proc.returncode != 0:
        fail(f"{label}: podman build failed:\n{log[-2000:]}")
    return Result(label, elapsed, emerge_compiled(log), merged=emerge_merged(log))


def remove_labelled(run_id: str) -> None:
    """Remove every image this run's podman builds made (final and intermediate)."""
    found = subprocess.run(
        ["podman", "images", "-a", "-q", "--filter", f"label={BENCH_LABEL}={run_id}"],
        capture_output=True,
        text=True,
        check=False,
    )
    ids = sorted(set(found.stdout.split()))
    if ids:
        subprocess.run(["podman", "rmi", "-f", *ids], capture_output=True, check=False)


def remove_cache_mount(cache_id: str) -> None:
    """Remove the buildah cache mount this run made (its id is the run's own)."""
    path = BUILDAH_CACHE / cache_id
    if path.parent == BUILDAH_CACHE and path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def remove_volume(name: str) -> None:
    subprocess.run(["podman", "volume", "rm", "-f", name], capture_output=True, check=False)


def remove_image(reference: str) -> None:
    subprocess.run(["podman", "rmi", "-f", reference], capture_output=True, check=False)


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:5.2f}" if denominator > 0 else "    -"
