# The filesystem skeleton, shaped like Gentoo's sys-apps/baselayout: files it owns go
# through src_install; with USE=build (stage and image roots) pkg_preinst lays out the
# directories outside CONTENTS, and pkg_postinst copies passwd, group and shadow from
# /usr/share/baselayout into /etc only when they are absent.
EAPI=8

inherit multilib

DESCRIPTION="Filesystem baselayout"
HOMEPAGE="https://example.invalid/baselayout"
S="${WORKDIR}/${P}"
LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64"
IUSE="build split-usr"

# The library directories of every ABI; /lib64 and friends become links into /usr
# unless the profile keeps split-usr.
multilib_layout() {
	local prefix libdir dir
	for prefix in "${EROOT}"/{,usr/,usr/local/}; do
		for libdir in $(get_all_libdirs); do
			dir="${prefix}${libdir}"
			[[ -e ${dir} || -L ${dir} ]] && continue
			if ! use split-usr && [[ ${prefix} == "${EROOT}/" ]]; then
				einfo "symlinking ${dir} to usr/${libdir}"
				ln -s "usr/${libdir}" "${dir}" || die
			else
				mkdir -p "${dir}" || die
			fi
		done
	done
}

src_unpack() {
	mkdir -p "${S}" || die
	cp -R "${FILESDIR}"/. "${S}"/ || die
}

src_prepare() {
	default
	# Merged /usr: keep the linked directories out of PATH.
	if ! use split-usr; then
		sed -e 's|:/usr/sbin:|:|g' -e 's|:/sbin:|:|g' -e 's|:/bin"|"|g' \
			-i etc/env.d/50baselayout || die
	fi
	local libdir ldpaths=
	for libdir in $(get_all_libdirs); do
		use split-usr && ldpaths+=":/${libdir}"
		ldpaths+=":/usr/${libdir}:/usr/local/${libdir}"
	done
	echo "LDPATH='${ldpaths#:}'" >>etc/env.d/50baselayout || die
}

src_install() {
	emake PV="${PV}" DESTDIR="${ED}" install
	# pkg_preinst needs the Makefile; a binary package must not reference ${S}.
	insinto /usr/share/${PN}
	doins Makefile
}

pkg_setup() {
	multilib_layout
}

pkg_preinst() {
	# The directories cannot be in CONTENTS: other packages install into them.
	multilib_layout
	if use build; then
		if use split-usr; then
			emake -C "${ED}/usr/share/${PN}" DESTDIR="${EROOT}" layout
		else
			emake -C "${ED}/usr/share/${PN}" DESTDIR="${EROOT}" layout-usrmerge
		fi
	fi
	rm -f "${ED}/usr/share/${PN}/Makefile" || die
	if [[ -L ${EROOT}/var/run || ! -e ${EROOT}/var/run ]]; then
		dosym ../run /var/run
	fi
	if [[ -L ${EROOT}/var/lock || ! -e ${EROOT}/var/lock ]]; then
		dosym ../run/lock /var/lock
	fi
}

pkg_postinst() {
	local x
	for x in passwd shadow group; do
		[[ -e ${EROOT}/etc/${x} ]] && continue
		[[ -e ${EROOT}/usr/share/baselayout/${x} ]] || continue
		cp -p "${EROOT}/usr/share/baselayout/${x}" "${EROOT}"/etc || die
	done
	[[ -e ${EROOT}/etc/shadow ]] && { chmod o-rwx "${EROOT}"/etc/shadow || die; }
}
