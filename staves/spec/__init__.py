"""The spec: ``staves.toml`` parsed, validated, and rendered for Portage."""

from staves.gentoo.atom import Atom, AtomError, parse_atom
from staves.spec.errors import SpecErrors
from staves.spec.load import load_spec, loads_spec, parse_spec
from staves.spec.model import (
    ImageSettings,
    Locale,
    NamedEnv,
    PackageConfig,
    Repository,
    Spec,
)
from staves.spec.plan import build_plan, image_config
from staves.spec.render import PortageFiles, render_portage

__all__ = [
    "Atom",
    "AtomError",
    "ImageSettings",
    "Locale",
    "NamedEnv",
    "PackageConfig",
    "PortageFiles",
    "Repository",
    "Spec",
    "SpecErrors",
    "build_plan",
    "image_config",
    "load_spec",
    "loads_spec",
    "parse_atom",
    "parse_spec",
    "render_portage",
]
