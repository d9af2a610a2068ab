# The test application: links libgreet, generates a header with gentool at build time.
EAPI=8
DESCRIPTION="Test program that greets the world"
HOMEPAGE="https://example.invalid/hello"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"
IUSE="shout"
RDEPEND="dev-libs/libgreet"
DEPEND="${RDEPEND}"
BDEPEND="dev-util/gentool"

src_unpack() {
	cp "${FILESDIR}"/hello.c "${S}"/ || die
}

src_compile() {
	gentool > generated.h || die
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} $(usex shout -DSHOUT "") -o hello hello.c -lgreet || die
}

src_install() {
	dobin hello
}
