# A tiny shared library the test application links against.
EAPI=8
DESCRIPTION="Test library that makes greetings"
HOMEPAGE="https://example.invalid/libgreet"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/greet.c "${FILESDIR}"/greet.h "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -fPIC -shared -Wl,-soname,libgreet.so.1 \
		-o libgreet.so.1 greet.c || die
}

src_install() {
	dolib.so libgreet.so.1
	dosym libgreet.so.1 "/usr/$(get_libdir)/libgreet.so"
	insinto /usr/include
	doins greet.h
}
