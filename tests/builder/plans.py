"""Build plans as the host renders them from a spec, for the in-builder program's tests."""

from staves.spec import build_plan, loads_spec

SPEC = 'name = "x"\npackages = ["app-misc/hello"]\n'


def plan_for(text: str) -> dict:
    """The plan the host renders from the spec ``text`` (2 jobs)."""
    return build_plan(loads_spec(text), 2)
