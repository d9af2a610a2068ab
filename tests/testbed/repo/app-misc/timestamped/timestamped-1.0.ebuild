# A package whose build is not reproducible: it bakes the moment of its build, to the
# nanosecond and ignoring SOURCE_DATE_EPOCH, into its program and a data file.
EAPI=8
DESCRIPTION="Test program that records when it was built"
HOMEPAGE="https://example.invalid/timestamped"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/timestamped.c "${S}"/ || die
}

src_compile() {
	local stamp
	stamp=$(env -u SOURCE_DATE_EPOCH date -u +%Y-%m-%dT%H:%M:%S.%NZ) || die
	echo "${stamp}" > built-at || die
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -DBUILT_AT="\"${stamp}\"" \
		-o timestamped timestamped.c || die
}

src_install() {
	dobin timestamped
	insinto /usr/share/timestamped
	doins built-at
}
