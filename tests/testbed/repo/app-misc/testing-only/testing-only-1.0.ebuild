# Keyworded for testing only: installable with package.accept_keywords.
EAPI=8
DESCRIPTION="Test program keyworded ~amd64"
HOMEPAGE="https://example.invalid/testing-only"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="~amd64 ~arm64"

src_unpack() {
	cp "${FILESDIR}"/testing.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o testing-only testing.c || die
}

src_install() {
	dobin testing-only
}
