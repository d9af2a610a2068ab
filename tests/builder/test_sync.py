"""The sync phase: which repositories sync how, and the tools a builder must get first."""

import shutil

import pytest

from staves.builder.sync import missing_sync_tools, sync_types

REPOS = {
    "/etc/portage/repos.conf/staves": (
        "[overlay]\nlocation = /var/db/repos/overlay\nsync-type = git\nsync-uri = x\n"
        "[mirror]\nlocation = /var/db/repos/mirror\nsync-type = rsync\nsync-uri = y\n"
        "[local]\nlocation = /var/db/repos/local\n"
    ),
    "/etc/portage/make.conf": "ignored\n",
}


def test_sync_types_come_from_the_plans_repos_conf() -> None:
    assert sync_types({"files": REPOS}) == {"overlay": "git", "mirror": "rsync", "local": ""}


def test_only_the_tools_of_repositories_to_sync_that_the_builder_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    present = {"rsync"}  # a stage3 has rsync, not git
    monkeypatch.setattr(
        shutil, "which", lambda tool: f"/usr/bin/{tool}" if tool in present else None
    )
    plan = {"files": REPOS, "sync": ["overlay", "mirror", "local"]}
    assert missing_sync_tools(plan) == [("git", "dev-vcs/git")]
    assert missing_sync_tools({**plan, "sync": ["mirror"]}) == []
    present.add("git")
    assert missing_sync_tools(plan) == []
