# A library needed to build and to run app-misc/shaper; each version changes its soname,
# so its subslot follows the soname and a slot-operator dependency (:=) records it.
EAPI=8
DESCRIPTION="Test library whose soname changes with its version"
HOMEPAGE="https://example.invalid/libshape"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0/1"
KEYWORDS="amd64 arm64"
RDEPEND="virtual/libc"

src_unpack() {
	cp "${FILESDIR}"/shape.c "${FILESDIR}"/shape.h "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -fPIC -shared -Wl,-soname,libshape.so.1 \
		-DSHAPE_NAME='"shape 1"' -o libshape.so.1 shape.c || die
}

src_install() {
	dolib.so libshape.so.1
	dosym libshape.so.1 "/usr/$(get_libdir)/libshape.so"
	insinto /usr/include
	doins shape.h
}
