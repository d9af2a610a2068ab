# distcc for the builder, which a stage3 lacks; Staves emerges it when a build names distcc
# helpers. Compiled from source as Gentoo's sys-devel/distcc is: Debian's copy of the 3.4
# release has no generated configure, so autogen.sh runs autoreconf (Gentoo's ebuild runs
# eautoreconf too). The test repository has no dev-libs/popt, no sys-libs/binutils-libs and
# no avahi: distcc's own popt, no @file arguments, no zeroconf. No pump mode, as Gentoo's.
EAPI=8
DESCRIPTION="Distribute compilation of C code across several machines on a network"
HOMEPAGE="https://github.com/distcc/distcc"
SRC_URI="mirror://debian/pool/main/d/distcc/distcc_3.4+really3.4.orig.tar.gz"
S="${WORKDIR}/distcc-3.4"
LICENSE="GPL-2+"
SLOT="0"
KEYWORDS="amd64 arm64"

src_prepare() {
	default
	./autogen.sh || die
}

src_configure() {
	econf --disable-Werror --with-included-popt --without-libiberty --without-avahi \
		--without-gtk --without-gnome
}

src_compile() {
	# An empty PYTHON builds no include server (pump mode).
	emake PYTHON=
}

src_install() {
	emake -j1 DESTDIR="${D}" GZIP_BIN=false PYTHON= install
	rm -r "${ED}"/etc/default "${ED}"/etc/distcc/clients.allow \
		"${ED}"/etc/distcc/commands.allow.sh "${ED}"/usr/sbin/update-distcc-symlinks || die
	keepdir /usr/lib/distcc
	# Portage prepends /usr/lib/distcc/bin to PATH with FEATURES=distcc; the masquerade
	# directory is /usr/lib/distcc itself.
	dosym . /usr/lib/distcc/bin
}

# The compilers ebuilds call, each a link to distcc in the masquerade directory, as
# Gentoo's `eselect compiler-shadow update distcc` makes them (for the system's root only).
distcc_compilers() {
	local name
	for name in cc c++ gcc g++ "${CHOST}-gcc" "${CHOST}-g++" "${CHOST}-c++"; do
		type -P "${name}" >/dev/null && echo "${name}"
	done
}

pkg_postinst() {
	[[ -z ${ROOT} ]] || return 0
	local name
	for name in $(distcc_compilers); do
		ln -sf "${EPREFIX}/usr/bin/distcc" "${EROOT}/usr/lib/distcc/${name}" || die
	done
}

pkg_prerm() {
	[[ -z ${ROOT} && -z ${REPLACED_BY_VERSION} ]] || return 0
	find "${EROOT}/usr/lib/distcc" -maxdepth 1 -type l -lname "*/distcc" -delete
}
