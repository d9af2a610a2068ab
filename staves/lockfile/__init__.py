"""``staves.lock``: what goes into a spec's image, pinned — the model, its TOML text, and
how two locks (or a lock and the spec, or an image) differ. Pure: no Podman, no files
but the lock's own."""
