# Test-bed multilib.eclass: the library directories of the profile's ABIs, as Gentoo's
# multilib.eclass reports them (LIBDIR_${ABI} for each of MULTILIB_ABIS).

if [[ -z ${_MULTILIB_ECLASS} ]]; then
_MULTILIB_ECLASS=1

# @FUNCTION: get_abi_LIBDIR
# @USAGE: [ABI]
# @DESCRIPTION: The library directory of ABI (default: the current ABI).
get_abi_LIBDIR() {
	local abi=${1:-${ABI:-${DEFAULT_ABI}}}
	local var=LIBDIR_${abi}
	echo "${!var:-lib}"
}

# @FUNCTION: get_all_libdirs
# @DESCRIPTION: Every library directory the profile's ABIs use, and lib, once each.
get_all_libdirs() {
	local abi dir seen=" lib "
	local dirs=(lib)
	for abi in ${MULTILIB_ABIS:-${DEFAULT_ABI}}; do
		dir=$(get_abi_LIBDIR "${abi}")
		[[ ${seen} == *" ${dir} "* ]] && continue
		seen+="${dir} "
		dirs+=("${dir}")
	done
	echo "${dirs[*]}"
}

fi
