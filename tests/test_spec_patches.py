"""``patches`` in a package table: read from beside the spec, checked before anything runs
(one line per mistake), and where eapply_user finds them; ``debug`` read."""

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from staves.build.plans import binpkg_dir
from staves.gentoo.atom import parse_atom
from staves.spec import SpecErrors, build_plan, load_spec, loads_spec
from staves.spec.model import Debug
from staves.spec.patches import NoDirectory, patch_directory

FIX = b"--- a/hello.c\n+++ b/hello.c\n@@ -1 +1 @@\n-a\n+b\n"


def spec_with(tmp_path: Path, table: str, body: str, extra: str = "") -> Path:
    path = tmp_path / "staves.toml"
    path.write_text(f'name = "x"\npackages = ["app-misc/hello"]\n{extra}\n[{table}]\n{body}\n')
    return path


@pytest.fixture
def patched(tmp_path: Path) -> Path:
    (tmp_path / "patches").mkdir()
    (tmp_path / "patches" / "fix.patch").write_bytes(FIX)
    (tmp_path / "patches" / "more.diff").write_bytes(FIX.replace(b"+b", b"+c"))
    return tmp_path


def dry_run(spec: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["staves", "build", "--dry-run", "-c", str(spec), *options],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("atom", "directory"),
    [
        ("app-shells/bash", "app-shells/bash"),
        ("app-shells/bash:0", "app-shells/bash:0"),
        ("~app-shells/bash-5.2_p26", "app-shells/bash-5.2_p26"),
        ("~app-shells/bash-5.2_p26-r1", "app-shells/bash-5.2_p26"),  # ~ ignores revisions
        ("=app-shells/bash-5.2_p26", "app-shells/bash-5.2_p26-r0"),  # = is that revision
        ("=app-shells/bash-5.2_p26-r3:0", "app-shells/bash-5.2_p26-r3:0"),
    ],
)
def test_each_atom_maps_to_the_directory_eapply_user_reads(atom: str, directory: str) -> None:
    assert patch_directory(parse_atom(atom)) == directory


@pytest.mark.parametrize(
    "atom",
    [">=app-shells/bash-5", "<app-shells/bash-5", "=app-shells/bash-5*", "a/b::gentoo", "a/b:1/2"],
)
def test_atoms_no_directory_matches_exactly_are_refused(atom: str) -> None:
    with pytest.raises(NoDirectory):
        patch_directory(parse_atom(atom))


def test_patches_are_read_with_their_digests_in_the_order_given(patched: Path) -> None:
    spec = load_spec(
        spec_with(
            patched, "'app-misc/hello'", 'patches = ["patches/more.diff", "patches/fix.patch"]'
        )
    )
    (config,) = spec.package_config
    assert [p.path for p in config.patches] == ["patches/more.diff", "patches/fix.patch"]
    assert config.patches[1].sha256 == hashlib.sha256(FIX).hexdigest()
    plan = build_plan(spec, 1)
    # Numbered in the spec's order: eapply_user applies in the order of the names.
    assert [(p["directory"], p["name"]) for p in plan["patches"]] == [
        ("app-misc/hello", "001-more.diff"),
        ("app-misc/hello", "002-fix.patch"),
    ]
    assert base64.b64decode(plan["patches"][1]["data"]) == FIX


