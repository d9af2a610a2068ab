#!/usr/bin/env python3
"""A generated ebuild repository of Gentoo's size, for scripts/bench-scale: deterministic
for a seed, shaped like Gentoo's tree, every package trivial to build.

Usage: scripts/scaletree.py OUT [--packages N] [--seed S]   (writes the tree to OUT)

On top of the test repository (tests/testbed/repo: its profiles, eclasses, licenses,
baselayout, glibc, virtual/libc) come N generated packages in about 150 categories, as
Gentoo has them:
- libraries (SLOT="0/<soname major>", one subslot a version) that their consumers link
  against and depend on with the slot operator (``dev-foo/bar:=``) in DEPEND and RDEPEND;
- programs (C, linked against their libraries; ``IUSE=debug`` changes only the code),
  shell programs and data packages; build tools in BDEPEND; plugins in PDEPEND that
  depend back on their program;
- virtuals with several providers (``|| ( a b c )``), any-of and USE-conditional
  dependencies (``ssl? ( … )``), ``>=`` version ranges, blockers of old versions;
- one to three versions a package, the newest sometimes ``~amd64`` and sometimes masked in
  profiles/package.mask; USE defaults from IUSE, from the profile chain's make.defaults
  and from profiles/base/package.use.
Every package inherits tiny.eclass, which writes and builds a few lines of C or shell:
a build costs Portage's work, not the compiler's.

metadata/md5-cache holds an entry for each generated ebuild, written here as egencache
writes it (md5-dict: the metadata, the eclasses' and the ebuild's MD5): egencache sources
each ebuild in bash, and for ~30,000 ebuilds that takes an hour on a busy 2-core machine.
scripts/bench-scale has egencache check the result: it finds every entry valid, and writes
a sample of them anew, byte for byte the same.

The model below also answers what Portage would merge into an empty root for a set of
packages (their runtime closure), so that the bench can pick images of a given size.
"""

import argparse
import hashlib
import random
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TEST_REPO = PROJECT / "tests" / "testbed" / "repo"
DEFAULT_PACKAGES = 20_000
DEFAULT_SEED = 26
# What staves merges into every root before the packages: the skeleton and the C library.
BASE = ("sys-apps/baselayout", "sys-libs/glibc", "virtual/libc")
# USE flags of the generated packages; the profile turns some on for every package.
FLAGS = (
    "ssl", "zlib", "ipv6", "unicode", "nls", "threads", "xml", "lzma", "bzip2", "readline",
    "ncurses", "pcre", "caps", "seccomp", "acl", "udev", "dbus", "sqlite", "curl", "idn",
)  # fmt: skip
PROFILE_USE = ("ipv6", "unicode")  # appended to default/linux/amd64/23.0/make.defaults
# The flag whose change the bench makes: it changes a program's code, nothing else.
CHANGE_FLAG = "debug"
CATEGORY_PREFIXES = ("app", "dev", "sys", "net", "media", "sci", "www", "x11", "games", "mail")
CATEGORY_SUFFIXES = (
    "misc", "libs", "util", "text", "arch", "crypt", "admin", "fs", "apps", "process",
    "shells", "editors", "db", "lang", "python", "perl", "ruby", "lua", "sound", "video",
    "gfx", "fonts", "plugins", "analyzer", "dns", "ftp", "im", "irc", "news", "p2p",
    "print", "proxy", "vpn", "wireless", "firewall", "client", "server", "filter", "mobile",
    "geosciences", "biology", "physics", "chemistry", "mathematics", "electronics",
)  # fmt: skip
SYLLABLES = (
    "ba", "be", "bi", "bo", "da", "de", "di", "do", "fa", "fe", "fi", "ga", "go", "ka",
    "ke", "ki", "ko", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "na", "ne",
    "ni", "no", "pa", "pe", "pi", "po", "ra", "re", "ri", "ro", "ru", "sa", "se", "si",
    "so", "ta", "te", "ti", "to", "tu", "va", "ve", "vi", "vo", "xa", "xe", "za", "zo",
)  # fmt: skip
LICENSES = ("MIT", "GPL-2", "GPL-2+", "BSD", "LGPL-2.1+")
KINDS = (("lib", 26), ("app", 44), ("script", 16), ("data", 14))
TOOLS = 24  # build tools (dev-util) at the bottom of the tree, BDEPEND of many
VIRTUAL_SHARE = 0.015


