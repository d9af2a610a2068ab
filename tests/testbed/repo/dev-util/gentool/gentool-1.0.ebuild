# A build-time code generator: needed to build app-misc/hello (BDEPEND), never in images.
EAPI=8
DESCRIPTION="Test code generator used only at build time"
HOMEPAGE="https://example.invalid/gentool"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/gentool.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o gentool gentool.c || die
}

src_install() {
	dobin gentool
}
