# Test-bed acct-user.eclass, shaped like Gentoo's: one package per user, named ${PN},
# with the UID fixed by ACCT_USER_ID and its groups in ACCT_USER_GROUPS (the first is the
# primary group); acct-user_add_deps makes the acct-group packages runtime dependencies.
# The user is created in ROOT (useradd --prefix) in pkg_preinst.
#
#   EAPI=8
#   inherit acct-user
#   ACCT_USER_ID=200
#   ACCT_USER_GROUPS=( foo )
#   acct-user_add_deps

if [[ -z ${_ACCT_USER_ECLASS} ]]; then
_ACCT_USER_ECLASS=1

inherit user-info

[[ ${CATEGORY} == acct-user ]] || die "acct-user.eclass is for the acct-user category only"

ACCT_USER_NAME=${PN}
readonly ACCT_USER_NAME
: "${ACCT_USER_SHELL:=-1}"
: "${ACCT_USER_HOME:=/dev/null}"
: "${ACCT_USER_HOME_PERMS:=0755}"

: "${DESCRIPTION:="System user: ${ACCT_USER_NAME}"}"
: "${SLOT:=0}"
: "${KEYWORDS:=amd64 arm64}"
: "${LICENSE:=MIT}"
S=${WORKDIR}

# @FUNCTION: acct-user_add_deps
# @DESCRIPTION: The groups of ACCT_USER_GROUPS as runtime dependencies; call it globally.
acct-user_add_deps() {
	[[ $(declare -p ACCT_USER_GROUPS 2>/dev/null) == "declare -a"* ]] ||
		die "ACCT_USER_GROUPS must be an array"
	[[ ${#ACCT_USER_GROUPS[@]} -gt 0 ]] || die "ACCT_USER_GROUPS must not be empty"
	RDEPEND+=${ACCT_USER_GROUPS[*]/#/ acct-group/}
	_ACCT_USER_ADD_DEPS_CALLED=1
}

EXPORT_FUNCTIONS pkg_pretend src_install pkg_preinst

acct-user_pkg_pretend() {
	[[ -n ${_ACCT_USER_ADD_DEPS_CALLED} ]] || die "acct-user_add_deps must be called"
	[[ -n ${ACCT_USER_ID} ]] || die "ACCT_USER_ID must be set"
	[[ ${ACCT_USER_ID} -ge -1 ]] || die "ACCT_USER_ID=${ACCT_USER_ID} is invalid"
}

acct-user_src_install() {
	[[ ${ACCT_USER_HOME} != /dev/null ]] && keepdir "${ACCT_USER_HOME}"
	insinto /usr/lib/sysusers.d
	newins - "${CATEGORY}-${ACCT_USER_NAME}.conf" < <(
		printf 'u\t%s\t%s\t%s\t%s\t%s\n' "${ACCT_USER_NAME}" \
			"${ACCT_USER_ID/#-*/-}:${ACCT_USER_GROUPS[0]}" "${DESCRIPTION//[:,=]/;}" \
			"${ACCT_USER_HOME}" "${ACCT_USER_SHELL/#-*/-}"
	)
}

# A nologin shell the root has, as Gentoo's user.eclass picks it.
_acct_user_nologin() {
	local shell
	for shell in /sbin/nologin /usr/sbin/nologin /bin/false /usr/bin/false; do
		[[ -x ${ROOT%/}${shell} ]] && { echo "${shell}"; return; }
	done
	echo /bin/false
}

acct-user_pkg_preinst() {
	local group
	for group in "${ACCT_USER_GROUPS[@]}"; do
		[[ -n $(egetent group "${group}") ]] || die "group ${group} is not in ${ROOT:-/}"
	done
	if [[ -z $(egetent passwd "${ACCT_USER_NAME}") ]]; then
		local shell=${ACCT_USER_SHELL}
		[[ ${shell} == -1 ]] && shell=$(_acct_user_nologin)
		local opts=(--system --no-create-home --no-user-group --shell "${shell}"
			--home-dir "${ACCT_USER_HOME}" --gid "${ACCT_USER_GROUPS[0]}"
			--comment "${DESCRIPTION//[:,=]/;}")
		[[ -n ${ROOT%/} ]] && opts+=(--prefix "${ROOT%/}")
		if [[ ${ACCT_USER_ID} -ne -1 && -z $(egetent passwd "${ACCT_USER_ID}") ]]; then
			opts+=(--uid "${ACCT_USER_ID}")
		fi
		if [[ ${#ACCT_USER_GROUPS[@]} -gt 1 ]]; then
			local extra=("${ACCT_USER_GROUPS[@]:1}")
			opts+=(--groups "$(IFS=,; echo "${extra[*]}")")
		fi
		elog "Adding user '${ACCT_USER_NAME}' to ${ROOT:-/}"
		useradd "${opts[@]}" "${ACCT_USER_NAME}" || die "useradd ${ACCT_USER_NAME} failed"
	fi
	if [[ ${ACCT_USER_HOME} != /dev/null ]]; then
		# Numeric ids from ROOT: chown would look names up in the builder's passwd.
		local uid gid
		uid=$(egetent passwd "${ACCT_USER_NAME}" | cut -d: -f3)
		gid=$(egetent group "${ACCT_USER_GROUPS[0]}" | cut -d: -f3)
		fowners "${uid}:${gid}" "${ACCT_USER_HOME}"
		fperms "${ACCT_USER_HOME_PERMS}" "${ACCT_USER_HOME}"
	fi
}

fi
