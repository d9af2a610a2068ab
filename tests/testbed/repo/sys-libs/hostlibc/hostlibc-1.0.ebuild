# Installs the builder's C library into the target root, as sys-libs/glibc does on Gentoo.
EAPI=8
DESCRIPTION="The builder's C library, copied into the image"
HOMEPAGE="https://example.invalid/hostlibc"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64"
RESTRICT="strip"

HOSTLIBC_LIBS="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2"

src_install() {
	local lib path dir
	for lib in ${HOSTLIBC_LIBS}; do
		path=$(${CC:-gcc} -print-file-name="${lib}") || die
		[[ ${path} == /* ]] || die "the compiler does not know ${lib}"
		path=$(realpath "${path}") || die
		dir=$(dirname "${path}")
		insinto "${dir}"
		newins "${path}" "${lib}"
		fperms 0755 "${dir}/${lib}"
	done
	# The program interpreter, at the path the x86_64 ABI fixes.
	path=$(realpath /lib64/ld-linux-x86-64.so.2) || die
	exeinto /lib64
	newexe "${path}" ld-linux-x86-64.so.2
}
