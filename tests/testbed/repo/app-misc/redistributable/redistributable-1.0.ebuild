# Under a license outside @FREE: the profile's ACCEPT_LICENSE refuses it until accepted.
EAPI=8
DESCRIPTION="Test program under a redistributable but not free license"
HOMEPAGE="https://example.invalid/redistributable"
S="${WORKDIR}"
LICENSE="Test-Redistributable"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/redistributable.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o redistributable redistributable.c || die
}

src_install() {
	dobin redistributable
}
