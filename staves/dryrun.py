"""What ``staves build --dry-run`` shows: the plan, as text or JSON."""

import json
from collections.abc import Mapping
from typing import Any

from oci.descriptor import Platform
from staves.caches.build_key import unpinned_repositories
from staves.gentoo.cpu_levels import level_make_conf
from staves.spec import Spec, build_plan
from staves.spec.patches import PATCHES_DIR, listed_patches
from staves.spec.plan import built_image_config


def dry_run_document(spec: Spec, jobs: int, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a build would do, as one JSON-ready document; ``settings`` are what it
    would use (``outputs``, ``builder``, ``portage``, ``pull``, volumes, …), defaults
    included."""
    image = spec.image
    platforms = spec.platforms or (Platform.host(),)
    plan = build_plan(spec, jobs)
    if "patches" in plan:  # listed, without their content
        plan["patches"] = listed_patches(plan)
    return {
        "platforms": [str(p) for p in platforms],
        # What each CPU level adds to the image's make.conf, after the spec's.
        "platform_make_conf": {str(p): t for p in platforms if (t := level_make_conf(p))},
        "image": {
            "name": image.name,
            "version": image.version,
            "reference": image.reference,
            "config": built_image_config(spec).to_dict(),
            "annotations": dict(image.annotations),
        },
        "layers": spec.layers,
        "vdb": spec.vdb,
        "outputs": list(settings["outputs"]),
        "settings": dict(settings),
        "plan": plan,
        "rebuild": rebuild_policy(plan, settings),
    }


def rebuild_policy(plan: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Whether a build of this plan is skipped when every destination holds it already:
    not with a repository a lock does not pin, nor with a live package."""
    pins = dict.fromkeys(settings.get("pinned_repositories") or ())
    unpinned = unpinned_repositories({**plan, "pins": pins})
    live = list(settings.get("live") or ())
    return {
        "skip_when_unchanged": not unpinned and not live,
        "unpinned_repositories": unpinned,
        "live_packages": live,
    }


def rebuild_text(policy: dict[str, Any]) -> str:
    if policy["skip_when_unchanged"]:
        return "skipped when every destination holds this build (--no-cache: always)"
    if policy["unpinned_repositories"]:
        names = ", ".join(policy["unpinned_repositories"])
        return f"always: repository {names} is synced from a branch, not pinned by a lock"
    return "always: live packages are built anew: " + ", ".join(policy["live_packages"])


def distcc_text(distcc: dict[str, Any] | None) -> str:
    if not distcc:
        return "(none: compiled in the builder)"
    return f"DISTCC_HOSTS={distcc['hosts']!r} MAKEOPTS={distcc['makeopts']!r}"


def dry_run_json(spec: Spec, jobs: int, settings: Mapping[str, Any]) -> str:
    return json.dumps(dry_run_document(spec, jobs, settings), indent=2) + "\n"


def _setting(value: Any) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)


def dry_run_text(spec: Spec, jobs: int, settings: Mapping[str, Any]) -> str:
    """A human-readable listing: summary, the settings used, each Portage file, image
    config."""
    document = dry_run_document(spec, jobs, settings)
    plan = document["plan"]
    locale = plan["locale"]
    summary = [
        f"image: {spec.image.reference}",
        "packages: " + " ".join(plan["packages"]),
        "sync: " + (" ".join(plan["sync"]) or "(no extra repositories)"),
        f"jobs: {jobs}",
        f"root: {plan['root']}",
        "locale: " + (f"{locale['name']} {locale['charset']}" if locale else "(none)"),
        f"stdlib: {'yes' if spec.stdlib else 'no'}",
        "install_mask: " + (" ".join(plan["install_mask"]) or "(Staves' own only)"),
        f"layers: {spec.layers}",
        f"vdb: {spec.vdb}",
        "platforms: " + " ".join(document["platforms"]),
        "distcc: " + distcc_text(plan.get("distcc")),
        "rebuild: " + rebuild_text(document["rebuild"]),
        *patch_lines(plan.get("patches", [])),
        *debug_lines(plan.get("debug"), spec.image.reference),
        *(f"{name}: {_setting(value)}" for name, value in settings.items()),
    ]
    parts = ["\n".join(summary) + "\n"]
    for path, text in plan["append"].items():
        parts.append(f"==> {path} (appended) <==\n{text.lstrip(chr(10))}")
    for path, text in plan["files"].items():
        parts.append(f"==> {path} <==\n{text}")
    for platform, text in document["platform_make_conf"].items():
        parts.append(f"==> /etc/portage/make.conf (appended for {platform}) <==\n{text}")
    config = {"config": document["image"]["config"]}
    if document["image"]["annotations"]:
        config["annotations"] = document["image"]["annotations"]
    parts.append("==> image config <==\n" + json.dumps(config, indent=2) + "\n")
    return "\n".join(parts)


def patch_lines(patches: list[dict[str, Any]]) -> list[str]:
    """One line per user patch: the spec's path, where eapply_user finds it, its digest."""
    return [
        f"patch: {p['source']} -> {PATCHES_DIR}/{p['directory']}/{p['name']} (sha256:{p['sha256']})"
        for p in patches
    ]


def debug_lines(debug: dict[str, Any] | None, reference: str) -> list[str]:
    if debug is None:
        return ["debug image: (none)"]
    what = "splitdebug and installsources" if debug["sources"] else "splitdebug"
    extra = " ".join(debug["packages"]) or "(none)"
    return [f"debug image: {reference}-debug ({what}), with the packages {extra}"]
