"""Whether the image knows the user its config runs as: its own /etc/passwd and /etc/group.

``podman run`` looks a user or group *name* up in the image's files and fails when it is
absent; numeric ids need no entry. Checked after the build, before any output is written.
"""

from dataclasses import dataclass

from staves.errors import EXIT_USAGE, StavesError


@dataclass(frozen=True)
class Accounts:
    """The names in an image's /etc/passwd and /etc/group (empty when a file is absent)."""

    users: frozenset[str]
    groups: frozenset[str]


def names_in(text: str) -> frozenset[str]:
    """The first field of each ``name:...`` line of a passwd or group file."""
    return frozenset(
        line.split(":", 1)[0] for line in text.splitlines() if line and not line.startswith("#")
    )


def accounts_in(passwd: bytes | None, group: bytes | None) -> Accounts:
    """The accounts of an image's /etc/passwd and /etc/group (None: the file is absent)."""
    return Accounts(
        names_in((passwd or b"").decode("utf-8", "replace")),
        names_in((group or b"").decode("utf-8", "replace")),
    )


def user_problem(user: str, accounts: Accounts) -> str | None:
    """What the image lacks to run as ``user`` (``NAME``, ``UID``, ``NAME:GROUP``…), or None."""
    name, _, group = user.partition(":")
    if not name.isdigit() and name not in accounts.users:
        return f"the image's /etc/passwd has no user {name!r}"
    if group and not group.isdigit() and group not in accounts.groups:
        return f"the image's /etc/group has no group {group!r}"
    return None


def check_user(accounts: Accounts, user: str | None, spec_file: str | None) -> None:
    """The spec's ``user`` must be in the finished image's passwd (and group), since
    ``podman run`` looks names up there; fail before any output is written."""
    if not user:
        return
    problem = user_problem(user, accounts)
    if problem is not None:
        raise StavesError(
            problem,
            file=spec_file,
            key="user",
            hint="add the package that creates it (acct-user/NAME, acct-group/NAME) "
            "to packages, or give a numeric UID[:GID]",
            exit_code=EXIT_USAGE,
        )
