"""``python -m staves``: the CLI, for running a checkout without installing it."""

from staves.cli import main

if __name__ == "__main__":
    main()
