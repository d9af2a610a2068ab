"""What the builder is asked to do, and the image config, as JSON-ready data."""

import dataclasses
from typing import Any

from oci.descriptor import Platform
from oci.image import ImageConfig
from staves.gentoo.cpu_levels import level_make_conf
from staves.spec.debug import debug_entry, debug_make_conf
from staves.spec.distcc import distcc_plan
from staves.spec.model import Binhost, ImageSettings, Spec
from staves.spec.patches import patch_entries
from staves.spec.render import MAKE_CONF, render_portage

BUILD_ROOT = "/tmp/rootfs"


def build_plan(spec: Spec, jobs: int) -> dict[str, Any]:
    """The JSON plan handed to the in-builder script."""
    portage = render_portage(spec)
    append = dict(portage.append)
    if spec.debug is not None:
        append[MAKE_CONF] = append.get(MAKE_CONF, "\n") + debug_make_conf(spec.debug)
    locale = None
    if spec.locale is not None:
        locale = {"name": spec.locale.name, "charset": spec.locale.charset}
    plan: dict[str, Any] = {
        "files": dict(portage.files),
        "append": append,
        "sync": [repo.name for repo in spec.repositories],
        "packages": list(spec.packages),
        "jobs": jobs,
        "root": BUILD_ROOT,
        "stdlib": spec.stdlib,
        "locale": locale,
        "install_mask": list(spec.install_mask),
        "binhosts": [binhost_entry(host) for host in spec.binhosts],
    }
    # Only when used, so that the plans (and build keys) of other specs stay as they were.
    if patches := patch_entries(spec.package_config):
        plan["patches"] = patches
    if spec.debug is not None:
        plan["debug"] = debug_entry(spec.debug)
    if spec.distcc:  # absent without helpers: plans (and build keys) stay as they were
        plan["distcc"] = distcc_plan(spec.distcc, jobs)
    return plan


def binhost_entry(host: Binhost) -> dict[str, Any]:
    """A binhost as the in-builder script writes it into both roots' binrepos.conf."""
    return dataclasses.asdict(host)


def platform_plan(plan: dict[str, Any], platform: Platform) -> dict[str, Any]:
    """The plan for one platform: its CPU level's flags after the spec's make.conf, so its
    packages are compiled for it and kept apart in the cache (the image's binary-package
    directory is named by a hash of make.conf)."""
    lines = level_make_conf(platform)
    if not lines:
        return plan
    append = dict(plan["append"])
    append[MAKE_CONF] = append.get(MAKE_CONF, "") + "\n" + lines
    return {**plan, "append": append}


def oci_image_config(image: ImageSettings) -> ImageConfig:
    """The spec's image settings as the OCI runtime config the packer writes."""
    return ImageConfig(
        entrypoint=image.entrypoint,
        cmd=image.cmd,
        env=image.env,
        user=image.user,
        workdir=image.workdir,
        ports=image.ports,
        volumes=image.volumes,
        labels=dict(image.labels),
        stop_signal=image.stop_signal,
    )


def built_image_config(spec: Spec) -> ImageConfig:
    """The OCI runtime config of a built image: with ``locale``, ``LANG`` names it
    unless ``[image.env]`` sets ``LANG`` itself."""
    image = spec.image
    if spec.locale is not None and "LANG" not in dict(image.env):
        env = tuple(sorted((*image.env, ("LANG", spec.locale.name))))
        image = dataclasses.replace(image, env=env)
    return oci_image_config(image)


def image_config(image: ImageSettings) -> dict[str, Any]:
    """The runtime part of an OCI image config (``config`` in the OCI JSON).

    Keys are left out when unset, as the OCI image spec allows.
    """
    return oci_image_config(image).to_dict()
