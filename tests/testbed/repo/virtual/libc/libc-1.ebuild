# The C library, as on Gentoo; provided here by the builder's own libc.
EAPI=8
DESCRIPTION="Virtual for the C library"
SLOT="0"
KEYWORDS="amd64"
RDEPEND="sys-libs/hostlibc"
