# Shows whether the C library accepts the locale the environment names (LANG, LC_ALL).
EAPI=8
DESCRIPTION="Test program that reports setlocale(LC_ALL, \"\")"
HOMEPAGE="https://example.invalid/localeprobe"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/localeprobe.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o localeprobe localeprobe.c || die
}

src_install() {
	dobin localeprobe
}
