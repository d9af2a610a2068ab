# A program of many translation units, each compiled on its own by make, as most C packages
# are: the work distcc spreads over its helpers (the test bed's compile-heavy package).
EAPI=8
DESCRIPTION="Test program of many separately compiled C files"
HOMEPAGE="https://example.invalid/manyunits"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/Makefile "${S}"/ || die
	sh "${FILESDIR}"/gen-units.sh 16 60 || die
}

src_install() {
	dobin manyunits
}
