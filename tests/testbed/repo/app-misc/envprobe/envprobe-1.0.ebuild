# Bakes STAVES_GREETING from the build environment (make.conf or package.env) into a program.
EAPI=8
DESCRIPTION="Test program that shows a variable of its build environment"
HOMEPAGE="https://example.invalid/envprobe"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/envprobe.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -DGREETING="\"${STAVES_GREETING:-unset}\"" \
		-o envprobe envprobe.c || die
}

src_install() {
	dobin envprobe
}
