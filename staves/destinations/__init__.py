"""What writes images: the destinations of ``-o``, registry pushes, copies of a held image,
and the signatures and attestations written next to an image."""
