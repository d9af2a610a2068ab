"""What the builder is asked to do, and the image config, as JSON-ready data."""

from typing import Any

from staves.spec.model import ImageSettings, Spec
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
    }


def image_config(image: ImageSettings) -> dict[str, Any]:
    """The runtime part of an OCI image config (``config`` in the OCI JSON).

    Keys are left out when unset, as the OCI image spec allows.
    """
    config: dict[str, Any] = {}
    if image.user is not None:
        config["User"] = image.user
    if image.ports:
        config["ExposedPorts"] = {port: {} for port in image.ports}
    if image.env:
        config["Env"] = [f"{name}={value}" for name, value in image.env]
    if image.entrypoint:
        config["Entrypoint"] = list(image.entrypoint)
    if image.cmd:
        config["Cmd"] = list(image.cmd)
    if image.volumes:
        config["Volumes"] = {volume: {} for volume in image.volumes}
    if image.workdir is not None:
        config["WorkingDir"] = image.workdir
    if image.labels:
        config["Labels"] = dict(image.labels)
    if image.stop_signal is not None:
        config["StopSignal"] = image.stop_signal
    return config
