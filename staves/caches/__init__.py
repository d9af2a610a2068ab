"""What caches: the build key and the no-op check, the binary-package cache in a registry or a
directory, and where the layer cache lives."""
