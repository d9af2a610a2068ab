"""What a command says while it runs, and what it did: events from the build's steps and the
in-builder program's records, drawn on stderr as ``--progress`` asks (a live view on a
terminal, one line per event in a log, nothing but errors when quiet), every word kept in
the build's log file, and the result written for machines (``--metadata-file``)."""
