# Builds from a downloaded source tarball, checked against the Manifest (the test serves
# tests/testbed/distfiles over HTTP as a GENTOO_MIRRORS mirror).
EAPI=8
DESCRIPTION="Test program built from a fetched distfile"
HOMEPAGE="https://example.invalid/fetched"
SRC_URI="mirror://gentoo/${P}.tar.gz"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o fetched fetched.c || die
}

src_install() {
	dobin fetched
}
