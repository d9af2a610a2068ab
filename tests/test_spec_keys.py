"""Each key of staves.toml, read into the Spec."""

from staves.spec import Locale, NamedEnv, PackageConfig, Repository
from tests.spec_text import spec_of


def test_minimal_spec_defaults() -> None:
    spec = spec_of()
    assert spec.name == "demo"
    assert spec.version == "latest"
    assert spec.packages == ("app-misc/hello",)
    assert spec.package_config == ()
    assert spec.make_conf == ()
    assert spec.envs == ()
    assert spec.repositories == ()
    assert spec.locale is None
    assert spec.stdlib is False
    assert spec.layers == 1
    assert spec.vdb == "trim"
    assert spec.image.entrypoint == ()
    assert spec.image.reference == "demo:latest"


def test_name_with_registry_and_version() -> None:
    spec = spec_of(base='name = "localhost:5000/me/demo"\nversion = "1.2-r1"\npackages = ["a/b"]\n')
    assert spec.image.reference == "localhost:5000/me/demo:1.2-r1"


def test_packages_accept_operators_slots_and_repos() -> None:
    spec = spec_of(base='name = "x"\npackages = [">=dev-libs/foo-1.2:3::gentoo", "a/b"]\n')
    assert spec.packages == (">=dev-libs/foo-1.2:3::gentoo", "a/b")


def test_package_table_with_every_key() -> None:
    spec = spec_of(
        """
[env.debug]
CFLAGS = "-O0 -g"

['=dev-libs/foo-1.2']
use = ["ssl", "-nls"]
env = ["debug"]
keywords = ["~amd64"]
license = ["@BINARY-REDISTRIBUTABLE", "-GPL-3"]
unmask = true
mask = false
"""
    )
    assert spec.package_config == (
        PackageConfig(
            atom="=dev-libs/foo-1.2",
            use=("ssl", "-nls"),
            env=("debug",),
            keywords=("~amd64",),
            license=("@BINARY-REDISTRIBUTABLE", "-GPL-3"),
            unmask=True,
            mask=False,
        ),
    )


def test_env_splits_make_conf_variables_from_named_envs() -> None:
    spec = spec_of(
        """
[env]
FEATURES = "${FEATURES} -ipc-sandbox"
MAKEOPTS = "-j2"

[env.nonls]
LINGUAS = ""
"""
    )
    assert spec.make_conf == (("FEATURES", "${FEATURES} -ipc-sandbox"), ("MAKEOPTS", "-j2"))
    assert spec.envs == (NamedEnv(name="nonls", variables=(("LINGUAS", ""),)),)


def test_repositories() -> None:
    spec = spec_of(
        """
[[repositories]]
name = "guru"
type = "git"
uri = "https://github.com/gentoo/guru.git"
"""
    )
    assert spec.repositories == (
        Repository(name="guru", type="git", uri="https://github.com/gentoo/guru.git"),
    )


def test_repository_names_as_portage_reads_them() -> None:
    # Portage takes a name ending like a version (PMS would not); atoms may name it.
    spec = spec_of(
        '[[repositories]]\nname = "overlay-2"\ntype = "git"\nuri = "https://example.org/o"\n',
        base='name = "x"\npackages = ["app-misc/hello::overlay-2"]\n',
    )
    assert [repo.name for repo in spec.repositories] == ["overlay-2"]


def test_locale_charset_defaults_from_the_name() -> None:
    assert spec_of('locale = { name = "en_US.UTF-8" }\n').locale == Locale("en_US.UTF-8", "UTF-8")
    explicit = spec_of('locale = { name = "de_DE@euro", charset = "ISO-8859-15" }\n')
    assert explicit.locale == Locale("de_DE@euro", "ISO-8859-15")


def test_stdlib_layers_vdb() -> None:
    spec = spec_of('stdlib = true\nlayers = 3\nvdb = "full"\n')
    assert (spec.stdlib, spec.layers, spec.vdb) == (True, 3, "full")


def test_command_string_is_split_like_a_shell() -> None:
    spec = spec_of('command = "/bin/sh -c \'echo hi\'"\ncmd = ["--flag", "two words"]\n')
    assert spec.image.entrypoint == ("/bin/sh", "-c", "echo hi")
    assert spec.image.cmd == ("--flag", "two words")


def test_image_settings() -> None:
    spec = spec_of(
        """
user = 1000
workdir = "/srv"
ports = [8080, "53/udp", "443"]
volumes = ["/data"]
labels = { "org.opencontainers.image.title" = "Demo", a = "1" }
annotations = { "org.example.note" = "x" }
stop_signal = "SIGINT"

[image.env]
PATH = "/usr/bin:/bin"
LANG = "C.UTF-8"
"""
    )
    image = spec.image
    assert image.user == "1000"
    assert image.workdir == "/srv"
    assert image.ports == ("8080/tcp", "53/udp", "443/tcp")
    assert image.volumes == ("/data",)
    assert image.labels == (("a", "1"), ("org.opencontainers.image.title", "Demo"))
    assert image.annotations == (("org.example.note", "x"),)
    assert image.stop_signal == "SIGINT"
    assert image.env == (("LANG", "C.UTF-8"), ("PATH", "/usr/bin:/bin"))


def test_numeric_stop_signal_and_realtime_signal() -> None:
    assert spec_of("stop_signal = 15\n").image.stop_signal == "15"
    assert spec_of('stop_signal = "SIGRTMIN+3"\n').image.stop_signal == "SIGRTMIN+3"


def test_retagged_replaces_name_and_version() -> None:
    spec = spec_of().retagged(name="reg/x", version="2")
    assert spec.image.reference == "reg/x:2"
    assert spec_of().retagged(version="3").image.reference == "demo:3"
