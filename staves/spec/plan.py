"""What the builder is asked to do, and the image config, as JSON-ready data."""

import dataclasses
from typing import Any

from oci.image import ImageConfig
from staves.spec.model import Binhost, ImageSettings, Spec
from staves.spec.render import render_portage

BUILD_ROOT = "/tmp/rootfs"


def build_plan(spec: Spec, jobs: int) -> dict[str, Any]:
    """The JSON plan handed to the in-builder script."""
    portage = render_portage(spec)
    locale = None
    if spec.locale is not None:
        locale = {"name": spec.locale.name, "charset": spec.locale.charset}
    return {
        "files": dict(portage.files),
        "append": dict(portage.append),
        "sync": [repo.name for repo in spec.repositories],
        "packages": list(spec.packages),
        "jobs": jobs,
        "root": BUILD_ROOT,
        "stdlib": spec.stdlib,
        "locale": locale,
        "install_mask": list(spec.install_mask),
        "binhosts": [binhost_entry(host) for host in spec.binhosts],
    }


def binhost_entry(host: Binhost) -> dict[str, Any]:
    """A binhost as the in-builder script writes it into both roots' binrepos.conf."""
    return dataclasses.asdict(host)


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
