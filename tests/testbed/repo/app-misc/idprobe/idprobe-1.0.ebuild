# A small stand-in for coreutils' id: who the process runs as, with the names the
# image's /etc/passwd and /etc/group give those ids.
EAPI=8
DESCRIPTION="Test program that prints its user and group like id(1)"
HOMEPAGE="https://example.invalid/idprobe"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/id.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o id id.c || die
}

src_install() {
	dobin id
}
