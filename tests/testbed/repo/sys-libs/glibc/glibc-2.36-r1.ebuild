# The GNU C library for every ABI of the profile, as Gentoo's sys-libs/glibc installs it:
# the amd64 libc in /lib64, the x86 one in /lib (LIBDIR_amd64, LIBDIR_x86); arm64's in
# /lib64 (LIBDIR_arm64). The test bed cannot compile glibc in reasonable time, so it
# installs the build machine's own copies: Debian's libc6 (amd64, arm64) and libc6-i386
# (x86), which the test builder carries.
EAPI=8
DESCRIPTION="The GNU C library (the test builder's own, for every ABI)"
HOMEPAGE="https://www.gnu.org/software/libc/"
S="${WORKDIR}"
LICENSE="LGPL-2.1+ GPL-2+"
SLOT="2.2"
KEYWORDS="amd64 arm64"
IUSE="multilib"
RESTRICT="strip"
QA_PREBUILT="*"

GLIBC_LIBS="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2"

# Where the build machine keeps each ABI's libraries, and the ABI's program interpreter.
glibc_host_dir() {
	case ${1} in
		amd64) echo /usr/lib/x86_64-linux-gnu ;;
		x86) echo /usr/lib32 ;;
		arm64) echo /usr/lib/aarch64-linux-gnu ;;
	esac
}

glibc_loader() {
	case ${1} in
		amd64) echo ld-linux-x86-64.so.2 ;;
		x86) echo ld-linux.so.2 ;;
		arm64) echo ld-linux-aarch64.so.1 ;;
	esac
}

glibc_abis() {
	if use multilib; then echo ${MULTILIB_ABIS}; else echo ${DEFAULT_ABI}; fi
}

src_install() {
	local abi from lib libdir ldpath=
	for abi in $(glibc_abis); do
		from=$(glibc_host_dir "${abi}")
		[[ -n ${from} && -d ${from} ]] || die "no ${abi} C library on the build machine"
		libdir=LIBDIR_${abi}
		libdir=${!libdir}
		exeinto "/${libdir}"
		for lib in ${GLIBC_LIBS} $(glibc_loader "${abi}"); do
			newexe "$(realpath "${from}/${lib}")" "${lib}"
		done
		ldpath+=${ldpath:+:}/${libdir}:/usr/${libdir}
		# The AArch64 ABI fixes the program interpreter at /lib/ld-linux-aarch64.so.1,
		# outside LIBDIR_arm64: Gentoo's glibc links it there, and so does this one.
		if [[ ${abi} == arm64 && ${libdir} != lib ]]; then
			dosym "../${libdir}/$(glibc_loader "${abi}")" "/lib/$(glibc_loader "${abi}")"
		fi
	done
	# ldconfig, which env-update runs from the root being merged to (ROOT/sbin/ldconfig).
	exeinto /sbin
	newexe "$(realpath /sbin/ldconfig)" ldconfig
	# Gentoo's glibc finds each ABI's libdirs by paths compiled into its loader; Debian's
	# loader has its multiarch directories there instead. So the libdirs go to env.d, from
	# which env-update writes the root's ld.so.conf and ld.so.cache while merging.
	newenvd - 00glibc <<<"LDPATH=\"${ldpath}\""
}
