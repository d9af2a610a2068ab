"""The SLSA v1 provenance of a built image: what it was made from, as an in-toto Statement.

The builder image and the Portage snapshot (by digest), every repository with the
revision Portage read (git HEAD, or the snapshot's ``metadata/timestamp.commit``), every
distfile a package of the image was built from with the digests its Manifest gives, and
the rendered Portage configuration (digest and content) and each user patch (sha256) go into
``buildDefinition.resolvedDependencies``; the spec's packages, the image name and the
platform are the ``externalParameters``. Pure: no clock (no start or end time, so that the
same build gives the same statement), no IO.
"""

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from staves.gentoo.sbom import ImageInput

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:staves:build:v1"  # documented in the README's provenance section
BUILDER_ID = "urn:staves:builder"
# Manifest hash names → the in-toto digest set's names.
_DIGEST_NAMES = {"BLAKE2B": "blake2b", "SHA512": "sha512", "SHA256": "sha256", "SHA1": "sha1"}


@dataclass(frozen=True)
class ProvenanceSubject:
    name: str
    digest: str  # sha256:…


def _digest_set(digest: str) -> dict[str, str]:
    algorithm, _, value = digest.partition(":")
    return {algorithm: value}


def image_dependency(image: ImageInput) -> dict[str, Any]:
    out: dict[str, Any] = {"name": image.role, "uri": f"docker://{image.reference}"}
    if image.digest:
        out["digest"] = _digest_set(image.digest)
    return out


def repository_dependencies(repositories: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One per repository, with the revision it was at (``gitCommit``) when known."""
    out = []
    for repo in repositories:
        entry: dict[str, Any] = {"name": f"repository:{repo.get('name')}"}
        revision = repo.get("revision")
        if isinstance(revision, str) and revision:
            entry["digest"] = {"gitCommit": revision}
        out.append(entry)
    return out


def distfile_dependencies(packages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One per distfile, with the Manifest's digests and the packages built from it."""
    found: dict[str, dict[str, Any]] = {}
    for package in packages:
        for distfile in package.get("distfiles") or []:
            name = str(distfile.get("name"))
            entry = found.setdefault(name, {"name": name, "annotations": {"packages": []}})
            digests = {
                _DIGEST_NAMES[k]: v
                for k, v in (distfile.get("digests") or {}).items()
                if k in _DIGEST_NAMES
            }
            if digests:
                entry["digest"] = digests
            if "size" in distfile:
                entry["annotations"]["size"] = distfile["size"]
            entry["annotations"]["packages"].append(package.get("cpv"))
    return [found[name] for name in sorted(found)]


def configuration_dependency(files: Mapping[str, str], append: Mapping[str, str]) -> dict[str, Any]:
    """The rendered Portage files (whole files and make.conf additions) as one document."""
    document = json.dumps(
        {"files": dict(sorted(files.items())), "append": dict(sorted(append.items()))},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return {
        "name": "portage-configuration",
        "mediaType": "application/json",
        "digest": {"sha256": hashlib.sha256(document).hexdigest()},
        "content": base64.b64encode(document).decode(),
    }


def patch_dependencies(patches: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One per user patch of the spec: where eapply_user found it, its sha256, the path
    the spec gives and the table (atom) that gives it."""
    return [
        {
            "name": f"patch:{patch.get('directory')}/{patch.get('name')}",
            "digest": {"sha256": patch.get("sha256")},
            "annotations": {"source": patch.get("source"), "atom": patch.get("atom")},
        }
        for patch in patches
    ]


def package_revisions(packages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What Portage recorded for each package merged: its repository and revisions,
    ``origin: builder`` for a package the builder's installed copy gave, and the user
    patches it was built with."""
    return [
        {
            "package": package.get("cpv"),
            "repository": package.get("repository"),
            "revisions": dict(sorted((package.get("revisions") or {}).items())),
            **({"origin": "builder"} if package.get("origin") == "builder" else {}),
            **({"patches": package["patches"]} if package.get("patches") else {}),
        }
        for package in packages
    ]


def build_provenance(
    subject: ProvenanceSubject,
    images: Sequence[ImageInput],
    sources: Mapping[str, Any],
    plan: Mapping[str, Any],
    platform: str,
    version: str,
) -> dict[str, Any]:
    """The in-toto Statement (SLSA provenance v1) for ``subject``.

    ``sources`` is what the in-builder script recorded (``repositories``, ``packages``);
    ``plan`` the build plan (``files``, ``append``, ``packages``).
    """
    packages = list(sources.get("packages") or [])
    dependencies = [
        *(image_dependency(image) for image in images),
        *repository_dependencies(sources.get("repositories") or []),
        configuration_dependency(plan.get("files") or {}, plan.get("append") or {}),
        *patch_dependencies(plan.get("patches") or []),
        *distfile_dependencies(packages),
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject.name, "digest": _digest_set(subject.digest)}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "image": subject.name,
                    "packages": list(plan.get("packages") or []),
                    "platform": platform,
                },
                "internalParameters": {"merged": package_revisions(packages)},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": {"staves": version}},
                "metadata": {},
            },
        },
    }
