# /bin/sh, as Gentoo's app-alternatives/sh provides it: a link to the chosen shell.
EAPI=8
DESCRIPTION="/bin/sh (POSIX shell) symlink"
HOMEPAGE="https://example.invalid/sh"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"
RDEPEND="app-shells/dash"

src_install() {
	dosym dash /usr/bin/sh
}
