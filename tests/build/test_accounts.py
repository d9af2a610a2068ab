"""The spec's user against the image's own /etc/passwd and /etc/group."""

import io
import tarfile

import pytest

from staves.build.accounts import Accounts, read_accounts, user_problem

PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/var/empty:/bin/false\n"
GROUP = "root:x:0:root\nnobody:x:65534:\n"


def etc_tar(files: dict[str, str]) -> io.BytesIO:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("etc"))
        for name, text in files.items():
            info = tarfile.TarInfo(f"etc/{name}")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    data.seek(0)
    return data


def test_accounts_come_from_the_etc_archive() -> None:
    accounts = read_accounts(etc_tar({"passwd": PASSWD, "group": GROUP, "shadow": "x"}))
    assert accounts == Accounts(frozenset({"root", "nobody"}), frozenset({"root", "nobody"}))
    assert read_accounts(etc_tar({})) == Accounts(frozenset(), frozenset())


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
    accounts = read_accounts(etc_tar({"passwd": PASSWD, "group": GROUP}))
    assert user_problem(user, accounts) == problem


def test_an_image_without_passwd_has_no_named_user() -> None:
    assert user_problem("nobody", read_accounts(etc_tar({}))) is not None
