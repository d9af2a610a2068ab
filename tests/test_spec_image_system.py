"""Spec keys of the image system: install_mask, and LANG from the locale."""

import pytest

from staves.errors import StavesError
from staves.spec import build_plan, loads_spec
from staves.spec.plan import built_image_config

SPEC = 'name = "x"\npackages = ["app-misc/hello"]\n'


def test_install_mask_patterns_reach_the_plan() -> None:
    spec = loads_spec(SPEC + 'install_mask = ["-/usr/include", "/usr/share/locale", "*.pc"]\n')
    assert build_plan(spec, 1)["install_mask"] == ["-/usr/include", "/usr/share/locale", "*.pc"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["usr/share"]', 'install_mask[0]: "usr/share" is a relative path'),
        ('["/a b"]', "install_mask[0]: "),
        ('["-"]', "install_mask[0]: "),
        ('"/usr/share"', "install_mask: "),
    ],
)
def test_bad_install_mask_is_one_line(value: str, message: str) -> None:
    with pytest.raises(StavesError) as caught:
        loads_spec(SPEC + f"install_mask = {value}\n")
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_locale_sets_lang_unless_image_env_does() -> None:
    spec = loads_spec(SPEC + 'locale = { name = "de_DE@euro", charset = "ISO-8859-15" }\n')
    assert built_image_config(spec).to_dict()["Env"] == ["LANG=de_DE@euro"]
    own = loads_spec(SPEC + 'locale = { name = "en_US.UTF-8" }\n[image.env]\nLANG = "C.UTF-8"\n')
    assert built_image_config(own).to_dict()["Env"] == ["LANG=C.UTF-8"]
    assert "Env" not in built_image_config(loads_spec(SPEC)).to_dict()