@dataclass(frozen=True)
class Atom:
    cp: str
    op: str = ""  # ">=" with a version, "!<" for a blocker
    version: str = ""
    slot_op: bool = False  # ":=" (a library's subslot)

    def __str__(self) -> str:
        text = f"{self.op}{self.cp}-{self.version}" if self.op else self.cp
        return text + (":=" if self.slot_op else "")


@dataclass(frozen=True)
class AnyOf:
    atoms: tuple[Atom, ...]

    def __str__(self) -> str:
        return "|| ( " + " ".join(map(str, self.atoms)) + " )"


@dataclass(frozen=True)
class If:
    flag: str
    dep: "Atom | AnyOf"

    def __str__(self) -> str:
        return f"{self.flag}? ( {self.dep} )"


Dep = Atom | AnyOf | If


@dataclass
class Version:
    pv: str
    slot: str
    stable: bool
    masked: bool = False


@dataclass
class Package:
    category: str
    name: str
    kind: str  # tool, lib, app, plugin, script, data, virtual
    versions: list[Version]
    license: str
    iuse: dict[str, bool] = field(default_factory=dict)  # flag -> on by default
    depend: list[Dep] = field(default_factory=list)  # libraries: DEPEND and RDEPEND
    rdepend: list[Dep] = field(default_factory=list)  # runtime only
    bdepend: list[Atom] = field(default_factory=list)
    pdepend: list[Atom] = field(default_factory=list)

    @property
    def cp(self) -> str:
        return f"{self.category}/{self.name}"

    def best(self) -> Version:
        """The version emerge picks: the newest that is stable on amd64 and not masked."""
        return [v for v in self.versions if v.stable and not v.masked][-1]


@dataclass
class Tree:
    packages: dict[str, Package]
    package_use: dict[str, dict[str, bool]]  # profiles/base/package.use

    def use(self, package: Package) -> set[str]:
        """USE as Portage works it out: IUSE defaults, the profile's make.defaults, then
        the profile's package.use."""
        flags = {flag for flag, on in package.iuse.items() if on}
        flags |= set(PROFILE_USE) & set(package.iuse)
        for flag, on in self.package_use.get(package.cp, {}).items():
            (flags.add if on else flags.discard)(flag)
        return flags

    def closure(self, roots: Iterable[str]) -> set[str]:
        """What emerge merges into an empty root for ``roots``: the packages, their RDEPEND
        and PDEPEND (DEPEND goes to the builder) under their USE flags, the first choice
        of an any-of unless another is already in, and the skeleton and C library."""
        chosen: set[str] = set(BASE)
        pending = list(roots)
        while pending:
            cp = pending.pop()
            if cp in chosen:
                continue
            chosen.add(cp)
            package = self.packages[cp]
            use = self.use(package)
            for dep in [*package.depend, *package.rdepend, *package.pdepend]:
                pending.extend(_runtime_atoms(dep, use, chosen))
        return chosen


def _runtime_atoms(dep: Dep, use: set[str], chosen: set[str]) -> Iterator[str]:
    if isinstance(dep, If):
        if dep.flag in use:
            yield from _runtime_atoms(dep.dep, use, chosen)
    elif isinstance(dep, AnyOf):
        already = [atom.cp for atom in dep.atoms if atom.cp in chosen]
        yield already[0] if already else dep.atoms[0].cp
    elif not dep.op.startswith("!"):
        yield dep.cp


def _names(rng: random.Random) -> Iterator[str]:
    """Unique package names, pronounceable, some with a digit or a dash as real ones."""
    seen: set[str] = set()
    while True:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
        if rng.random() < 0.1:
            name += str(rng.randint(2, 9))
        if rng.random() < 0.15:
            name += "-" + "".join(rng.choice(SYLLABLES) for _ in range(2))
        if name not in seen:
            seen.add(name)
            yield name


def _categories(rng: random.Random) -> list[str]:
    pairs = [f"{p}-{s}" for p in CATEGORY_PREFIXES for s in CATEGORY_SUFFIXES]
    return sorted(rng.sample(pairs, 150))


