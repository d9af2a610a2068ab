"""Grammars for the small names in a spec: USE flags, variables, files, images.

Each check returns ``None`` when the text is fine, or a short reason.
"""

import re

from staves.gentoo.atom import is_repository_name

USE_FLAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9+_@-]*")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIABLE_HINT = "letters, digits and _, not starting with a digit"
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
KEYWORD = re.compile(r"-?~?[A-Za-z0-9_][A-Za-z0-9_-]*|\*\*|~?\*|-\*")
LICENSE = re.compile(r"-?@?[A-Za-z0-9_][A-Za-z0-9+_.-]*|-?\*")
LOCALE = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)?(?:@[A-Za-z0-9_]+)?")
CHARSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# OCI distribution reference grammar (name part, tag).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
IMAGE_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
TAG_HINT = "up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
NAME_HINT = 'lowercase [REGISTRY[:PORT]/]PATH, e.g. "ghcr.io/me/bash"'


def control_character(text: str) -> str | None:
    """The first control character in ``text``, escaped, or ``None``."""
    match = _CONTROL.search(text)
    return None if match is None else repr(match.group())[1:-1]


def file_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a file name under a Portage directory, if it can't."""
    if char := control_character(name):
        return f"contains the control character {char}"
    if "/" in name:
        return "contains '/'"
    if ".." in name:
        return "contains '..'"
    if not FILE_NAME.fullmatch(name):
        return "is not a plain file name"
    return None


def repository_name_problem(name: str) -> str | None:
    """Why ``name`` is not a repository name (PMS 3.1.5 as Portage reads it), if it isn't."""
    if name == "DEFAULT":
        return "is reserved by repos.conf"
    if problem := file_name_problem(name):
        return problem
    if not is_repository_name(name):
        return "is not a repository name"
    return None


def image_name_problem(name: str) -> str | None:
    """Why ``name`` is not an image reference without tag, if it isn't."""
    if len(name) > 255:
        return "is longer than 255 characters"
    if not IMAGE_NAME.fullmatch(name):
        return "is not an image name"
    return None


def split_reference(reference: str) -> tuple[str, str | None]:
    """Split ``NAME[:TAG]``; a colon before the last slash belongs to a port."""
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, None


def reference_problem(reference: str) -> tuple[str, str] | None:
    """What is wrong with ``NAME[:TAG]``, and what is accepted. A digest (``@…``) leaves
    the name invalid: what staves names (a docker-archive's RepoTags, an image loaded into
    Podman's storage) takes a tag only."""
    name, tag = split_reference(reference)
    if (problem := image_name_problem(name)) is not None:
        return f"{name!r} {problem}", NAME_HINT
    if tag is not None and not IMAGE_TAG.fullmatch(tag):
        return f"{tag!r} is not an image tag", TAG_HINT
    return None
