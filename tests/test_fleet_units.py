"""The pieces of a fleet that need no Podman: ``[[binhosts]]`` and ``--binhost``, the
binrepos.conf sections, which cache files travel and under which names, the cache artifact,
and ssh:// URLs."""

import configparser
import json
import re
from pathlib import Path

import pytest

from oci.bundle import BundleFile, build_bundle, bundle_layers, file_blob_from_stream
from oci.registry import RegistryOptions
from staves.builder.partition import binrepo_section
from staves.commands.fleet_options import cache_source, with_binhosts
from staves.errors import StavesError
from staves.gentoo.binpkgs import (
    ANNOTATION_BUILD_ID,
    ANNOTATION_CPV,
    ARTIFACT_TYPE,
    GPKG_MEDIA_TYPE,
    cache_file,
)
from staves.podman.ssh_forward import SshUrl, parse_ssh_url, ssh_argv
from staves.spec import SpecErrors, build_plan, loads_spec
from tests.spec_text import BASE

KEY = "x86_64-pc-linux-gnu.default_linux_amd64_23.0.cc-12.2.0"


def test_binhosts_go_into_the_plan() -> None:
    spec = loads_spec(
        BASE
        + '[[binhosts]]\nname = "team"\nuri = "https://bin.example.org/staves"\npriority = 10\n'
    )
    (host,) = build_plan(spec, 1)["binhosts"]
    assert host == {
        "name": "team",
        "uri": "https://bin.example.org/staves",
        "priority": 10,
        "verify_signature": False,
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[binhosts]]\nname = "t"\nuri = "file:///srv"\n',
            'binhosts[0].uri: "file:///srv" is not',
        ),
        ('[[binhosts]]\nname = "t"\n', "binhosts[0].uri: missing; a binhost needs name and uri"),
        ('[[binhosts]]\nname = "-t"\nuri = "http://h"\n', 'binhosts[0].name: "-t"'),
        ('[[binhosts]]\nname = "t"\nuri = "http://h"\npriority = "1"\n', "binhosts[0].priority"),
        ('[[binhosts]]\nname = "t"\nuri = "http://h"\nsync = 1\n', "binhosts[0].sync: unknown"),
        ('binhost = "http://h"\n', "binhost: unknown key; did you mean [[binhosts]]?"),
    ],
)
def test_binhost_mistakes_are_one_line(extra: str, expected: str) -> None:
    text = extra + BASE if not extra.startswith("[[") else BASE + extra
    with pytest.raises(SpecErrors) as caught:
        loads_spec(text)
    (line,) = str(caught.value).splitlines()
    assert line.startswith("staves.toml: " + expected), line


def test_cli_binhosts_come_after_the_spec_and_turn_fetching_on() -> None:
    plan = {"binhosts": [{"name": "team", "uri": "http://a", "priority": 0}]}
    merged = with_binhosts(plan, ["http://127.0.0.1:8000"], None)
    assert [h["name"] for h in merged["binhosts"]] == ["team", "binhost-1"]
    assert merged["getbinpkg"] is True
    assert with_binhosts({"binhosts": []}, [], None)["getbinpkg"] is False
    # --getbinpkg alone: the builder's own binrepos.conf (a stage3's official binhost).
    assert with_binhosts({"binhosts": []}, [], True)["getbinpkg"] is True
    assert with_binhosts(plan, [], False)["getbinpkg"] is False
    with pytest.raises(StavesError, match="--binhost"):
        with_binhosts(plan, ["ftp//nohost"], None)


def test_each_root_asks_the_binhost_for_its_own_partition() -> None:
    host = {"name": "team", "uri": "http://bin/x/", "priority": 5, "verify_signature": True}
    for partition in ("builder", "image-env-0123456789abcdef"):
        text = binrepo_section(host, Path(f"/var/cache/binpkgs/{KEY}/{partition}"))
        parser = configparser.ConfigParser()
        parser.read_string(text)
        section = parser["team"]
        assert section["sync-uri"] == f"http://bin/x/{KEY}/{partition}"
        # Fetched packages stay in the cache volume, apart from the partition itself.
        assert section["location"] == f"/var/cache/binpkgs/{KEY}/binhost/team/{partition}"
        assert section["priority"] == "5" and section["verify-signature"] == "true"


