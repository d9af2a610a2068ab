"""The configure phase: the snapshot's epoch, and the image root's own Portage
configuration laid out from the builder's with the spec's files on top."""

from pathlib import Path

import pytest

from staves.builder.configure import (
    BASELAYOUT,
    configure_builder,
    configure_image_root,
    configure_image_shape,
    link_snapshot,
    snapshot_epoch,
)
from staves.builder.plan import PlanError
from staves.builder.protocol import TIMESTAMP_FILE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 30 Nov 2026 00:45:01 +0000\n", 1_795_999_501),  # as Gentoo's snapshots write it
        ("Sun, 01 Dec 2024 01:45:01 +0100", 1_733_013_901),
        ("yesterday", None),
        ("Mon, 30 Nov 2026 00:45:01", None),  # no zone: no single moment
    ],
)
def test_the_snapshot_epoch_is_its_timestamp_chk(tmp_path, text: str, expected) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / TIMESTAMP_FILE).write_text(text)
    assert snapshot_epoch(tmp_path) == expected


def test_a_snapshot_without_timestamp_chk_gives_no_epoch(tmp_path) -> None:
    assert snapshot_epoch(tmp_path) is None


def builder_portage(tmp_path: Path) -> Path:
    """A builder's /etc/portage: make.conf, a relative make.profile link, a repos.conf."""
    profiles = tmp_path / "repo/profiles/default/linux/amd64/23.0"
    profiles.mkdir(parents=True)
    portage = tmp_path / "etc/portage"
    (portage / "repos.conf").mkdir(parents=True)
    (portage / "make.conf").write_text('COMMON_FLAGS="-O2"\n')
    (portage / "repos.conf/gentoo.conf").write_text("[gentoo]\nlocation = /repo\n")
    (portage / "make.profile").symlink_to("../../repo/profiles/default/linux/amd64/23.0")
    return portage


def test_the_image_configuration_is_the_builders_with_the_specs_files_on_top(
    tmp_path: Path,
) -> None:
    source = builder_portage(tmp_path)
    config_root = tmp_path / "image-config"
    plan = {
        "files": {"/etc/portage/package.use/staves": "app-misc/hello shout\n"},
        "append": {"/etc/portage/make.conf": 'USE="-nls"\n'},
        "install_mask": ["/usr/share/locale"],
    }
    configure_image_root(plan, "/pkgdir/image", str(source), str(config_root))
    configure_image_shape(plan, str(config_root))
    target = config_root / "etc/portage"
    make_conf = (target / "make.conf").read_text()
    assert make_conf.startswith('COMMON_FLAGS="-O2"\n')
    assert 'PKGDIR="/pkgdir/image"' in make_conf and 'USE="-nls"' in make_conf
    assert "/usr/include" in make_conf and "/usr/share/locale" in make_conf  # INSTALL_MASK
    assert 'FEATURES="${FEATURES} -preserve-libs"' in make_conf
    assert 'CONFIG_PROTECT_MASK="/"' in make_conf
    assert (target / "package.use/staves").read_text() == "app-misc/hello shout\n"
    assert (target / "package.use/zz-staves-baselayout").read_text() == f"{BASELAYOUT} build\n"
    # The profile link is absolute: a relative one would point into the config root.
    link = target / "make.profile"
    assert link.is_symlink() and Path(link.readlink()).is_absolute()
    assert link.resolve() == (tmp_path / "repo/profiles/default/linux/amd64/23.0").resolve()
    # The builder's own configuration is untouched.
    assert (source / "make.conf").read_text() == 'COMMON_FLAGS="-O2"\n'
    # A second run starts again from the builder's, not from the last image's.
    configure_image_root({**plan, "append": {}}, "/pkgdir/image", str(source), str(config_root))
    assert 'USE="-nls"' not in (target / "make.conf").read_text()


def test_the_snapshot_is_linked_where_portage_expects_it(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    (snapshot / "var/db/repos/gentoo/profiles").mkdir(parents=True)
    repo = tmp_path / "builder/var/db/repos/gentoo"
    link_snapshot(str(snapshot), str(repo))
    assert repo.resolve() == (snapshot / "var/db/repos/gentoo").resolve()
    repo.unlink()
    repo.mkdir()
    (repo / "an-ebuild").write_text("")
    with pytest.raises(PlanError, match="not empty"):
        link_snapshot(str(snapshot), str(repo))


@pytest.mark.parametrize("shared", [False, True])
def test_shared_credentials_are_kept_from_the_unprivileged_phases(
    tmp_path: Path, shared: bool
) -> None:
    portage = builder_portage(tmp_path)
    home, run = tmp_path / "root", tmp_path / "run-staves"
    for directory in (home, run):
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
    plan = {"jobs": 3, "files": {}, "credentials": shared}
    configure_builder(plan, "/pkgdir/builder", str(portage), (str(home), str(run)))
    features = (portage / "make.conf").read_text().split("FEATURES=", 1)[1]
    # With credentials shared, src_unpack..src_test run as portage, who cannot reach them.
    assert (" userpriv " in features) == shared and (" -userpriv " in features) != shared
    assert " -userfetch -usersync " in features  # fetching and syncing use them, as root
    modes = {(d.stat().st_mode & 0o777) for d in (home, run)}
    assert modes == ({0o700} if shared else {0o755})
