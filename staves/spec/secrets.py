"""Passwords written into the spec's URLs. They travel in the build plan (the builder's
command line) and Portage prints them, so the build warns about each one."""

import re

from staves.spec.model import Spec

# scheme://user:password@…, the userinfo part with a password in it.
_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:[^/?#@\s]+@")


def has_password(value: str) -> bool:
    return _URL_WITH_PASSWORD.search(value) is not None


def keys_with_passwords(spec: Spec) -> list[str]:
    """The spec keys whose values hold a URL with a password, as errors name keys."""
    repos = enumerate(spec.repositories)
    found = [f"repositories[{i}].uri" for i, repo in repos if has_password(repo.uri)]
    found += [f"env.{key}" for key, value in spec.make_conf if has_password(value)]
    found += [
        f"env.{env.name}.{key}"
        for env in spec.envs
        for key, value in env.variables
        if has_password(value)
    ]
    return found
