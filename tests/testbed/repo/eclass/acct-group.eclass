# Test-bed acct-group.eclass, shaped like Gentoo's: one package per group, named ${PN},
# with the GID fixed by ACCT_GROUP_ID, created in ROOT (groupadd --prefix) in pkg_preinst.
#
#   EAPI=8
#   inherit acct-group
#   ACCT_GROUP_ID=200

if [[ -z ${_ACCT_GROUP_ECLASS} ]]; then
_ACCT_GROUP_ECLASS=1

inherit user-info

[[ ${CATEGORY} == acct-group ]] || die "acct-group.eclass is for the acct-group category only"

ACCT_GROUP_NAME=${PN}
readonly ACCT_GROUP_NAME

: "${DESCRIPTION:="System group: ${ACCT_GROUP_NAME}"}"
: "${SLOT:=0}"
: "${KEYWORDS:=amd64 arm64}"
: "${LICENSE:=MIT}"
S=${WORKDIR}

EXPORT_FUNCTIONS pkg_pretend src_install pkg_preinst

acct-group_pkg_pretend() {
	[[ -n ${ACCT_GROUP_ID} ]] || die "ACCT_GROUP_ID must be set"
	[[ ${ACCT_GROUP_ID} -ge -1 ]] || die "ACCT_GROUP_ID=${ACCT_GROUP_ID} is invalid"
}

acct-group_src_install() {
	insinto /usr/lib/sysusers.d
	newins - "${CATEGORY}-${ACCT_GROUP_NAME}.conf" < <(
		printf 'g\t%s\t%s\n' "${ACCT_GROUP_NAME}" "${ACCT_GROUP_ID/#-*/-}"
	)
}

acct-group_pkg_preinst() {
	[[ -n $(egetent group "${ACCT_GROUP_NAME}") ]] && return 0
	local opts=(--system)
	[[ -n ${ROOT%/} ]] && opts+=(--prefix "${ROOT%/}")
	if [[ ${ACCT_GROUP_ID} -ne -1 && -z $(egetent group "${ACCT_GROUP_ID}") ]]; then
		opts+=(--gid "${ACCT_GROUP_ID}")
	fi
	elog "Adding group '${ACCT_GROUP_NAME}' to ${ROOT:-/}"
	groupadd "${opts[@]}" "${ACCT_GROUP_NAME}" || die "groupadd ${ACCT_GROUP_NAME} failed"
}

fi
