# A C++ program: needs libstdc++ (NEEDED.ELF.2), which no package of the image provides.
EAPI=8
DESCRIPTION="Test program written in C++"
HOMEPAGE="https://example.invalid/cxxhello"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"

src_unpack() {
	cp "${FILESDIR}"/cxxhello.cc "${S}"/ || die
}

src_compile() {
	${CXX:-g++} ${CXXFLAGS} ${LDFLAGS} -o cxxhello cxxhello.cc || die
}

src_install() {
	dobin cxxhello
}