def test_only_binary_packages_and_env_records_travel() -> None:
    package = cache_file(f"{KEY}/image-env-abc/app-misc/hello/hello-1.0-r1-3.gpkg.tar")
    assert package is not None and package.media_type == GPKG_MEDIA_TYPE
    assert package.annotations[ANNOTATION_CPV] == "app-misc/hello-1.0-r1"
    assert package.annotations[ANNOTATION_BUILD_ID] == "3"
    assert cache_file(f"{KEY}/builder/staves-package-env.json") is not None
    for path in (
        f"{KEY}/builder/Packages",  # Portage makes the index anew on the other side
        f"{KEY}/builder/dev-libs/x/x-1.gpkg.tar.partial",
        f"{KEY}/../etc/passwd.gpkg.tar",
        f"/{KEY}/builder/a/b/b-1.gpkg.tar",
        "etc/cron.d/evil/x-1.gpkg.tar.sh",
    ):
        assert cache_file(path) is None, path


def test_the_cache_artifact_names_every_package(tmp_path: Path) -> None:
    files = []
    for name, data in (("b/b/b-1-1.gpkg.tar", b"bb"), ("a/a/a-2-1.gpkg.tar", b"aa")):
        path = f"{KEY}/builder/{name}"
        kind = cache_file(path)
        assert kind is not None
        with (tmp_path / "src").open("wb") as out:
            out.write(data)
        with (tmp_path / "src").open("rb") as stream:
            blob = file_blob_from_stream(stream, tmp_path / "blobs" / path, kind.media_type)
        files.append(BundleFile(blob, path, kind.annotations))
    bundle = build_bundle(ARTIFACT_TYPE, files)
    manifest = json.loads(bundle.manifest.data)
    layers = bundle_layers(manifest, ARTIFACT_TYPE)
    titles = [layer["annotations"]["org.opencontainers.image.title"] for layer in layers]
    assert titles == sorted(titles)  # the same packages give the same manifest
    assert layers[0]["annotations"][ANNOTATION_CPV] == "a/a-2"
    assert build_bundle(ARTIFACT_TYPE, files[::-1]).manifest.digest == bundle.manifest.digest
    with pytest.raises(ValueError, match=re.escape(f"not {ARTIFACT_TYPE}")):
        bundle_layers({"layers": []}, ARTIFACT_TYPE)


def test_cache_references_are_registry_references() -> None:
    source = cache_source("--cache-to", "docker://127.0.0.1:5000/team/cache", RegistryOptions())
    assert source is not None and str(source.reference) == "127.0.0.1:5000/team/cache:latest"
    with pytest.raises(StavesError, match="docker://REGISTRY/REPOSITORY"):
        cache_source("--cache-from", "oci:./dir", RegistryOptions())


def test_ssh_urls_as_podman_remote_takes_them(tmp_path: Path) -> None:
    url = parse_ssh_url("ssh://core@build1.example.org:2222/run/user/1000/podman/podman.sock")
    assert url == SshUrl("core", "build1.example.org", 2222, "/run/user/1000/podman/podman.sock")
    argv = ssh_argv(url, tmp_path / "l.sock", "~/.ssh/id_ed25519", {"PATH": "/usr/bin:/bin"})
    assert argv[0] == "ssh" and argv[-2:] == ["--", "core@build1.example.org"]
    assert f"{tmp_path}/l.sock:/run/user/1000/podman/podman.sock" in argv
    assert "BatchMode=yes" in argv and "-p" in argv
    for bad in ("ssh://host", "ssh://u:pw@host/x.sock", "ssh://host:port/x", "tcp://h:1/x"):
        with pytest.raises(StavesError) as caught:
            parse_ssh_url(bad)
        assert caught.value.exit_code == 2