def test_the_spec_directory_is_where_paths_start_not_the_working_directory(
    patched: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    spec = load_spec(spec_with(patched, "'app-misc/hello'", 'patches = ["patches/fix.patch"]'))
    assert spec.package_config[0].patches[0].data == FIX


@pytest.mark.parametrize(
    ("listed", "problem"),
    [
        ('["patches/missing.patch"]', "no such file: patches/missing.patch"),
        ('["../outside.patch"]', "is outside the spec's directory"),
        ('["escape/fix.patch"]', "is outside the spec's directory"),  # a link out of it
        ('["/etc/fix.patch"]', "is an absolute path"),
        ('["patches/notes.txt"]', "is not named *.patch or *.diff"),
        ('["patches/empty.patch"]', "is empty"),
        ('["patches/dir.patch"]', "is not a regular file"),
        ('["patches/fix.patch", "patches/fix.patch"]', "is listed twice"),
        ('"patches/fix.patch"', "expected an array of patch paths"),
    ],
)
def test_a_bad_patch_is_one_line_naming_the_key(patched: Path, listed: str, problem: str) -> None:
    (patched.parent / "outside.patch").write_bytes(FIX)
    (patched / "escape").symlink_to(patched.parent)
    (patched / "patches" / "notes.txt").write_bytes(FIX)
    (patched / "patches" / "empty.patch").write_bytes(b"")
    (patched / "patches" / "dir.patch").mkdir()
    spec = spec_with(patched, "'app-misc/hello'", f"patches = {listed}")
    with pytest.raises(SpecErrors) as caught:
        load_spec(spec)
    (error,) = caught.value.errors
    assert error.key is not None and error.key.startswith("['app-misc/hello'].patches")
    assert problem in error.problem
    done = dry_run(spec)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and problem in done.stderr


def test_a_table_eapply_user_cannot_match_is_refused_for_patches_alone(patched: Path) -> None:
    with pytest.raises(SpecErrors, match="matches versions with >="):
        load_spec(spec_with(patched, "'>=app-misc/hello-1'", 'patches = ["patches/fix.patch"]'))
    load_spec(spec_with(patched, "'>=app-misc/hello-1'", 'use = ["shout"]'))


def test_patches_at_the_top_level_say_where_they_belong() -> None:
    with pytest.raises(SpecErrors, match=r"\['app-shells/bash'\] patches = \.\.\."):
        loads_spec('name = "x"\npackages = ["a/b"]\npatches = ["x.patch"]\n')


def test_patches_get_a_partition_of_their_own_and_none_leaves_it_as_it_was(
    patched: Path,
) -> None:
    plain = build_plan(load_spec(spec_with(patched, "'app-misc/hello'", 'use = ["shout"]')), 1)
    assert "patches" not in plain  # the plans (and build keys) of other specs are unchanged
    one = build_plan(
        load_spec(spec_with(patched, "'app-misc/hello'", 'patches = ["patches/fix.patch"]')), 1
    )
    other = build_plan(
        load_spec(spec_with(patched, "'app-misc/hello'", 'patches = ["patches/more.diff"]')), 1
    )
    assert len({binpkg_dir(plain), binpkg_dir(one), binpkg_dir(other)}) == 3


def test_dry_run_lists_each_patch_without_its_content(patched: Path) -> None:
    spec = spec_with(patched, "'app-misc/hello'", 'patches = ["patches/fix.patch"]')
    text = dry_run(spec)
    assert text.returncode == 0, text.stderr
    digest = hashlib.sha256(FIX).hexdigest()
    line = "patch: patches/fix.patch -> /etc/portage/patches/app-misc/hello/001-fix.patch"
    assert f"{line} (sha256:{digest})" in text.stdout.splitlines()
    document = json.loads(dry_run(spec, "--format", "json").stdout)
    (entry,) = document["plan"]["patches"]
    assert entry["sha256"] == digest and "data" not in entry


@pytest.mark.parametrize(
    ("text", "debug"),
    [
        ("debug = true", Debug()),
        ('debug = "sources"', Debug(sources=True)),
        ("debug = false", None),
        (
            '[debug]\nsources = true\npackages = ["app-shells/dash"]',
            Debug(True, ("app-shells/dash",)),
        ),
    ],
)
def test_debug_reads_as_written(text: str, debug: Debug | None) -> None:
    assert loads_spec(f'name = "x"\npackages = ["a/b"]\n{text}\n').debug == debug


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('debug = "yes"', "is not a debug setting"),
        ("debug = 1", "expected a table"),
        ('[debug]\npackages = ["dash"]', "is not a package atom"),
        ("[debug]\nsource = true", "did you mean 'sources'"),
    ],
)
def test_bad_debug_settings_are_refused(text: str, problem: str) -> None:
    with pytest.raises(SpecErrors, match=problem):
        loads_spec(f'name = "x"\npackages = ["a/b"]\n{text}\n')


def test_debug_builds_with_splitdebug_and_g_in_a_partition_of_its_own() -> None:
    base = 'name = "x"\npackages = ["a/b"]\n[env]\nCFLAGS = "-O2"\n'
    plain = build_plan(loads_spec(base), 1)
    debug = build_plan(loads_spec("debug = 'sources'\n" + base), 1)
    appended = debug["append"]["/etc/portage/make.conf"]
    # After the spec's own flags, so that -g is added to them.
    assert appended.index('CFLAGS="-O2"') < appended.index('CFLAGS="${CFLAGS} -g"')
    assert 'FEATURES="${FEATURES} splitdebug installsources"' in appended
    assert debug["debug"] == {"sources": True, "packages": []}
    assert binpkg_dir(plain) != binpkg_dir(debug)


def test_debug_image_option_names_each_debug_destination(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "localhost/app"\nversion = "2"\npackages = ["a/b"]\n')
    document = json.loads(
        dry_run(
            spec,
            "--debug-image",
            "--format",
            "json",
            "-o",
            f"oci:{tmp_path}/layout",
            "-o",
            f"docker-archive:{tmp_path}/app.tar",
            "-o",
            "docker://localhost:5000/app:3",
        ).stdout
    )
    assert document["plan"]["debug"] == {"sources": False, "packages": []}
    assert document["settings"]["debug_outputs"] == [
        f"oci:{tmp_path}/layout:2-debug",
        f"docker-archive:{tmp_path}/app-debug.tar:localhost/app:2-debug",
        "docker://localhost:5000/app:3-debug",
    ]
    assert "debug_outputs" not in json.loads(dry_run(spec, "--format", "json").stdout)["settings"]


def test_a_destination_without_room_for_debug_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "x"\npackages = ["a/b"]\ndebug = true\n')
    digest = "sha256:" + "a" * 64
    done = dry_run(spec, "-o", f"docker://localhost:5000/app@{digest}")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "no tag to put -debug after" in done.stderr
