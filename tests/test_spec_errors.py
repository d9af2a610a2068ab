"""Every class of spec mistake: one line, key path, what is accepted, exit 2."""

import pytest

from staves.errors import EXIT_USAGE, StavesError
from staves.spec import SpecErrors, loads_spec
from tests.spec_text import BASE, spec_of

# (extra TOML after BASE, expected "KEY: PROBLEM" prefix after "staves.toml: ")
CASES = [
    # unknown keys, with and without "did you mean"
    ('nmae = "x"\n', "nmae: unknown key; did you mean 'name'?"),
    ("use = []\n", "use: unknown key; per-package settings go in a table"),
    ('entrypoint = "x"\n', "entrypoint: unknown key; did you mean 'command'?"),
    ("[bash]\nuse = []\n", "bash: unknown key; package tables are keyed by CATEGORY/PACKAGE"),
    ("['a/b']\nuze = []\n", "['a/b'].uze: unknown key; did you mean 'use'?"),
    (
        '[[repositories]]\nname = "r"\ntype = "git"\nuri = "https://example.org/x"\nbranch = "m"\n',
        "repositories[0].branch: unknown key",
    ),
    ('locale = { name = "C.UTF-8", chrset = "x" }\n', "locale.chrset: unknown key"),
    ('[image]\nuser = "x"\n', "image.user: unknown key here; 'user' is a top-level key"),
    # TOML types
    ("version = 1.2\n", 'version: expected a string, got float 1.2; quote it: "1.2"'),
    ('stdlib = "yes"\n', 'stdlib: expected true or false, got string "yes"'),
    ("layers = 0\n", "layers: 0 is less than 1"),
    ("layers = true\n", "layers: expected an integer from 1 to 100, got boolean true"),
    ("layers = 101\n", "layers: 101 is over the limit; a whole number of layers from 1 to 100"),
    ('vdb = "some"\n', 'vdb: "some" is not a vdb mode; one of trim, none, full'),
    ("accept_license = []\n", 'accept_license: is empty; ACCEPT_LICENSE tokens: a license ("MIT")'),
    ('accept_license = ["GPL 2"]\n', 'accept_license[0]: "GPL 2" is not a license, @GROUP or *'),
    ('accept_license = ["*"]\n[env]\nACCEPT_LICENSE = "*"\n', "env.ACCEPT_LICENSE: is set by"),
    ("command = 3\n", "command: expected a string or an array of strings, got integer 3"),
    ('command = ""\n', "command: is empty"),
    ("command = []\n", "command: is empty"),
    ('command = "sh -c \'x"\n', "command: cannot split"),
    ("cmd = [1]\n", "cmd[0]: expected a string, got integer 1"),
    ('user = "a b"\n', 'user: "a b" is not a user'),
    ('workdir = "srv"\n', 'workdir: "srv" is not an absolute path'),
    ("ports = [0]\n", "ports[0]: 0 is out of range"),
    ('ports = ["80/tcpx"]\n', 'ports[0]: "80/tcpx" is not a port'),
    ('ports = [80, "80/tcp"]\n', 'ports[1]: "80/tcp" is listed twice'),
    ('volumes = ["/a", "b"]\n', 'volumes[1]: "b" is not an absolute path'),
    ("labels = { a = 1 }\n", "labels.a: expected a string, got integer 1"),
    ('stop_signal = "TERM"\n', "stop_signal: \"TERM\" is not a signal; did you mean 'SIGTERM'?"),
    ("stop_signal = 99\n", "stop_signal: 99 is out of range"),
    ('[image.env]\n"A-B" = "x"\n', "image.env.A-B: is not a variable name"),
    ("[image.env]\nA = 1\n", "image.env.A: expected a string, got integer 1"),
    # atoms
    (
        "['app-misc/hello-1']\nuse = []\n",
        "['app-misc/hello-1']: \"app-misc/hello-1\" is not a package atom",
    ),
    ("['!a/b']\nuse = []\n", "['!a/b']: \"!a/b\" is a blocker"),
    ("['a/b[x]']\nuse = []\n", "['a/b[x]']: \"a/b[x]\" has USE dependencies"),
    # USE flags, keywords, licenses, env references
    ("['a/b']\nuse = [\"+x\"]\n", "['a/b'].use[0]: \"+x\" is not a USE flag"),
    ('[\'a/b\']\nuse = ["x", "x"]\n', "['a/b'].use[1]: \"x\" is listed twice"),
    ("['a/b']\nuse = \"x\"\n", "['a/b'].use: expected an array of USE flags, got string"),
    ("['a/b']\nkeywords = [\"~am d64\"]\n", "['a/b'].keywords[0]: \"~am d64\" is not a keyword"),
    ("['a/b']\nkeywords = []\n", "['a/b'].keywords: is empty"),
    ("['a/b']\nlicense = [\"GPL 2\"]\n", "['a/b'].license[0]: \"GPL 2\" is not a license"),
    (
        "['a/b']\nenv = [\"nope\"]\n",
        "['a/b'].env[0]: no [env.NAME] table named \"nope\"; define it as a table [env.nope]",
    ),
    ("['a/b']\nunmask = \"yes\"\n", "['a/b'].unmask: expected true or false"),
    # make.conf variables and values
    ('[env]\n"1X" = "a"\n', "env.1X: is not a variable name"),
    ("[env]\nX = 1\n", "env.X: expected a string (or a table for [env.NAME]), got integer 1"),
    (
        '[env]\nX = "a\\nb"\n',
        "env.X: cannot be written to make.conf: contains the control character \\n",
    ),
    (
        '[env]\nX = "${X:-y}"\n',
        "env.X: cannot be written to make.conf: '${' must start a reference",
    ),
    ('[env.nonls]\nX = "it\'s $Y"\n', "env.nonls.X: cannot be written to make.conf"),
    # names used as file names
    ('[env."a/b"]\nX = "y"\n', "env['a/b']: env name \"a/b\" contains '/'"),
    ('[env."a..b"]\nX = "y"\n', "env['a..b']: env name \"a..b\" contains '..'"),
    (
        '[env."a\\u0001"]\nX = "y"\n',
        'env["a\\u0001"]: env name "a\\u0001" contains the control character',
    ),
    (
        '[[repositories]]\nname = "../x"\ntype = "git"\nuri = "https://example.org/u"\n',
        "repositories[0].name: \"../x\" contains '/'",
    ),
    (
        '[[repositories]]\nname = "DEFAULT"\ntype = "git"\nuri = "https://example.org/u"\n',
        'repositories[0].name: "DEFAULT" is reserved by repos.conf',
    ),
    (
        '[[repositories]]\nname = "x-1.0"\ntype = "git"\nuri = "https://example.org/u"\n',
        'repositories[0].name: "x-1.0" is not a repository name',
    ),
    # repositories
    (
        '[[repositories]]\nname = "x"\ntype = "gti"\nuri = "https://example.org/u"\n',
        "repositories[0].type: \"gti\" is not a sync type; did you mean 'git'?",
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "a b"\n',
        'repositories[0].uri: "a b" contains whitespace',
    ),
    # A uri reaches git, hg, svn or rsync as an argument: no options, only their URL kinds.
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "--upload-pack=touch${IFS}/tmp/x"\n',
        "repositories[0].uri: \"--upload-pack=touch${IFS}/tmp/x\" starts with '-'",
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "ssh://-oProxyCommand=x/repo"\n',
        "repositories[0].uri: \"ssh://-oProxyCommand=x/repo\" has a host or user starting with '-'",
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "ext::sh -c x"\n',
        'repositories[0].uri: "ext::sh -c x" contains whitespace',
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "ext::sh%20-c%20x"\n',
        'repositories[0].uri: "ext::sh%20-c%20x" is not a URL of a kind this sync type takes',
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "rsync"\nuri = "https://example.org/r"\n',
        'repositories[0].uri: "https://example.org/r" is not a URL of a kind this sync type '
        "takes; a rsync URI: rsync://, ssh://, file://",
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "svn"\nuri = "svn://"\n',
        'repositories[0].uri: "svn://" names no host',
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "git://e"\ncredentials = ["gpg"]\n',
        'repositories[0].credentials[0]: "gpg" is not a kind of credentials; what syncing it needs',
    ),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "git://e.org"\ncredentials = "ssh"\n',
        "repositories[0].credentials: expected an array of credential kinds",
    ),
    (
        '[[repositories]]\nname = "x"\nuri = "https://example.org/u"\n',
        "repositories[0].type: missing",
    ),
    ('repositories = "x"\n', "repositories: expected an array of tables"),
    (
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "https://example.org/u"\n'
        '[[repositories]]\nname = "x"\ntype = "git"\nuri = "https://example.org/v"\n',
        'repositories[1].name: "x" is defined twice',
    ),
    # locale
    ('locale = { name = "en_US" }\n', "locale.charset: missing"),
    ('locale = { name = "en US" }\n', 'locale.name: "en US" is not a locale name'),
    ("locale = {}\n", "locale.name: missing"),
    ('locale = "C"\n', 'locale: expected a table, got string "C"'),
]


