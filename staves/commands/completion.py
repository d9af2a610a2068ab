"""``staves completion bash|zsh|fish``: the shell's completion script, click's own."""

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
# What the scripts set when they ask staves for completions (click's convention).
COMPLETE_VARIABLE = "_STAVES_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  source <(staves completion bash)     (or save it in
           ~/.local/share/bash-completion/completions/staves)
    zsh:   staves completion zsh > "${fpath[1]}/_staves"
    fish:  staves completion fish > ~/.config/fish/completions/staves.fish
    """
    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # one of SHELLS
    click.echo(completer(root, {}, "staves", COMPLETE_VARIABLE).source())
