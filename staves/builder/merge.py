"""Merge phase: emerge into the image root with its own configuration — the skeleton, the
C library, then the spec's packages — and the builder's libraries brought level with the
image's before anything is compiled against them."""

import sys
from pathlib import Path

from .configure import BASELAYOUT
from .console import run, say
from .failures import report_failure
from .places import IMAGE_CONFIG_ROOT
from .portage_query import repositories_have
from .resolve import drifting_build_libraries, image_merge_list


def binpkg_options(plan: dict) -> list[str]:
    """Binary packages are used whenever they fit and every package built is kept as one;
    with ``getbinpkg``, every emerge into either root fetches what its binhosts have."""
    return ["--usepkg", "--buildpkg", *(["--getbinpkg"] if plan["getbinpkg"] else [])]


def emerge(args: list[str]) -> None:
    code = run(["emerge", "--color=n", "--verbose", "--quiet-build=n", *args])
    if code != 0:
        sys.exit(report_failure(code))


def emerge_into_image(root: Path, atoms: list[str], options: list[str]) -> None:
    """Emerge into the image root with its own configuration; build dependencies resolve
    in the builder (EAPI 7+: DEPEND in SYSROOT=/, BDEPEND in /) with the builder's."""
    emerge([*options, f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}", *atoms])


def lay_out_skeleton(root: Path, options: list[str]) -> None:
    """The filesystem skeleton from the repository's baselayout, merged with USE=build.

    As for a Gentoo stage: merged-usr links and library directories as the profile says,
    /tmp, /etc/passwd and /etc/group (root, nobody) that acct-user packages extend, and
    /etc/os-release. A repository without baselayout gets an empty root, as Portage does.
    """
    if not repositories_have(root, BASELAYOUT):
        say(f"the repositories have no {BASELAYOUT}; the root gets no filesystem skeleton")
        return
    say(f"the filesystem skeleton ({BASELAYOUT}, USE=build) into {root}")
    emerge_into_image(root, ["--oneshot", BASELAYOUT], options)


def emerge_c_library(root: Path, options: list[str]) -> None:
    """virtual/libc into the image root before anything else.

    Portage adds ">=" the root's libc provider to every binary package's RDEPEND, and
    tells a binary package's dependencies unchanged only by stripping the libc provider it
    finds installed in the root when it starts computing: in an empty root it finds none,
    and every binary package would look built against other dependencies.
    """
    say(f"the C library into {root}")
    emerge_into_image(root, ["--oneshot", "virtual/libc"], options)


def update_builder(atoms: list[str], options: list[str]) -> None:
    """Bring the builder's copies of the image's libraries to the image's versions."""
    if atoms:
        say("the builder's copies of libraries the image gets, at the image's versions")
        emerge([*options, "--oneshot", *atoms])


def emerge_packages(
    root: Path, packages: list[str], env_atoms: list[str], known_binary: bool, options: list[str]
) -> bool:
    """The spec's packages and their runtime dependencies into the image root; those in
    ``env_atoms`` are compiled even when a binary package fits. Whether every package
    merged was a binary package: then nothing was compiled against the builder's
    libraries, and nothing could have drifted."""
    exclude = [f"--usepkg-exclude={' '.join(env_atoms)}"] if env_atoms else []
    if known_binary and not env_atoms:
        say("as in the last build here, which compiled nothing: no drift check needed")
        all_binary = True
    else:
        merges = image_merge_list(root, [*exclude, *packages], options)
        update_builder(drifting_build_libraries(merges), options)
        all_binary = all(how == "binary" for how, _ in merges)
    say(f"packages into {root}")
    emerge_into_image(root, ["--oneshot", *exclude, *packages], options)
    return all_binary
