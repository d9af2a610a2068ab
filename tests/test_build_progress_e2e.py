"""What a build says while it runs, end to end: the plain lines of a warm build, a quiet
build's digest alone, a failing compile's error and log, the metadata file against the
image it describes, and the live view through a pseudo-terminal. What a build did is read
from its metadata file and its log, never from the lines it prints."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.builder_fixtures import Builder, builder, test_images
from tests.conftest import PROJECT
from tests.terminal import run_in_terminal

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

EXAMPLE = (PROJECT / "examples" / "hello" / "staves.toml").read_text()
ESCAPE = re.compile(r"\x1b|\r")
# A root of its own (the image's name keys the kept root): every package merged, from the
# seed's binary packages, so that emerge says a lot.
FRESH = """
name = "localhost/staves-test/progress-tty"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""
LAYERED = """
name = "localhost/staves-test/progress-layers"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
layers = 4
"""


def test_a_warm_build_of_the_example_prints_a_few_plain_lines_naming_every_package(
    builder: Builder,
) -> None:
    builder.build(EXAMPLE)  # the seed lacks hello with "shout": this one compiles it
    warm = builder.build(EXAMPLE, "--progress", "plain")
    lines = warm.proc.stderr.splitlines()
    assert len(lines) <= 12, warm.proc.stderr
    assert not ESCAPE.search(warm.proc.stderr)
    packages = warm.packages()
    assert "app-misc/hello-1.0" in packages and "sys-libs/glibc-2.36-r1" in packages
    for cpv in packages:
        assert cpv in warm.proc.stderr, cpv
    # The digest alone on stdout, as the metadata file says it.
    assert warm.proc.stdout == warm.metadata()["containerimage.digest"] + "\n"
    assert warm.compiled() == []


def test_quiet_prints_the_digest_alone(builder: Builder) -> None:
    builder.build(EXAMPLE)
    quiet = builder.build(EXAMPLE, "-q")  # after the command's name, as podman's
    assert quiet.proc.stderr == ""
    assert quiet.proc.stdout == quiet.metadata()["containerimage.digest"] + "\n"
    spelled = builder.build(EXAMPLE, "--progress=quiet")
    assert spelled.proc.stderr == "" and spelled.proc.stdout == quiet.proc.stdout


def test_a_failing_compile_shows_the_compilers_error_and_where_the_whole_log_is(
    builder: Builder,
) -> None:
    failed = builder.build(
        'name = "b"\npackages = ["app-misc/broken"]\n', "--progress", "plain", expect_ok=False
    )
    assert failed.proc.returncode == 1
    said = failed.proc.stderr
    assert not ESCAPE.search(said)
    # The compiler's complaint, not Portage's banner after it.
    assert re.search(r"^    broken\.c:\d+:\d+: error: .*this_is_not_c", said, re.M), said
    assert "* ERROR: app-misc/broken-1.0::gentoo failed" not in said
    assert "(the compile phase died: broken.c does not compile)" in said
    assert failed.work is not None
    log = failed.work / "build.log"
    last = said.strip().splitlines()[-1]
    assert "emerge failed for app-misc/broken-1.0" in last and f"the whole log: {log}" in last
    # The log holds emerge's whole output, the banner included, and ends with the error.
    text = log.read_text()
    assert ">>> Emerging (1 of 1) app-misc/broken-1.0::gentoo" in text
    assert "* ERROR: app-misc/broken-1.0::gentoo failed (compile phase):" in text
    assert text.strip().splitlines()[-1] == last
    assert not ESCAPE.search(text)