def _versions(rng: random.Random, kind: str) -> list[Version]:
    count = rng.choices((1, 2, 3), (60, 30, 10))[0]
    major, minor = rng.randint(0, 5), rng.randint(0, 20)
    versions = []
    for number in range(count):
        if kind == "lib":
            major += 1  # a new soname, a new subslot
            slot = f"0/{major}"
        else:
            minor += rng.randint(1, 3)
            slot = "0"
        pv = f"{major}.{minor}" + (f".{rng.randint(1, 9)}" if rng.random() < 0.4 else "")
        if rng.random() < 0.15:
            pv += f"-r{rng.randint(1, 3)}"
        # The newest of several is sometimes still in testing, or masked.
        newest = number == count - 1 and count > 1
        versions.append(Version(pv, slot, stable=not (newest and rng.random() < 0.25)))
    stable = [v for v in versions if v.stable]
    if len(stable) > 1 and rng.random() < 0.05:
        stable[-1].masked = True
    return versions


def _pick(rng: random.Random, below: int) -> int:
    """An earlier package, most often one of the first: a few libraries are everywhere."""
    return int(below * rng.random() ** 3)


def generate(count: int = DEFAULT_PACKAGES, seed: int = DEFAULT_SEED) -> Tree:
    """The tree's model: the same for the same count and seed."""
    rng = random.Random(seed)
    names = _names(rng)
    categories = _categories(rng)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(categories))]
    order: list[Package] = []
    for _ in range(TOOLS):
        order.append(Package("dev-util", next(names), "tool", _versions(rng, "tool"), "MIT"))
    candidates: list[Package] = []  # what a package may depend on: all but the tools
    while len(order) < count:
        index = len(order)
        if rng.random() < VIRTUAL_SHARE and index > 200:
            picked = [order[_pick(rng, index)] for _ in range(rng.randint(2, 3))]
            kinds = ("lib", "app", "script", "data")
            providers = list({p.cp: p for p in picked if p.kind in kinds}.values())
            if len(providers) < 2:
                continue
            virtual = Package("virtual", next(names), "virtual", _versions(rng, "virtual"), "")
            atoms = tuple(Atom(p.cp) for p in providers)
            virtual.rdepend.append(AnyOf(atoms))
            order.append(virtual)
            candidates.append(virtual)
            continue
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        category = rng.choices(categories, weights)[0]
        package = Package(category, next(names), kind, _versions(rng, kind), rng.choice(LICENSES))
        _add_dependencies(rng, package, candidates, order)
        order.append(package)
        candidates.append(package)
        if kind == "app" and rng.random() < 0.02:
            plugin = Package(
                category,
                f"{package.name}-plugins",
                "plugin",
                _versions(rng, "plugin"),
                package.license,
            )
            plugin.rdepend.append(Atom(package.cp))
            package.pdepend.append(Atom(plugin.cp))
            order.append(plugin)
            candidates.append(plugin)
    packages = {p.cp: p for p in order[:count]}
    for package in packages.values():  # a plugin beyond the count: no PDEPEND on it
        package.pdepend = [a for a in package.pdepend if a.cp in packages]
    package_use: dict[str, dict[str, bool]] = {}
    for package in packages.values():
        conditional = [flag for flag in package.iuse if flag != CHANGE_FLAG]
        if conditional and rng.random() < 0.03:
            flag = rng.choice(conditional)
            package_use[package.cp] = {flag: not package.iuse[flag]}
    return Tree(packages, package_use)


