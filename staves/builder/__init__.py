"""The program that runs inside the builder container, on the builder's own Python.

Standard library only (and the builder's own Portage, driven by ``session`` alone), with
relative imports only: the host packs these modules into one zipapp
(``staves.podman.builder_program``) and copies it into the created builder with the build
plan beside it; nothing travels on the command line. ``main`` lists the phases:

- ``plan``: the plan file the host writes, checked;
- ``configure``: the builder's and the image root's Portage configuration;
- ``partition``: the binary-package directories of the cache volume and its binhosts;
- ``sync``: the spec's repositories synced, and held at a lock's commits (``pins``);
- ``distcc``: with helpers, distcc emerged into the builder, both roots set up to compile on
  them, and each helper checked to compile as the builder does;
- ``merge``: the image root brought to the spec in one Portage session (``session``):
  a root kept from the image's last build updated (``roots``), each dependency
  calculation judged before anything is merged (``resolve``: licenses, drift, packages
  left behind), packages the builder has reused (``builder_packages``), live packages
  built anew (``live``);
- ``image_root``: what the root needs after the merge (runtime libraries, locale);
- ``record``: what the host reads back (sources, root links, the root's tar);
- ``lock``: instead of the merge, ``staves lock``'s run: one calculation into an empty
  root, recorded for the host, nothing merged.

``protocol`` holds what the host and the program agree on (file names, output marks);
``lease`` the host's heartbeat; ``portage_python`` finds the Python Portage runs on.
"""
