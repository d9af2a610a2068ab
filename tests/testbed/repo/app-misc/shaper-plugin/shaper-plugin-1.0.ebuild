# Needs app-misc/shaper at run time, which pulls it in as PDEPEND: a cycle PDEPEND breaks.
EAPI=8
DESCRIPTION="Test plugin of app-misc/shaper"
HOMEPAGE="https://example.invalid/shaper"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"
RDEPEND="app-misc/shaper"

src_install() {
	insinto /usr/share/shaper
	newins - plugin <<<"plugin 1.0"
}