def _add_dependencies(
    rng: random.Random, package: Package, candidates: list[Package], order: list[Package]
) -> None:
    index = len(order)
    if package.kind in ("lib", "app"):
        package.iuse[CHANGE_FLAG] = False
        if rng.random() < 0.3:
            package.bdepend.append(Atom(order[rng.randrange(TOOLS)].cp))
    count = rng.choices(range(6), (15, 25, 25, 20, 10, 5))[0] if candidates else 0
    seen: set[str] = set()
    for _ in range(count):
        dep = candidates[_pick(rng, len(candidates))] if index > TOOLS else None
        if dep is None or dep.cp in seen or dep.kind == "plugin":
            continue
        seen.add(dep.cp)
        conditional = rng.random() < 0.2
        flag = rng.choice(FLAGS)
        if dep.kind == "lib" and package.kind in ("lib", "app"):
            atom: Atom | AnyOf = Atom(dep.cp, slot_op=True)
            target = package.depend
        elif rng.random() < 0.1 and len(candidates) > 1:
            other = candidates[_pick(rng, len(candidates))]
            if other.cp in seen or other.kind in ("plugin", "lib"):
                continue
            seen.add(other.cp)
            atom, target = AnyOf((Atom(dep.cp), Atom(other.cp))), package.rdepend
        elif rng.random() < 0.1:
            atom, target = Atom(dep.cp, ">=", dep.versions[0].pv), package.rdepend
        else:
            atom, target = Atom(dep.cp), package.rdepend
        if conditional:
            package.iuse.setdefault(flag, rng.random() < 0.5)
            target.append(If(flag, atom))
        else:
            target.append(atom)
    if rng.random() < 0.03 and index > TOOLS:
        old = candidates[rng.randrange(len(candidates))]
        package.rdepend.append(Atom(old.cp, "!<", old.versions[0].pv))
    for flag in rng.sample(FLAGS, rng.choice((0, 0, 1, 2))):  # flags that change nothing
        package.iuse.setdefault(flag, rng.random() < 0.5)


def ebuild(tree: Tree, package: Package, version: Version) -> str:
    """An ebuild as Gentoo writes them, for tiny.eclass."""
    links = [
        _link_word(dep)
        for dep in package.depend
        if isinstance(dep, Atom) or (isinstance(dep, If) and isinstance(dep.dep, Atom))
    ]
    lines = ["# Copyright 2026 Staves", "# Generated by scripts/scaletree.py", "", "EAPI=8", ""]
    if package.kind != "virtual":
        lines.append(f'TINY_KIND="{_tiny_kind(package.kind)}"')
        if links:
            lines.append(f'TINY_LINK="{" ".join(links)}"')
        lines += ["", "inherit tiny", ""]
    lines.append(f'DESCRIPTION="Generated {package.kind} {package.name}"')
    if package.kind != "virtual":
        lines.append(f'HOMEPAGE="https://example.invalid/{package.name}"')
        lines.append(f'LICENSE="{package.license}"')
    lines.append(f'SLOT="{version.slot}"')
    lines.append(f'KEYWORDS="{"amd64" if version.stable else "~amd64"} ~arm64"')
    if package.iuse:
        iuse = (("+" if on else "") + flag for flag, on in sorted(package.iuse.items()))
        lines.append(f'IUSE="{" ".join(iuse)}"')
    lines.append("")
    rdepend = " ".join(map(str, package.rdepend))
    if package.depend:
        lines.append(f'RDEPEND="{" ".join(map(str, package.depend))}"')
        if rdepend:
            lines.append(f'RDEPEND+=" {rdepend}"')
        lines.append(f'DEPEND="{" ".join(map(str, package.depend))}"')
    elif rdepend:
        lines.append(f'RDEPEND="{rdepend}"')
    if package.bdepend:
        lines.append(f'BDEPEND="{" ".join(map(str, package.bdepend))}"')
    if package.pdepend:
        lines.append(f'PDEPEND="{" ".join(map(str, package.pdepend))}"')
    return "\n".join(lines) + "\n"


def cache_entry(package: Package, version: Version, ebuild_text: str, eclass_md5: str) -> str:
    """The md5-cache entry egencache writes for this ebuild: the metadata keys that have a
    value, sorted, then the eclasses' MD5s and the ebuild's."""
    runtime = " ".join(map(str, [*package.depend, *package.rdepend]))
    keys = {
        "BDEPEND": " ".join(map(str, package.bdepend)),
        "DEFINED_PHASES": "-" if package.kind == "virtual" else "compile install unpack",
        "DEPEND": " ".join(map(str, package.depend)),
        "DESCRIPTION": f"Generated {package.kind} {package.name}",
        "EAPI": "8",
        "HOMEPAGE": "" if package.kind == "virtual" else f"https://example.invalid/{package.name}",
        "INHERIT": "" if package.kind == "virtual" else "tiny",
        "IUSE": " ".join(("+" if on else "") + f for f, on in sorted(package.iuse.items())),
        "KEYWORDS": f"{'amd64' if version.stable else '~amd64'} ~arm64",
        "LICENSE": package.license,
        "PDEPEND": " ".join(map(str, package.pdepend)),
        "RDEPEND": runtime,
        "SLOT": version.slot,
    }
    lines = [f"{key}={value}" for key, value in sorted(keys.items()) if value]
    if package.kind != "virtual":
        lines.append(f"_eclasses_=tiny\t{eclass_md5}")
    lines.append(f"_md5_={hashlib.md5(ebuild_text.encode()).hexdigest()}")
    return "\n".join(lines) + "\n"


