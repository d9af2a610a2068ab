# The C library, as Gentoo's virtual/libc-1-r1: glibc on a glibc profile.
EAPI=8
DESCRIPTION="Virtual for the C library"
SLOT="0"
KEYWORDS="amd64 arm64"
IUSE="elibc_glibc"
RDEPEND="!prefix-guest? ( elibc_glibc? ( sys-libs/glibc:2.2 ) )"
