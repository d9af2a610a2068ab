"""distcc helpers in the spec (``[distcc] hosts``) and on the command line (``--distcc``,
``--no-distcc``): what the builder is told, and one-line errors for what distcc would not
take or Staves does not offer."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from oci.descriptor import Platform
from oci.image import ImageConfig
from staves.caches.build_key import KeyInputs, build_key
from staves.cli import main
from staves.errors import EXIT_USAGE
from staves.spec import SpecErrors, build_plan, loads_spec
from staves.spec.distcc import DistccHost, distcc_plan, parse_host
from tests.spec_text import BASE, spec_of


def test_helpers_become_distcc_hosts_with_the_builder_last_and_makeopts_over_every_slot() -> None:
    spec = spec_of('[distcc]\nhosts = ["10.0.0.5/8", "helper.example:3633,lzo"]\n')
    assert [str(h) for h in spec.distcc] == ["10.0.0.5/8", "helper.example:3633,lzo"]
    plan = build_plan(spec, 2)
    # 8 slots, distcc's default 4 for a host without a limit, the builder's 2 jobs:
    # twice 14, plus one, as Gentoo's handbook sizes MAKEOPTS.
    assert plan["distcc"] == {
        "hosts": "10.0.0.5/8 helper.example:3633,lzo localhost/2",
        "makeopts": "-j29",
        "helpers": ["10.0.0.5/8", "helper.example:3633,lzo"],
    }


def test_a_listed_localhost_is_the_builders_share() -> None:
    plan = build_plan(spec_of('[distcc]\nhosts = ["localhost/1", "h1/3"]\n'), 8)
    assert plan["distcc"]["hosts"] == "localhost/1 h1/3"
    assert plan["distcc"]["makeopts"] == "-j9"
    assert plan["distcc"]["helpers"] == ["h1/3"]


def test_without_helpers_the_plan_is_as_before() -> None:
    assert "distcc" not in build_plan(spec_of(), 4)


def test_helpers_do_not_change_the_build_key() -> None:
    inputs = KeyInputs(
        "sha256:b", "localhost/p", ImageConfig(), {}, 1, "trim", "gzip", Platform.host(), 1
    )
    local = build_key(build_plan(spec_of(), 2), inputs)
    helped = build_key(build_plan(spec_of('[distcc]\nhosts = ["h1/8"]\n'), 2), inputs)
    assert local is not None and helped == local


@given(
    limits=st.lists(st.one_of(st.none(), st.integers(1, 64)), min_size=1, max_size=5),
    jobs=st.integers(1, 64),
)
def test_makeopts_is_twice_the_slots_plus_one(limits: list[int | None], jobs: int) -> None:
    hosts = [DistccHost(f"h{n}", None, limit) for n, limit in enumerate(limits)]
    plan = distcc_plan(hosts, jobs)
    slots = sum(4 if limit is None else limit for limit in limits) + jobs
    assert plan["makeopts"] == f"-j{2 * slots + 1}"
    assert plan["hosts"].split() == [*(str(h) for h in hosts), f"localhost/{jobs}"]
    assert all(parse_host(entry) is not None for entry in plan["hosts"].split())


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        ('["@box"]', 'distcc.hosts[0]: "@box" is an SSH helper'),
        ('["box,cpp,lzo"]', 'distcc.hosts[0]: "box,cpp,lzo" asks for pump mode'),
        ('["box,gzip"]', 'distcc.hosts[0]: "box,gzip" has options other than ,lzo'),
        ('["box:0"]', 'distcc.hosts[0]: "box:0" port 0 is not between 1 and 65535'),
        ('["box/0"]', 'distcc.hosts[0]: "box/0" limit 0 is not between 1 and 1024'),
        ('["bo x"]', "distcc.hosts[0]: \"bo x\" 'bo x' is not a host name"),
        ('["--randomize"]', 'distcc.hosts[0]: "--randomize" is a distcc option'),
        ('["localhost:3632"]', 'distcc.hosts[0]: "localhost:3632" localhost is the builder'),
        ('["a/2", "a:3632/4"]', 'distcc.hosts[1]: "a:3632/4" is listed twice'),
        ('["localhost/2"]', "distcc.hosts: names only localhost"),
        ("[1]", "distcc.hosts[0]: expected a string, got integer 1"),
        ('"box"', 'distcc.hosts: expected an array of distcc helpers, got string "box"'),
    ],
)
def test_bad_helpers_are_one_line_naming_the_entry(hosts: str, expected: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        loads_spec(f"{BASE}[distcc]\nhosts = {hosts}\n")
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"staves.toml: {expected}"), lines[0]
    assert "; " in lines[0]
    assert caught.value.exit_code == EXIT_USAGE


def test_the_distcc_table_knows_only_hosts() -> None:
    for text, expected in [
        ("[distcc]\n", "distcc.hosts: missing"),
        ('[distcc]\nhost = ["a"]\nhosts = ["a"]\n', "distcc.host: unknown key"),
        ('distcc = ["a"]\n', "distcc: expected a table"),
    ]:
        with pytest.raises(SpecErrors) as caught:
            loads_spec(BASE + text)
        assert str(caught.value).startswith(f"staves.toml: {expected}"), str(caught.value)


def dry_run(tmp_path: Path, spec: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "staves.toml").write_text(spec)
    result = CliRunner().invoke(
        main,
        ["build", "-c", str(tmp_path / "staves.toml"), "--dry-run", "--jobs", "1", *args],
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_command_line_helpers_replace_the_specs(tmp_path: Path) -> None:
    spec = f'{BASE}[distcc]\nhosts = ["spec-helper/8"]\n'
    code, out, _ = dry_run(tmp_path, spec, "--format", "json")
    assert code == 0
    assert json.loads(out)["plan"]["distcc"]["hosts"] == "spec-helper/8 localhost/1"
    code, out, _ = dry_run(tmp_path, spec, "--format", "json", "--distcc", "a/2", "--distcc", "b")
    assert code == 0
    assert json.loads(out)["plan"]["distcc"] == {
        "hosts": "a/2 b localhost/1",
        "makeopts": "-j15",
        "helpers": ["a/2", "b"],
    }
    code, out, _ = dry_run(tmp_path, spec, "--no-distcc")
    assert code == 0
    assert "distcc: (none: compiled in the builder)" in out.splitlines()
    code, out, _ = dry_run(tmp_path, spec)
    assert "distcc: DISTCC_HOSTS='spec-helper/8 localhost/1' MAKEOPTS='-j19'" in out.splitlines()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--distcc", "@box"), "--distcc: '@box' is an SSH helper"),
        (("--distcc", "a", "--distcc", "a:3632"), "--distcc: names a helper twice"),
        (("--distcc", "localhost"), "--distcc: names only localhost"),
        (("--distcc", "a", "--no-distcc"), "--distcc: --distcc and --no-distcc contradict"),
    ],
)
def test_bad_command_line_helpers_are_one_line(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    code, _, err = dry_run(tmp_path, BASE, *args)
    assert code == EXIT_USAGE
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"staves: error: {expected}"), lines