def _tiny_kind(kind: str) -> str:
    return {"tool": "app", "plugin": "script"}.get(kind, kind)


def _link_word(dep: Dep) -> str:
    """A TINY_LINK word: the library's name, "flag?name" when USE-conditional."""
    if isinstance(dep, If):
        assert isinstance(dep.dep, Atom)
        return f"{dep.flag}?{dep.dep.cp.split('/')[1]}"
    assert isinstance(dep, Atom)
    return dep.cp.split("/")[1]


ECLASS = r"""# Copyright 2026 Staves
# Generated by scripts/scaletree.py

# @ECLASS: tiny.eclass
# @SUPPORTED_EAPIS: 8
# @BLURB: builds the generated tree's packages from a few lines of C or shell
# @DESCRIPTION:
# TINY_KIND says what a package is: "lib" (a shared library, its soname major the
# subslot), "app" (a C program), "script" (a shell program) or "data" (a file under
# /usr/share). TINY_LINK names the libraries a library or program links against, as
# "name", or "flag?name" for one it links only with USE=flag. Each package's code calls
# every library it links, so that --as-needed keeps them all in NEEDED.

case ${EAPI} in
	8) ;;
	*) die "${ECLASS}: EAPI ${EAPI} unsupported" ;;
esac

if [[ -z ${_TINY_ECLASS} ]]; then
_TINY_ECLASS=1

S=${WORKDIR}

# The C function of library NAME.
_tiny_function() {
	local name=${1//[-+.]/_}
	echo "tiny_${name}"
}

# The libraries linked under this package's USE flags.
_tiny_links() {
	local word
	for word in ${TINY_LINK}; do
		if [[ ${word} == *\?* ]]; then
			use "${word%%\?*}" && echo "${word#*\?}"
		else
			echo "${word}"
		fi
	done
}

tiny_src_unpack() {
	local lib links=( $(_tiny_links) )
	[[ ${TINY_KIND} == lib || ${TINY_KIND} == app ]] || return 0
	{
		echo '#include <stdio.h>'
		for lib in "${links[@]}"; do
			echo "int $(_tiny_function "${lib}")(void);"
		done
		if [[ ${TINY_KIND} == lib ]]; then
			echo "int $(_tiny_function "${PN}")(void) {"
			echo "	int sum = ${SLOT#*/};"
		else
			echo 'int main(void) {'
			echo '	int sum = 0;'
		fi
		for lib in "${links[@]}"; do
			echo "	sum += $(_tiny_function "${lib}")();"
		done
		if [[ ${TINY_KIND} == app ]]; then
			echo '#ifdef TINY_DEBUG'
			echo '	fprintf(stderr, "debug build\n");'
			echo '#endif'
			echo "	printf(\"${PN} ${PV} %d\\n\", sum);"
		fi
		echo '	return sum;'
		echo '}'
	} > tiny.c || die
}

tiny_src_compile() {
	local lib libs=()
	for lib in $(_tiny_links); do
		libs+=( "-l${lib}" )
	done
	case ${TINY_KIND} in
		lib)
			${CC:-gcc} ${CFLAGS} ${LDFLAGS} -fPIC -shared \
				-Wl,-soname,"lib${PN}.so.${SLOT#*/}" -o "lib${PN}.so.${SLOT#*/}" tiny.c \
				"${libs[@]}" || die
			;;
		app)
			local debug=
			in_iuse debug && use debug && debug=-DTINY_DEBUG
			${CC:-gcc} ${CFLAGS} ${debug} ${LDFLAGS} -o "${PN}" tiny.c "${libs[@]}" || die
			;;
	esac
}

tiny_src_install() {
	case ${TINY_KIND} in
		lib)
			dolib.so "lib${PN}.so.${SLOT#*/}"
			dosym "lib${PN}.so.${SLOT#*/}" "/usr/$(get_libdir)/lib${PN}.so"
			;;
		app)
			dobin "${PN}"
			;;
		script)
			printf '#!/bin/sh\necho "%s %s"\n' "${PN}" "${PV}" | newbin - "${PN}"
			;;
		data)
			insinto "/usr/share/${PN}"
			echo "${PVR}" | newins - version
			;;
	esac
}

fi

EXPORT_FUNCTIONS src_unpack src_compile src_install
"""


