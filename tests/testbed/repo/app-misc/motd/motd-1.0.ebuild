# The message of the day, in two versions (1.1 says more), for comparing two builds.
EAPI=8
DESCRIPTION="Test message of the day"
HOMEPAGE="https://example.invalid/motd"
S="${WORKDIR}"
LICENSE="FSFAP"
SLOT="0"
KEYWORDS="amd64 arm64"
IUSE="banner"

src_install() {
	insinto /etc
	newins "${FILESDIR}/motd-${PV}.txt" motd
	if use banner; then
		insinto /usr/share/motd
		doins "${FILESDIR}"/banner.txt
	fi
}
