"""The spec's user against the image's own /etc/passwd and /etc/group."""

import pytest

from staves.build.accounts import Accounts, accounts_in, user_problem

PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/var/empty:/bin/false\n"
GROUP = "root:x:0:root\nnobody:x:65534:\n"


def test_accounts_come_from_the_images_passwd_and_group() -> None:
    accounts = accounts_in(PASSWD.encode(), GROUP.encode())
    assert accounts == Accounts(frozenset({"root", "nobody"}), frozenset({"root", "nobody"}))
    assert accounts_in(None, None) == Accounts(frozenset(), frozenset())


@pytest.mark.parametrize(
    ("user", "problem"),
    [
        ("nobody", None),
        ("nobody:nobody", None),
        ("1000", None),
        ("1000:1000", None),
        ("nobody:1000", None),
        ("webd", "the image's /etc/passwd has no user 'webd'"),
        ("nobody:webd", "the image's /etc/group has no group 'webd'"),
    ],
)
def test_names_need_entries_numeric_ids_do_not(user: str, problem: str | None) -> None:
    accounts = accounts_in(PASSWD.encode(), GROUP.encode())
    assert user_problem(user, accounts) == problem


def test_an_image_without_passwd_has_no_named_user() -> None:
    assert user_problem("nobody", accounts_in(None, None)) is not None
