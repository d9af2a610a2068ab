# A tiny HTTP daemon: serves one page, logs each request to /var/log/webd, which the
# package keeps (keepdir) and gives to its own user, as Gentoo's daemons do.
EAPI=8
DESCRIPTION="Test HTTP daemon that serves one page"
HOMEPAGE="https://example.invalid/webd"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"
# fowners in src_install resolves the user at build time, in the builder.
RDEPEND="acct-user/webd acct-group/webd"
BDEPEND="${RDEPEND}"

src_unpack() {
	cp "${FILESDIR}"/webd.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o webd webd.c || die
}

src_install() {
	dosbin webd
	insinto /usr/share/webd
	newins - index.html <<<"<h1>webd works</h1>"
	keepdir /var/log/webd
	fowners webd:webd /var/log/webd
	fperms 0750 /var/log/webd
}
