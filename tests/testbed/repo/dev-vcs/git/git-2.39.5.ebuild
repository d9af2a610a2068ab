# Git for the builder, which a stage3 lacks; Staves emerges it to sync git repositories.
# Compiling git takes minutes, so the test bed installs Debian's build of it (as Gentoo's
# -bin packages install upstream binaries); the builder has the libraries it links.
EAPI=8
DEB="git_${PV}-0+deb12u3_amd64.deb"
DESCRIPTION="Stupid content tracker: distributed VCS designed for speed and efficiency"
HOMEPAGE="https://git-scm.com/"
SRC_URI="mirror://debian/pool/main/g/git/${DEB}"
S="${WORKDIR}"
LICENSE="GPL-2+"
SLOT="0"
KEYWORDS="amd64"
RESTRICT="mirror strip"
QA_PREBUILT="*"

src_unpack() {
	ar x "${DISTDIR}/${DEB}" data.tar.xz || die
	tar -xJf data.tar.xz ./usr/bin/git ./usr/lib/git-core ./usr/share/git-core || die
}

src_install() {
	# Debian's merged layout under /usr is Gentoo's too; only the man pages stay out.
	cp -a usr "${ED}"/ || die
}