def write(tree: Tree, out: Path) -> None:
    """The repository: the test tree, then the generated packages and profile lines."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(TEST_REPO, out)
    (out / "eclass" / "tiny.eclass").write_text(ECLASS)
    eclass_md5 = hashlib.md5(ECLASS.encode()).hexdigest()
    cache = out / "metadata" / "md5-cache"
    categories = {p.category for p in tree.packages.values()}
    existing = (out / "profiles" / "categories").read_text().split()
    (out / "profiles" / "categories").write_text("\n".join(sorted({*existing, *categories})) + "\n")
    for package in tree.packages.values():
        directory = out / package.category / package.name
        directory.mkdir(parents=True, exist_ok=True)
        (cache / package.category).mkdir(parents=True, exist_ok=True)
        for version in package.versions:
            text = ebuild(tree, package, version)
            (directory / f"{package.name}-{version.pv}.ebuild").write_text(text)
            entry = cache_entry(package, version, text, eclass_md5)
            (cache / package.category / f"{package.name}-{version.pv}").write_text(entry)
    profiles = out / "profiles"
    masked = [f"={p.cp}-{v.pv}" for p in tree.packages.values() for v in p.versions if v.masked]
    with (profiles / "package.mask").open("a") as mask:
        mask.write("# Generated: versions with known problems, as Gentoo masks them.\n")
        mask.write("".join(f"{atom}\n" for atom in masked))
    with (profiles / "base" / "package.use").open("a") as package_use:
        package_use.write("# Generated: package defaults the profile changes.\n")
        for cp, flags in sorted(tree.package_use.items()):
            words = " ".join(("" if on else "-") + flag for flag, on in sorted(flags.items()))
            package_use.write(f"{cp} {words}\n")
    defaults = profiles / "default" / "linux" / "amd64" / "23.0" / "make.defaults"
    with defaults.open("a") as make_defaults:
        make_defaults.write(f'USE="${{USE}} {" ".join(PROFILE_USE)}"\n')


def pick_image(tree: Tree, size: int, seed: int) -> tuple[str, list[str]]:
    """Packages whose image (closure) holds ``size`` packages, and the one whose
    CHANGE_FLAG the bench turns on: a program that links nothing, so that it can be
    compiled alone (emerge --nodeps) for comparison."""
    rng = random.Random(seed * 1000 + size)
    programs = sorted(
        (p for p in tree.packages.values() if p.kind == "app" and not p.depend and not p.bdepend),
        key=lambda p: p.cp,
    )
    changed = next(
        p.cp for p in rng.sample(programs, len(programs)) if len(tree.closure([p.cp])) <= size
    )
    chosen = [changed]
    candidates = sorted(
        (p.cp for p in tree.packages.values() if p.kind in ("app", "script", "data")),
    )
    rng.shuffle(candidates)
    have = tree.closure(chosen)
    for cp in candidates:
        if len(have) == size:
            break
        if cp in have or len(have | tree.closure([cp])) > size:
            continue
        more = tree.closure([*chosen, cp])
        if len(more) <= size:
            chosen.append(cp)
            have = more
    if len(have) != size:
        raise SystemExit(f"scaletree: found no image of {size} packages")
    return changed, chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--packages", type=int, default=DEFAULT_PACKAGES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    tree = generate(args.packages, args.seed)
    write(tree, args.out)
    versions = sum(len(p.versions) for p in tree.packages.values())
    print(f"{args.out}: {len(tree.packages)} packages, {versions} ebuilds", file=sys.stderr)


if __name__ == "__main__":
    main()
