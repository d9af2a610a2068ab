"""The program that runs inside the builder container, on the builder's own Python.

Standard library only, and relative imports only: the host packs these modules into one
zipapp (``staves.podman.builder_program``) and copies it into the created builder with the
build plan beside it; nothing travels on the command line. One module per phase:

- ``plan``: the plan file the host writes, checked;
- ``configure``: the builder's and the image root's Portage configuration;
- ``partition``: the binary-package directories of the cache volume and its binhosts;
- ``sync``: the spec's repositories synced;
- ``resolve``: what Portage would merge, read before merging (licenses, drift);
- ``merge``: emerge into the image root;
- ``image_root``: what the root needs after the merge (runtime libraries, locale, caches);
- ``record``: what the host reads back (sources, root links, the root's tar);
- ``main``: the phases as one list of steps, under the host's lease (``lease``).

``protocol`` holds what the host and the program agree on: file names and output marks.
"""
