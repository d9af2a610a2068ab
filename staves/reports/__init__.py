"""What reports on images, for people and machines: the inspect text and HTML page, the
diff of two images, and the security audit. Pure: they format what staves.sources read."""
