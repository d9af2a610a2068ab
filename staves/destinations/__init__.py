"""Images to write and to read: destinations, sources, registries, names, reports."""
