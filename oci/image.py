"""Assembling an image (config + manifest) from layers: pure, no clock, no IO.

Every destination writer takes the ``Image`` this module builds.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from oci.blob import Blob, BytesBlob, describe, json_blob
from oci.descriptor import Descriptor, Platform
from oci.layer import Layer
from oci.media import MediaType

ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (the OCI config's ``config`` object)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    workdir: str | None = None
    ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.entrypoint:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            out["Cmd"] = list(self.cmd)
        if self.env:
            out["Env"] = [f"{k}={v}" for k, v in self.env]
        if self.user:
            out["User"] = self.user
        if self.workdir:
            out["WorkingDir"] = self.workdir
        if self.ports:
            out["ExposedPorts"] = {p: {} for p in sorted(self.ports)}
        if self.volumes:
            out["Volumes"] = {v: {} for v in sorted(self.volumes)}
        if self.labels:
            out["Labels"] = dict(sorted(self.labels.items()))
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        return out


@dataclass(frozen=True)
class Image:
    """A complete single-platform image: every blob a destination has to write."""

    manifest: BytesBlob
    config: BytesBlob
    layers: tuple[Layer, ...]
    platform: Platform

    def blobs(self) -> Iterator[Blob]:
        """Config and layers, the blobs the manifest refers to."""
        yield self.config
        yield from self.layers

    def descriptor(self, annotations: Mapping[str, str] | None = None) -> Descriptor:
        return Descriptor(
            self.manifest.media_type,
            self.manifest.digest,
            self.manifest.size,
            annotations or {},
            self.platform,
        )


def created_time(layers: Sequence[Layer], epoch: int | None) -> datetime:
    """SOURCE_DATE_EPOCH when given, else the newest content mtime: never the clock."""
    if epoch is None:
        epoch = max((layer.newest_mtime or 0 for layer in layers), default=0)
    return datetime.fromtimestamp(epoch, UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as the OCI spec's examples write it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_config(
    layers: Sequence[Layer],
    config: ImageConfig,
    created: datetime,
    platform: Platform,
    history: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The OCI image config document; ``history`` gives one created_by per layer."""
    stamp = format_time(created)
    made_by = list(history) if history else ["staves"] * len(layers)
    if len(made_by) != len(layers):
        raise ValueError("history needs one entry per layer")
    doc: dict[str, Any] = {
        **platform.to_dict(),
        "created": stamp,
        "config": config.to_dict(),
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": stamp, "created_by": by} for by in made_by],
    }
    return doc


def build_image(
    layers: Sequence[Layer],
    config: ImageConfig,
    *,
    created: datetime,
    platform: Platform,
    annotations: Mapping[str, str] | None = None,
    history: Sequence[str] | None = None,
) -> Image:
    """Config and manifest for ``layers``; the same inputs always give the same digests."""
    config_blob = json_blob(
        build_config(layers, config, created, platform, history), MediaType.OCI_CONFIG
    )
    manifest_annotations = {ANNOTATION_CREATED: format_time(created), **(annotations or {})}
    manifest = {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_MANIFEST,
        "config": describe(config_blob).to_dict(),
        "layers": [layer.descriptor().to_dict() for layer in layers],
        "annotations": dict(sorted(manifest_annotations.items())),
    }
    return Image(json_blob(manifest, MediaType.OCI_MANIFEST), config_blob, tuple(layers), platform)
