"""The provenance statement from what the builder recorded: pure, so checked directly."""

import base64
import hashlib
import json

from staves.gentoo.provenance import ProvenanceSubject, build_provenance
from staves.gentoo.sbom import ImageInput

SOURCES = {
    "repositories": [
        {"name": "gentoo", "location": "/var/db/repos/gentoo", "revision": "abc123"},
        {"name": "local", "location": "/var/db/repos/local", "revision": None},
    ],
    "packages": [
        {
            "cpv": "app-misc/a-1",
            "repository": "gentoo",
            "revisions": {"gentoo": "abc123"},
            "distfiles": [
                {"name": "shared.tar.gz", "size": 5, "digests": {"BLAKE2B": "bb", "SHA512": "ss"}}
            ],
        },
        {
            "cpv": "app-misc/b-1",
            "repository": "local",
            "revisions": {},
            "distfiles": [
                {"name": "shared.tar.gz", "size": 5, "digests": {"BLAKE2B": "bb", "SHA512": "ss"}},
                {"name": "unlisted.tar.gz"},
            ],
        },
    ],
}
PLAN = {
    "files": {"/etc/portage/package.use/staves": "app-misc/a x\n"},
    "append": {"/etc/portage/make.conf": 'CFLAGS="-O2"\n'},
    "packages": ["app-misc/a", "app-misc/b"],
}


def statement() -> dict:
    return build_provenance(
        ProvenanceSubject("app:1", "sha256:" + "1" * 64),
        [ImageInput("builder", "b:latest", "sha256:" + "2" * 64), ImageInput("snapshot", "s")],
        SOURCES,
        PLAN,
        "linux/amd64",
        "9.9",
    )


def test_every_source_is_a_resolved_dependency_once() -> None:
    deps = {
        d["name"]: d for d in statement()["predicate"]["buildDefinition"]["resolvedDependencies"]
    }
    assert deps["builder"] == {
        "name": "builder",
        "uri": "docker://b:latest",
        "digest": {"sha256": "2" * 64},
    }
    assert "digest" not in deps["snapshot"]  # a local image without a repository digest
    assert deps["repository:gentoo"]["digest"] == {"gitCommit": "abc123"}
    assert "digest" not in deps["repository:local"]
    assert deps["shared.tar.gz"]["digest"] == {"blake2b": "bb", "sha512": "ss"}
    assert deps["shared.tar.gz"]["annotations"] == {
        "size": 5,
        "packages": ["app-misc/a-1", "app-misc/b-1"],
    }
    assert deps["unlisted.tar.gz"] == {
        "name": "unlisted.tar.gz",
        "annotations": {"packages": ["app-misc/b-1"]},
    }


def test_the_portage_configuration_is_there_with_its_digest() -> None:
    deps = {
        d["name"]: d for d in statement()["predicate"]["buildDefinition"]["resolvedDependencies"]
    }
    content = base64.b64decode(deps["portage-configuration"]["content"])
    assert deps["portage-configuration"]["digest"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert json.loads(content) == {"files": PLAN["files"], "append": PLAN["append"]}
