"""Every environment variable Staves reads, what for: the one table behind the docs'
page and the ENVIRONMENT section of staves(1)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    used_by: str  # the commands that read it
    meaning: str  # one sentence or two, Markdown


ENVIRONMENT = (
    Variable(
        "CONTAINER_HOST",
        "build, pack, inspect, diff, audit, cache export",
        "Podman's API (`unix://`, `tcp://` or `ssh://`) when `--url` is not given; else "
        "`$XDG_RUNTIME_DIR/podman/podman.sock`, then `/run/podman/podman.sock`, then a "
        "private `podman system service` for the length of the command.",
    ),
    Variable(
        "CONTAINER_SSHKEY",
        "build, pack, inspect, diff, audit, cache export",
        "The SSH key for an `ssh://` Podman URL when `--identity` is not given, as for "
        "`podman --remote`.",
    ),
    Variable(
        "STAVES_SSH_COMMAND",
        "build, pack, inspect, diff, audit, cache export",
        "Replaces `ssh` for `ssh://` Podman URLs, as `GIT_SSH_COMMAND` does for git "
        "(`ssh -F ~/.ssh/ci_config`).",
    ),
    Variable(
        "CONTAINERS_CONF",
        "build (Podman)",
        "Podman's own settings file; passed on to the `podman system service` Staves starts "
        "(the test bed points it at `tests/podman/containers.conf`).",
    ),
    Variable(
        "SOURCE_DATE_EPOCH",
        "build, pack, cache export",
        "Seconds since 1970: the image's `created` time, the clamp for file times and the "
        "epoch every package is built with. Unset, `build` takes the Portage snapshot's "
        "`metadata/timestamp.chk` and `pack` the newest file's time.",
    ),
    Variable(
        "COSIGN_PASSWORD",
        "build, pack, sign, generate-key-pair",
        "The passphrase of the `--sign-key` key (empty for none); unset, it is asked for "
        "on the terminal.",
    ),
    Variable(
        "REGISTRY_AUTH_FILE",
        "build, pack, inspect, diff, audit, sign",
        "The registry auth file when `--authfile` is not given, as for podman and skopeo.",
    ),
    Variable(
        "XDG_RUNTIME_DIR",
        "every command",
        "Where the rootless Podman socket (`podman/podman.sock`) and the first auth file "
        "(`containers/auth.json`) are looked for.",
    ),
    Variable(
        "XDG_CONFIG_HOME",
        "build, pack, inspect, diff, audit, sign",
        "Where `containers/auth.json` is looked for after the runtime directory's "
        "(default `~/.config`).",
    ),
    Variable(
        "XDG_STATE_HOME",
        "build",
        "Where each build's log is kept (`staves/logs/build-TIME-NAME.log`, the last 50) "
        "when `--log-file` is not given (default `~/.local/state`).",
    ),
    Variable(
        "TERM",
        "every command",
        "`--progress auto` draws the live view when stderr is a terminal and `TERM` is set "
        "and not `dumb`; plain lines otherwise.",
    ),
    Variable(
        "STAVES_LAYER_CACHE",
        "build",
        "The directory of the local layer cache; else `$XDG_CACHE_HOME/staves/layers`, "
        "else `~/.cache/staves/layers`.",
    ),
    Variable(
        "STAVES_LAYER_CACHE_SIZE",
        "build",
        "The most the layer cache keeps, in bytes or with `K`, `M`, `G` (default `2G`); "
        "the least recently used blobs go first.",
    ),
    Variable(
        "XDG_CACHE_HOME",
        "build, pack",
        "Where the layer cache (`staves/layers`) and the registry blob locations "
        "(`staves/blob-locations.json`) are kept (default `~/.cache`).",
    ),
    Variable(
        "SSH_AUTH_SOCK",
        "build",
        "The SSH agent `--ssh` shares with the builder (or a repository's "
        '`credentials = ["ssh"]`); nothing is shared by default.',
    ),
    Variable(
        "HOME",
        "every command",
        "Where `~/.ssh/known_hosts`, `~/.netrc`, `~/.docker/config.json` and the caches are found.",
    ),
    Variable(
        "PATH",
        "build, pack, inspect, diff, audit, cache export",
        "Where `podman`, `ssh`, `ssh-agent` and `ssh-add` (`--ssh=KEYFILE`) and `setpriv` "
        "are found.",
    ),
)

# Read by the project's own scripts and tests, not by staves.
TEST_BED_ENVIRONMENT = (
    Variable(
        "STAVES_TEST_IMAGES",
        "scripts/build-test-images, tests",
        "The name prefix of the test-bed images (default `localhost/staves-test`).",
    ),
    Variable(
        "STAVES_TEST_ARCHES",
        "scripts/setup, scripts/build-test-images",
        "The architectures of the test builder to build: `scripts/setup` builds this "
        "machine's; `scripts/setup-tests` and `scripts/build-test-images` amd64, and arm64 "
        "where qemu-user runs it.",
    ),
    Variable(
        "STAVES_FUZZ_EXAMPLES",
        "tests/test_fuzz_readers.py",
        "How many examples each fuzz test of the readers runs (default 40).",
    ),
)
