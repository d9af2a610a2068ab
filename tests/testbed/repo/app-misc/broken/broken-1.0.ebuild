# Fails to compile on purpose: the build must end with a clear message and no container.
EAPI=8
DESCRIPTION="Test package whose build fails"
HOMEPAGE="https://example.invalid/broken"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/broken.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} -o broken broken.c || die "broken.c does not compile"
}

src_install() {
	dobin broken
}
