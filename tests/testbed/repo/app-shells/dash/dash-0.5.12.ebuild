# A POSIX shell for images that need one; the test bed installs the builder's own dash
# (as sys-libs/hostlibc does with its C library) instead of compiling it.
EAPI=8
DESCRIPTION="Debian Almquist shell, copied from the builder"
HOMEPAGE="https://example.invalid/dash"
S="${WORKDIR}"
LICENSE="BSD"
SLOT="0"
KEYWORDS="amd64 arm64"
RESTRICT="strip"
RDEPEND="virtual/libc"

src_install() {
	exeinto /usr/bin
	newexe "$(realpath /bin/dash)" dash
}
