# One of the two providers of virtual/shape-data.
EAPI=8
DESCRIPTION="Test shape data (basic)"
HOMEPAGE="https://example.invalid/shaper"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_install() {
	insinto /usr/share/shape-data
	newins - basic <<<"basic shapes"
}
