"""``staves build``: dry-run output, overrides, and one-line errors with exit 2."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from staves.cli import main
from staves.commands.build_inputs import credential_choices
from staves.spec.sync_uris import uses_ssh
from tests.spec_text import spec_of

EXAMPLE = Path(__file__).parent.parent / "examples" / "hello" / "staves.toml"

SPEC = """
name = "demo"
version = "0.1"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
stdlib = true
locale = { name = "C.UTF-8" }

[env]
FEATURES = "${FEATURES} -ipc-sandbox"

[env.debug]
CFLAGS = "-O0"

['app-misc/hello']
use = ["shout"]
env = ["debug"]

[[repositories]]
name = "staves-test"
type = "git"
uri = "https://example.org/repo.git"

[image.env]
GREETING = "hi"
"""


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def run(tmp_path: Path, *args: str, spec: str = SPEC) -> Result:
    """``staves build ARGS`` in ``tmp_path``, where ``staves.toml`` holds ``spec``."""
    (tmp_path / "staves.toml").write_text(spec, encoding="utf-8")
    return CliRunner().invoke(main, ["build", *args])


def test_dry_run_text_shows_every_file_and_the_image_config(tmp_path: Path) -> None:
    result = run(tmp_path, "--dry-run", "--jobs", "3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for header in [
        "==> /etc/portage/make.conf (appended) <==",
        "==> /etc/portage/package.use/staves <==",
        "==> /etc/portage/package.env/staves <==",
        "==> /etc/portage/env/debug <==",
        "==> /etc/portage/repos.conf/staves-test <==",
        "==> image config <==",
    ]:
        assert header in out
    assert 'FEATURES="${FEATURES} -ipc-sandbox"' in out
    assert "app-misc/hello shout" in out
    assert "image: demo:0.1" in out
    assert "sync: staves-test" in out
    assert "jobs: 3" in out
    assert "locale: C.UTF-8 UTF-8" in out
    assert '"Entrypoint": [\n      "/usr/bin/hello"\n    ]' in out
    assert '"GREETING=hi"' in out


def test_dry_run_json_for_tools(tmp_path: Path) -> None:
    result = run(tmp_path, "--dry-run", "--format", "json", "--jobs", "2", "-o", "oci:out")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["image"]["reference"] == "demo:0.1"
    # The locale names LANG for the image, since [image.env] does not.
    assert document["image"]["config"]["Env"] == ["GREETING=hi", "LANG=C.UTF-8"]
    assert document["outputs"] == ["oci:out"]
    plan = document["plan"]
    assert set(plan) == {
        "files",
        "append",
        "sync",
        "packages",
        "jobs",
        "root",
        "stdlib",
        "locale",
        "install_mask",
        "binhosts",
    }
    assert plan["sync"] == ["staves-test"]
    assert plan["jobs"] == 2
    assert plan["locale"] == {"name": "C.UTF-8", "charset": "UTF-8"}
    assert "/etc/portage/package.use/staves" in plan["files"]
    assert "/etc/portage/make.conf" in plan["append"]


@pytest.mark.parametrize(
    ("args", "reference"),
    [
        (["--version", "2"], "demo:2"),
        (["--tag", "reg.io:5000/me/x"], "reg.io:5000/me/x:0.1"),
        (["--tag", "reg.io:5000/me/x:3"], "reg.io:5000/me/x:3"),
        (["--tag", "x:3", "--version", "3"], "x:3"),
    ],
)
def test_tag_and_version_override(tmp_path: Path, args: list[str], reference: str) -> None:
    result = run(tmp_path, "--dry-run", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["image"]["reference"] == reference


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "Bad"], "--tag: 'Bad' is not an image name;"),
        (["--tag", "x:-bad"], "--tag: '-bad' is not an image tag;"),
        (["--version", "a b"], "--version: 'a b' is not an image tag;"),
        (["--tag", "x:1", "--version", "2"], "--tag: gives a tag and so does --version;"),
    ],
)
def test_bad_overrides(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, "--dry-run", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("staves: error: " + message)


def test_spec_errors_one_line_each_exit_2(tmp_path: Path) -> None:
    spec = 'name = "x"\npackages = ["bash"]\nlayers = 0\n'
    result = run(tmp_path, "--dry-run", spec=spec)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        'staves.toml: packages[0]: "bash" is not a package atom: no category '
        "(an atom looks like category/package); a package atom: "
        "[OPERATOR]CATEGORY/PACKAGE[-VERSION][:SLOT[/SUBSLOT]][::REPO], "
        'e.g. "app-shells/bash", ">=dev-libs/foo-1.2:3"',
        "staves.toml: layers: 0 is less than 1; a whole number of layers from 1 to 100",
    ]
    assert "Traceback" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = run(tmp_path, "--dry-run", "-c", "nope.toml")
    assert result.exit_code == 2
    assert result.stderr == "nope.toml: no such file; write a staves.toml or pass -c FILE\n"


def test_toml_syntax_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--dry-run", spec='name = "x"\npackages = ["a/b"\n')
    assert result.exit_code == 2
    assert result.stderr.startswith("staves.toml: line 2: invalid TOML:")
    assert len(result.stderr.splitlines()) == 1


def test_invalid_spec_is_reported_before_anything_starts(tmp_path: Path) -> None:
    result = run(tmp_path, spec="packages = 1\n")
    assert result.exit_code == 2
    assert "staves.toml: name: missing" in result.stderr


def test_bundled_example_dry_run() -> None:
    result = CliRunner().invoke(
        main, ["build", "-c", str(EXAMPLE), "--dry-run", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plan"]
    assert plan["packages"] == ["app-misc/hello"]
    assert plan["files"]["/etc/portage/package.use/staves"].endswith("app-misc/hello shout\n")


def test_passwords_in_urls_are_warned_about_by_key(tmp_path: Path) -> None:
    spec = SPEC.replace(
        "https://example.org/repo.git", "https://me:s3cret@example.org/repo.git"
    ).replace(
        '[env]\nFEATURES = "${FEATURES} -ipc-sandbox"\n',
        '[env]\nFEATURES = "${FEATURES} -ipc-sandbox"\n'
        'GENTOO_MIRRORS = "ftp://anon:pw@mirror.example/gentoo"\n',
    )
    result = run(tmp_path, "--dry-run", spec=spec)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert [w.split(": ")[3].split()[0] for w in warnings] == [
        "repositories[0].uri",
        "env.GENTOO_MIRRORS",
    ]
    assert all("--netrc" in w and "s3cret" not in w for w in warnings)
    user_only = SPEC.replace("https://example.org/", "https://me@example.org/")
    assert "warning" not in run(tmp_path, "--dry-run", spec=user_only).stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["build", "--layers", "500"], "--layers: 500 is not in the range"),
        (["build", "--no-such-option"], "--no-such-option: no such option"),
        (["inspect"], "SOURCE: missing; it is required"),
        (["bild"], "bild: no such command"),
    ],
)
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("staves: error: ") and says in line and "--help" in line


def test_help_and_version_still_exit_0() -> None:
    assert CliRunner().invoke(main, ["build", "--help"]).exit_code == 0
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("staves, version ")


@pytest.mark.parametrize("option", ["--build-cache", "--distfiles-cache"])
@pytest.mark.parametrize("value", ["", "bad/name", "-dash", "a b"])
def test_bad_volume_names_are_refused_before_podman(
    tmp_path: Path, option: str, value: str
) -> None:
    result = run(tmp_path, option, value, "--url", "unix:///nonexistent/podman.sock")
    assert result.exit_code == 2
    assert result.stderr == f"staves: error: {option}: {value!r} is not a volume name; " + (
        "letters, digits, '_', '.' and '-', starting with a letter or digit\n"
    )


REPOS = (
    '[[repositories]]\nname = "a"\ntype = "git"\nuri = "git@git.example.com:a.git"\n'
    'credentials = ["ssh", "netrc"]\n'
    '[[repositories]]\nname = "b"\ntype = "git"\nuri = "https://example.org/b.git"\n'
)


@pytest.mark.parametrize(
    ("extra", "ssh", "no_ssh", "netrc", "expected"),
    [
        ("", None, False, None, (None, False)),  # nothing of the user's by default
        ("", "default", False, True, ("default", True)),
        ("", "/keys/deploy", False, None, ("/keys/deploy", False)),
        (REPOS, None, False, None, ("default", True)),  # what a repository names
        (REPOS, None, True, False, (None, False)),  # --no-ssh, --no-netrc refuse it
        (REPOS, "/keys/deploy", False, None, ("/keys/deploy", True)),
    ],
)
def test_credentials_are_shared_only_when_asked(
    extra: str, ssh: str | None, no_ssh: bool, netrc: bool | None, expected: tuple[object, ...]
) -> None:
    assert credential_choices(spec_of(extra), ssh, no_ssh, netrc) == expected


@pytest.mark.parametrize(
    ("uri", "ssh"),
    [
        ("git@git.example.com:a.git", True),
        ("ssh://git@example.com/a.git", True),
        ("git+ssh://example.com/a.git", True),
        ("svn+ssh://example.com/a", True),
        ("https://example.com/a.git", False),
        ("rsync://example.com/gentoo", False),
        ("/srv/a.git", False),
    ],
)
def test_repositories_that_sync_over_ssh_are_known(uri: str, ssh: bool) -> None:
    assert uses_ssh(uri) is ssh