def _top_level_first(extra: str) -> str:
    return BASE + extra


@pytest.mark.parametrize(("extra", "expected"), CASES)
def test_error_line(extra: str, expected: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        loads_spec(_top_level_first(extra))
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("staves.toml: " + expected), lines[0]
    assert "; " in lines[0]
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("packages = []\n", ["name: missing", "packages: is empty"]),
        ('name = "Bad Name"\n', ['name: "Bad Name" is not an image name', "packages: missing"]),
        ('name = "x"\npackages = ["bash"]\n', ['packages[0]: "bash" is not a package atom']),
        ('name = "x"\nversion = "-1"\npackages = ["a/b"]\n', ['version: "-1" is not an image tag']),
    ],
)
def test_required_keys_and_reference(text: str, expected: list[str]) -> None:
    with pytest.raises(SpecErrors) as caught:
        loads_spec(text)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(expected)
    for line, prefix in zip(lines, expected, strict=True):
        assert line.startswith("staves.toml: " + prefix)


def test_all_errors_are_collected() -> None:
    text = (
        'name = "x"\npackages = ["a/b"]\nlayers = 0\nvdb = "x"\n'
        '[\'a/b\']\nuse = ["+", "-"]\nenv = ["missing"]\n'
    )
    with pytest.raises(SpecErrors) as caught:
        loads_spec(text)
    assert len(caught.value.errors) == 5


def test_toml_syntax_error_names_line() -> None:
    with pytest.raises(StavesError) as caught:
        loads_spec('name = "x"\npackages = [\n', file="my.toml")
    message = str(caught.value)
    assert message.startswith("my.toml: line 2: invalid TOML:")
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE


def test_toml_syntax_error_line_and_column() -> None:
    with pytest.raises(StavesError) as caught:
        loads_spec('name = "x"\npackages = ["a/b"]\nlayers = = 2\n')
    assert str(caught.value).startswith(
        "staves.toml: line 3: invalid TOML: Invalid value (column 10)"
    )


def test_non_utf8_is_a_spec_error() -> None:
    with pytest.raises(StavesError, match="not UTF-8"):
        loads_spec(b"name = '\xff'")


def test_messages_escape_control_characters() -> None:
    with pytest.raises(SpecErrors) as caught:
        spec_of('cmd = "a\\u0000b"\n')
    assert "\n" not in str(caught.value)
    assert "\x00" not in str(caught.value)
