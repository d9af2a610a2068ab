"""Click commands of the ``staves`` CLI, one module each."""
