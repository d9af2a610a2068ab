"""The options of commands that run a builder (``build``, ``lock``): the builder and
snapshot images, when to pull them, the cache volumes, the network, and which of the
user's credentials the builder's syncing and fetching may use."""

from collections.abc import Callable, Mapping
from typing import Any

import click

from staves.commands.build_inputs import credential_choices, volume_option
from staves.commands.options import with_options
from staves.podman.builder_access import DEFAULT_AGENT, shared_credentials
from staves.podman.builder_container import BuilderSettings, PullPolicy
from staves.spec import Spec
from staves.spec.sync_uris import uses_ssh

DEFAULT_BUILDER = "docker.io/gentoo/stage3:latest"
DEFAULT_PORTAGE = "docker.io/gentoo/portage:latest"
DEFAULT_CACHE = "staves-binpkgs"
DEFAULT_DISTFILES = "staves-distfiles"


def spec_option(help_text: str = "The spec file.") -> Callable[[Any], Any]:
    """``-c/-f/--config/--file FILE``: the spec (podman's -f, Staves' older -c)."""
    return click.option(
        "-c",
        "-f",
        "--config",
        "--file",
        "config_path",
        default="staves.toml",
        show_default=True,
        type=click.Path(dir_okay=False),
        help=help_text,
    )


def builder_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--builder``, ``--portage``, ``--pull``, ``--build-cache``, ``--network``,
    ``--distfiles-cache``, ``--ssh``, ``--no-ssh``, ``--netrc/--no-netrc``."""
    options = [
        click.option(
            "--builder",
            metavar="IMAGE",
            default=DEFAULT_BUILDER,
            show_default=True,
            help="Builder image.",
        ),
        click.option(
            "--portage",
            metavar="IMAGE",
            default=DEFAULT_PORTAGE,
            show_default=True,
            help="Portage snapshot image.",
        ),
        click.option(
            "--pull",
            type=click.Choice(["missing", "always", "never"]),
            default="missing",
            show_default=True,
            help="When to pull the builder and Portage images, as podman run --pull "
            "(always: a fresh Portage snapshot every build).",
        ),
        click.option(
            "--build-cache",
            metavar="VOLUME",
            callback=volume_option,
            default=DEFAULT_CACHE,
            show_default=True,
            help="Named volume holding binary packages between builds.",
        ),
        click.option(
            "--network",
            metavar="MODE",
            help="Network of the builder, as podman run --network takes it (e.g. host, none).",
        ),
        click.option(
            "--distfiles-cache",
            metavar="VOLUME",
            callback=volume_option,
            default=DEFAULT_DISTFILES,
            show_default=True,
            help="Named volume holding downloaded sources (distfiles) between builds.",
        ),
        click.option(
            "--ssh",
            is_flag=False,
            flag_value=DEFAULT_AGENT,
            metavar="[=default|SOCKET|KEYFILE]",
            help="Share an SSH agent with the builder's syncing and fetching: yours "
            "(SSH_AUTH_SOCK), the one at SOCKET, or one of Staves' holding KEYFILE alone "
            '[none, unless a repository says credentials = ["ssh"]].',
        ),
        click.option("--no-ssh", is_flag=True, help="Share no SSH agent, whatever the spec asks."),
        click.option(
            "--netrc/--no-netrc",
            default=None,
            help="Share ~/.netrc (read-only) with the builder's syncing and fetching [no, "
            'unless a repository says credentials = ["netrc"]].',
        ),
    ]
    return with_options(options, command)


def builder_settings(spec: Spec, environ: Mapping[str, str], **options: Any) -> BuilderSettings:
    """The builder's settings from ``builder_options``' values (by their names), its
    credentials shared for as long as the command runs."""
    ssh_choice, netrc_choice = credential_choices(
        spec, options["ssh"], options["no_ssh"], options["netrc"]
    )
    for repo in spec.repositories if ssh_choice is None else ():
        if uses_ssh(repo.uri):
            click.echo(
                f"staves: warning: repository {repo.name} syncs over SSH and no SSH agent is "
                'shared; pass --ssh or give it credentials = ["ssh"]',
                err=True,
            )
    credentials = click.get_current_context().with_resource(
        shared_credentials(environ, ssh_choice, netrc_choice)
    )
    pull: PullPolicy = options["pull"]
    return BuilderSettings(
        options["builder"],
        options["portage"],
        options["build_cache"],
        options["network"],
        pull=pull,
        distfiles_volume=options["distfiles_cache"],
        credentials=credentials,
    )
