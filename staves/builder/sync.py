"""Sync phase: the spec's repositories that ask for it, with the tools their sync types
need emerged into the builder first (a stage3 has rsync, not git)."""

import configparser
import shutil

from .builder_tools import install_builder_tool
from .console import fail, run
from .places import BUILDER_PORTAGE

# The tool each sync type runs, and the package that installs it; a stage3 has only rsync.
SYNC_TOOLS = {
    "git": ("git", "dev-vcs/git"),
    "mercurial": ("hg", "dev-vcs/mercurial"),
    "svn": ("svn", "dev-vcs/subversion"),
    "cvs": ("cvs", "dev-vcs/cvs"),
    "rsync": ("rsync", "net-misc/rsync"),
}


def sync_types(plan: dict) -> dict[str, str]:
    """Repository name -> sync type, from the repos.conf files of the plan."""
    types = {}
    for name, text in plan["files"].items():
        if name.startswith(f"{BUILDER_PORTAGE}/repos.conf/"):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            for section in parser.sections():
                types[section] = parser[section].get("sync-type", "")
    return types


def missing_sync_tools(plan: dict) -> list[tuple[str, str]]:
    """(tool, package) for each tool the plan's syncs need that the builder lacks."""
    types = sync_types(plan)
    needed = sorted(
        {SYNC_TOOLS[kind] for repo in plan["sync"] if (kind := types.get(repo)) in SYNC_TOOLS}
    )
    return [(tool, package) for tool, package in needed if shutil.which(tool) is None]


def install_sync_tools(plan: dict, binpkg_options: list[str]) -> int:
    """Emerge into the builder the tools its syncs need and it lacks (a stage3 has no git);
    0 when every tool is there."""
    for tool, package in missing_sync_tools(plan):
        if code := install_builder_tool(tool, package, "syncing", binpkg_options):
            return code
    return 0


def sync_repositories(plan: dict) -> int:
    for repo in plan["sync"]:
        if run(["emaint", "sync", "--repo", repo]) != 0:
            fail(f"syncing repository {repo} failed; see above")
            return 1
    return 0
