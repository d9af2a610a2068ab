"""``staves build`` as a chain of values: spec → plan per platform → built root → image →
image or index → published; one module per step (see ``staves.build.pipeline``)."""
