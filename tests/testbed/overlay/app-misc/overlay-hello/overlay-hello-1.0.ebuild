# A package only the test overlay has: installable once the overlay is synced.
EAPI=8
DESCRIPTION="Test program from a custom repository"
HOMEPAGE="https://example.invalid/overlay-hello"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64"

src_unpack() {
	cp "${FILESDIR}"/overlay.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o overlay-hello overlay.c || die
}

src_install() {
	dobin overlay-hello
}
