"""Platforms without a builder: what ``--platform``, ``platforms`` and ``--url`` accept,
the make.conf a CPU level adds, and how platforms share out over Podman services."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from oci.descriptor import Platform
from staves.build.plans import binpkg_dir
from staves.build.sbom import sbom_path_for
from staves.cli import main
from staves.errors import StavesError
from staves.gentoo.cpu_levels import builder_platform, level_make_conf
from staves.podman.service_map import parse_service_urls
from staves.spec import build_plan, load_spec
from staves.spec.plan import platform_plan
from tests.makeconf_reader import read_make_conf

AMD64 = Platform("linux", "amd64")
V3 = Platform("linux", "amd64", "v3")
ARM64 = Platform("linux", "arm64")
SPEC = 'name = "demo"\nversion = "1"\npackages = ["app-misc/hello"]\n'


def build_cli(tmp_path: Path, *args: str, spec: str = SPEC) -> tuple[int, str]:
    (tmp_path / "staves.toml").write_text(spec)
    result = CliRunner().invoke(main, ["build", "-c", str(tmp_path / "staves.toml"), *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("args", "spec_line", "message"),
    [
        (["--platform", "linux/amd64,linux"], "", "--platform: 'linux' is not a platform;"),
        (
            ["--platform", "linux/amd64/v9"],
            "",
            "--platform: 'v9' in 'linux/amd64/v9' is not a variant of amd64; "
            "variants of amd64: v1, v2, v3, v4 (the x86-64 levels)",
        ),
        (["--platform", "linux/arm64,linux/arm64"], "", "--platform: linux/arm64 is named twice;"),
        (
            [],
            'platforms = ["linux/amd64", "linux/amd64/v5"]\n',
            "staves.toml: platforms: 'v5' in 'linux/amd64/v5' is not a variant of amd64;",
        ),
        ([], "platforms = []\n", "staves.toml: platforms: no platform is named;"),
        ([], "platforms = [1]\n", "staves.toml: platforms: holds a non-string;"),
        (
            ["--platform", "linux/amd64", "--url", "linux/arm64=unix:///x.sock"],
            "",
            "--url: 'linux/arm64=unix:///x.sock': linux/arm64 is not built; "
            "the platforms built: linux/amd64",
        ),
        (
            ["--url", "unix:///a.sock", "--url", "unix:///b.sock"],
            "",
            "--url: 'unix:///b.sock': a second URL for every platform;",
        ),
        (
            ["--platform", "linux/arm64,linux/s390x", "-o", "docker-archive:x.tar"],
            "",
            "--output: docker-archive:: holds one platform's image, and none of "
            "linux/arm64, linux/s390x is this host's",
        ),
    ],
)
def test_bad_platforms_are_one_line_before_anything_runs(
    tmp_path: Path, args: list[str], spec_line: str, message: str
) -> None:
    if "docker-archive" in " ".join(args) and Platform.host().architecture in ("arm64", "s390x"):
        pytest.skip("the host is one of the platforms")
    code, stderr = build_cli(tmp_path, "--dry-run", *args, spec=SPEC + spec_line)
    assert code == 2, stderr
    assert stderr.startswith(f"staves: error: {message}") or message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr


def test_the_spec_names_platforms_and_the_command_line_overrides_them(tmp_path: Path) -> None:
    (tmp_path / "staves.toml").write_text(SPEC + 'platforms = ["linux/arm64", "linux/amd64/v3"]\n')
    spec = load_spec(str(tmp_path / "staves.toml"))
    assert spec.platforms == (ARM64, V3)


def test_a_cpu_level_compiles_for_it_after_the_specs_flags() -> None:
    spec_env = 'CFLAGS="-O3 -pipe"\n'
    plan = {"files": {}, "append": {"/etc/portage/make.conf": spec_env}}
    v3 = platform_plan(plan, V3)
    text = 'COMMON_FLAGS="-O2"\nCFLAGS="${COMMON_FLAGS}"\n' + v3["append"]["/etc/portage/make.conf"]
    values = read_make_conf(text)
    assert values["CFLAGS"] == "-O3 -pipe -march=x86-64-v3"
    assert set(values["CPU_FLAGS_X86"].split()) >= {"avx", "avx2", "fma3", "bmi2", "sse4_2"}
    assert "avx512f" not in values["CPU_FLAGS_X86"]
    # Its binary packages are kept apart from the baseline's, which keeps its directory.
    assert binpkg_dir(v3) != binpkg_dir(plan)
    assert platform_plan(plan, AMD64) is plan
    assert platform_plan(plan, ARM64) is plan
    assert level_make_conf(Platform("linux", "amd64", "v1")) == ""
    # The level is the flags' business: the builder is the plain amd64 one.
    assert builder_platform(V3) == AMD64
    assert builder_platform(Platform("linux", "arm", "v7")) == Platform("linux", "arm", "v7")


def test_a_level_keeps_the_specs_own_partition_apart_too(tmp_path: Path) -> None:
    (tmp_path / "staves.toml").write_text(SPEC)
    plan = build_plan(load_spec(str(tmp_path / "staves.toml")), 2)
    dirs = {
        binpkg_dir(platform_plan(plan, p)) for p in (AMD64, V3, Platform("linux", "amd64", "v4"))
    }
    assert len(dirs) == 3


def test_platforms_share_out_over_services_in_order() -> None:
    services = parse_service_urls(
        ["unix:///run/a.sock", "linux/arm64=ssh://me@arm-box/run/podman/podman.sock?secure=True"],
        [AMD64, ARM64, V3],
    )
    assert services.url_for(ARM64) == "ssh://me@arm-box/run/podman/podman.sock?secure=True"
    assert services.build_order([AMD64, ARM64, V3]) == [
        ("unix:///run/a.sock", [AMD64, V3]),
        ("ssh://me@arm-box/run/podman/podman.sock?secure=True", [ARM64]),
    ]
    # No --url: every platform on the usual service, one after another.
    assert parse_service_urls([], [AMD64, ARM64]).build_order([AMD64, ARM64]) == [
        (None, [AMD64, ARM64])
    ]
    # A URL with "=" in its query is a URL, not a platform's.
    assert parse_service_urls(["unix:///a.sock?x=y"], [AMD64]).default == "unix:///a.sock?x=y"
    with pytest.raises(StavesError, match="has a URL already"):
        parse_service_urls(["linux/arm64=unix:///a", "linux/arm64=unix:///b"], [ARM64])


def test_several_platforms_write_one_sbom_each() -> None:
    path = Path("out/sbom.spdx.json")
    assert sbom_path_for(path, ARM64, several=False) == path
    assert sbom_path_for(path, ARM64, several=True) == Path("out/sbom.linux-arm64.spdx.json")
    assert sbom_path_for(path, V3, several=True) == Path("out/sbom.linux-amd64-v3.spdx.json")


def test_the_dry_run_shows_the_platforms_and_what_a_level_adds(tmp_path: Path) -> None:
    (tmp_path / "staves.toml").write_text(SPEC + 'platforms = ["linux/arm64"]\n')
    args = ["build", "-c", str(tmp_path / "staves.toml"), "--dry-run"]
    text = CliRunner().invoke(main, [*args, "--platform", "linux/amd64,linux/amd64/v3"]).stdout
    assert "platforms: linux/amd64 linux/amd64/v3\n" in text
    assert "==> /etc/portage/make.conf (appended for linux/amd64/v3) <==\n" in text
    assert 'CFLAGS="${CFLAGS} -march=x86-64-v3"\n' in text
    document = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    assert document["platforms"] == ["linux/arm64"]  # the spec's, with no --platform
    assert document["platform_make_conf"] == {}