def test_the_metadata_file_and_iidfile_describe_the_image_written(
    builder: Builder, tmp_path: Path
) -> None:
    iidfile = tmp_path / "iid"
    build = builder.build(LAYERED, "--iidfile", str(iidfile))
    meta = build.metadata()
    manifest = build.manifest()
    index = json.loads((build.layout / "index.json").read_text())
    (entry,) = [m for m in index["manifests"] if "artifactType" not in m]
    assert meta["containerimage.digest"] == entry["digest"] == build.proc.stdout.strip()
    assert meta["containerimage.config.digest"] == manifest["config"]["digest"]
    assert iidfile.read_text() == manifest["config"]["digest"]
    assert meta["image.name"] == "localhost/staves-test/progress-layers:latest"
    assert meta["staves.destinations"] == [f"oci:{build.layout}:t"]
    (platform,) = meta["staves.platforms"].values()
    assert [(x["digest"], x["size"]) for x in platform["layers"]] == [
        (x["digest"], x["size"]) for x in manifest["layers"]
    ]
    # Every package the image's package database holds, with how it was obtained, and in
    # the layer that holds its files.
    in_image = {
        path.split("/")[3] + "/" + path.split("/")[4]
        for path in build.files()
        if path.startswith("var/db/pkg/") and path.count("/") == 4
    }
    assert {p["cpv"] for p in platform["packages"]} == in_image
    assert {p["how"] for p in platform["packages"]} <= {
        "compiled",
        "binary",
        "unchanged",
        "builder",
    }
    layered = {cpv for layer in platform["layers"] for cpv in layer["packages"]}
    assert in_image <= layered
    counts = platform["counts"]
    assert counts["layers"] == len(manifest["layers"]) == 4
    assert sum(counts[how] for how in ("compiled", "binary", "unchanged", "builder")) == len(
        in_image
    )
    assert meta["staves.durations"]["total"] > 0 and platform["durations"]["builder run"] > 0
    # Built again into the same layout, which holds this build already: nothing is built,
    # and both files still say what the image is.
    iidfile.unlink()
    again = subprocess.run(build.proc.args, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    skipped = build.metadata()
    assert skipped["staves.skipped"] == "every destination holds this build"
    assert skipped["containerimage.digest"] == entry["digest"] == again.stdout.strip()
    assert iidfile.read_text() == manifest["config"]["digest"]


def test_the_live_view_in_a_terminal_redraws_in_place_with_long_output(
    builder: Builder,
) -> None:
    # -v: the builder's output streamed above the live view too, hundreds of lines.
    argv, work = builder.command(FRESH, "-v")
    seen = run_in_terminal(argv, columns=80, rows=24)
    assert seen.code == 0, "\n".join(seen.lines[-30:])
    # Every line that stayed is whole: an event or a line of emerge's, never a piece of
    # the live view (a spinner, a status) left behind or written over.
    assert not [line for line in seen.lines if seen.spinner_in(line)]
    events = [line for line in seen.lines if re.match(r"^ *[0-9.ms]+s  \S", line)]
    assert any("image root ready: " in line for line in events), events
    assert "done in " in events[-1]
    metadata = json.loads((work / "metadata.json").read_text())
    assert seen.lines[-1] == metadata["containerimage.digest"]
    # emerge's own lines, as the log has them, in order (the terminal wraps long ones).
    logged = [x for x in (work / "build.log").read_text().splitlines() if x.startswith(">>> ")]
    shown = [x for x in seen.lines if x.startswith(">>> ")]
    assert len(shown) >= 3 and shown == [x[:80].rstrip() for x in logged]


def test_a_build_prints_nothing_of_portage_in_plain_mode_without_verbose(
    builder: Builder, tmp_path: Path
) -> None:
    built = builder.build(EXAMPLE, "--progress", "plain")
    assert ">>>" not in built.proc.stderr and "emerge" not in built.proc.stderr
    # ... and the log has it all.
    assert ">>> staves: " in built.log
    verbose = subprocess.run(
        builder.command(EXAMPLE, "--progress", "plain", "-v")[0],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verbose.returncode == 0, verbose.stderr[-2000:]
    assert ">>> staves: " in verbose.stderr and not ESCAPE.search(verbose.stderr)
