# The dependency shapes real trees have, in one application: a library in DEPEND and
# RDEPEND with a slot-operator dependency on its subslot, virtual/libc, a USE-conditional
# dependency, a virtual with two providers, PDEPEND, IDEPEND and REQUIRED_USE.
EAPI=8
DESCRIPTION="Test program linked against a library whose soname changes"
HOMEPAGE="https://example.invalid/shaper"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64 arm64"
IUSE="extra +round square"
REQUIRED_USE="^^ ( round square )"
DEPEND="dev-libs/libshape:="
RDEPEND="${DEPEND}
	virtual/libc
	virtual/shape-data
	extra? ( app-misc/envprobe )"
BDEPEND="dev-util/gentool"
IDEPEND="dev-util/gentool"
PDEPEND="app-misc/shaper-plugin"

src_unpack() {
	cp "${FILESDIR}"/shaper.c "${S}"/ || die
}

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} $(usex square -DSQUARE "") -o shaper shaper.c -lshape || die
}

src_install() {
	dobin shaper
}

pkg_postinst() {
	# IDEPEND: a tool of the builder run while merging into the image.
	gentool >/dev/null || die
}
