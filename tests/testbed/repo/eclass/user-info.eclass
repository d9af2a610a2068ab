# Test-bed user-info.eclass: look accounts up in the root being merged to. For a ROOT
# other than /, the root's own /etc/passwd and /etc/group are read, never the builder's.

if [[ -z ${_USER_INFO_ECLASS} ]]; then
_USER_INFO_ECLASS=1

# @FUNCTION: egetent
# @USAGE: <passwd|group> <name or id>
# @DESCRIPTION: The entry for a name or numeric id, as getent prints it; empty if none.
egetent() {
	local db=$1 key=$2
	[[ ${db} == passwd || ${db} == group ]] || die "${FUNCNAME}: unsupported database ${db}"
	if [[ -n ${ROOT%/} ]]; then
		[[ -e ${ROOT%/}/etc/${db} ]] || return 0
		awk -F: -v key="${key}" '$1 == key || $3 == key { print; exit }' \
			"${ROOT%/}/etc/${db}"
	else
		getent "${db}" "${key}"
	fi
}

fi
