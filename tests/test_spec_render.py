"""Rendering Portage files from a spec, read back by Portage's own rules."""

import configparser

from staves.spec import build_plan, image_config, render_portage
from tests.makeconf_reader import read_make_conf
from tests.portage_support import portage_getconfig, requires_portage
from tests.spec_text import spec_of

FULL = """
stdlib = true
locale = { name = "en_US.UTF-8" }

[env]
FEATURES = "${FEATURES} -ipc-sandbox"
GREETING = 'say "hi" for $5 \\ ok'

[env.debug]
CFLAGS = "-O0 -g"

['=dev-libs/foo-1.2']
use = ["ssl", "-nls"]
env = ["debug"]
keywords = ["~amd64"]
license = ["@BINARY-REDISTRIBUTABLE"]
unmask = true

['app-misc/hello']
use = ["shout"]
mask = true

[[repositories]]
name = "guru"
type = "git"
uri = "https://example.org/guru%20.git"
"""


def test_render_every_file() -> None:
    portage = render_portage(spec_of(FULL))
    bodies = {path: _body(text) for path, text in portage.files.items()}
    assert bodies == {
        "/etc/portage/package.use/staves": "=dev-libs/foo-1.2 ssl -nls\napp-misc/hello shout\n",
        "/etc/portage/package.env/staves": "=dev-libs/foo-1.2 debug\n",
        "/etc/portage/package.accept_keywords/staves": "=dev-libs/foo-1.2 ~amd64\n",
        "/etc/portage/package.license/staves": "=dev-libs/foo-1.2 @BINARY-REDISTRIBUTABLE\n",
        "/etc/portage/package.unmask/staves": "=dev-libs/foo-1.2\n",
        "/etc/portage/package.mask/staves": "app-misc/hello\n",
        "/etc/portage/env/debug": 'CFLAGS="-O0 -g"\n',
        "/etc/portage/repos.conf/guru": (
            "[guru]\nlocation = /var/db/repos/guru\nsync-type = git\n"
            "sync-uri = https://example.org/guru%%20.git\nauto-sync = yes\n"
        ),
    }
    assert list(portage.append) == ["/etc/portage/make.conf"]


def test_minimal_spec_renders_nothing() -> None:
    portage = render_portage(spec_of())
    assert portage.files == {}
    assert portage.append == {}


def test_make_conf_append_reads_back() -> None:
    text = render_portage(spec_of(FULL)).append["/etc/portage/make.conf"]
    assert text.startswith("\n")
    assert read_make_conf(text) == {
        "FEATURES": "${FEATURES} -ipc-sandbox",
        "GREETING": 'say "hi" for $5 \\ ok',
    }


@requires_portage
def test_make_conf_append_reads_back_with_portage() -> None:
    text = render_portage(spec_of(FULL)).append["/etc/portage/make.conf"]
    existing = 'FEATURES="sandbox"\n'
    assert portage_getconfig(existing + text) == {
        "FEATURES": "sandbox -ipc-sandbox",
        "GREETING": 'say "hi" for $5 \\ ok',
    }


def test_repos_conf_reads_back_with_interpolation() -> None:
    text = render_portage(spec_of(FULL)).files["/etc/portage/repos.conf/guru"]
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["guru"]["sync-uri"] == "https://example.org/guru%20.git"
    assert parser["guru"]["sync-type"] == "git"
    assert parser["guru"]["location"] == "/var/db/repos/guru"


def test_build_plan_shape() -> None:
    spec = spec_of(FULL)
    plan = build_plan(spec, 4)
    assert plan == {
        "files": render_portage(spec).files,
        "append": render_portage(spec).append,
        "sync": ["guru"],
        "packages": ["app-misc/hello"],
        "jobs": 4,
        "root": "/tmp/rootfs",
        "stdlib": True,
        "locale": {"name": "en_US.UTF-8", "charset": "UTF-8"},
        "install_mask": [],
        "binhosts": [],
    }


def test_image_config_is_oci_like() -> None:
    spec = spec_of(
        'command = "/bin/sh -c"\ncmd = ["echo hi"]\nuser = "nobody"\nworkdir = "/w"\n'
        'ports = [80]\nvolumes = ["/v"]\nlabels = { b = "2", a = "1" }\nstop_signal = "SIGINT"\n'
        '[image.env]\nZ = "z"\nA = "a=b"\n'
    )
    assert image_config(spec.image) == {
        "User": "nobody",
        "ExposedPorts": {"80/tcp": {}},
        "Env": ["A=a=b", "Z=z"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["echo hi"],
        "Volumes": {"/v": {}},
        "WorkingDir": "/w",
        "Labels": {"a": "1", "b": "2"},
        "StopSignal": "SIGINT",
    }
    assert image_config(spec_of().image) == {}


def _body(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))


def test_accept_license_goes_first_into_package_license_not_make_conf() -> None:
    spec = spec_of(
        'accept_license = ["-*", "@FREE", "-GPL-3"]\n'
        "['app-misc/hello']\nlicense = [\"Test-Redistributable\"]\n"
    )
    files = render_portage(spec)
    lines = files.files["/etc/portage/package.license/staves"].splitlines()
    # Portage folds "*/*" into ACCEPT_LICENSE, then applies the per-package lines.
    assert lines[1:] == ["*/* -* @FREE -GPL-3", "app-misc/hello Test-Redistributable"]
    assert files.append == {}  # make.conf, which keys the binary packages, is left alone
