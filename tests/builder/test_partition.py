"""The partition phase: each builder's binary packages under its own key, the builder's and
the image's apart."""

from pathlib import Path

from staves.builder.partition import binpkg_dirs, builder_key, profile_name


def test_the_builders_and_the_images_packages_are_apart_under_the_builders_key() -> None:
    builder, image = binpkg_dirs("/var/cache/binpkgs/env-0123", "x86_64-pc-linux-gnu.p.cc-12")
    assert builder == "/var/cache/binpkgs/x86_64-pc-linux-gnu.p.cc-12/builder"
    assert image == "/var/cache/binpkgs/x86_64-pc-linux-gnu.p.cc-12/image-env-0123"


def test_the_profile_is_named_as_its_repository_names_it(tmp_path: Path) -> None:
    profile = tmp_path / "repo/profiles/default/linux/amd64/23.0"
    profile.mkdir(parents=True)
    (tmp_path / "etc/portage").mkdir(parents=True)
    (tmp_path / "etc/portage/make.profile").symlink_to(profile)
    assert profile_name(str(tmp_path / "etc/portage")) == "default/linux/amd64/23.0"
    # A make.profile directory of its own is named by what it holds.
    (tmp_path / "etc/portage/make.profile").unlink()
    (tmp_path / "etc/portage/make.profile").mkdir()
    (tmp_path / "etc/portage/make.profile/make.defaults").write_text('ARCH="amd64"\n')
    assert profile_name(str(tmp_path / "etc/portage")).startswith("local-")


def test_the_key_is_chost_profile_and_compiler_made_safe_for_a_path() -> None:
    key = builder_key({"CHOST": "x86_64-pc-linux-gnu", "CC": "no-such-compiler"})
    assert key.startswith("x86_64-pc-linux-gnu.") and key.endswith(".cc-none")
    assert "/" not in key
