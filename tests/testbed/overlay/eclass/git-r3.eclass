# The test overlay's git-r3.eclass, written for the test bed after Gentoo's: a live
# ebuild's sources are the head of a branch of a git repository, fetched when it is built.
#
# What it shares with Gentoo's, for the builds that use it:
# - PROPERTIES="live" (what Portage and Staves know a live package by) and git in BDEPEND;
# - EGIT_REPO_URI, EGIT_BRANCH, EGIT_COMMIT, EGIT_CHECKOUT_DIR (default ${WORKDIR}/${P});
# - a user points a repository elsewhere with EGIT_OVERRIDE_REPO_<ID> (also _BRANCH_ and
#   _COMMIT_), <ID> being the repository's path without ".git", upper case, every other
#   character than a letter or digit as "_" (https://example.invalid/livehello.git:
#   EGIT_OVERRIDE_REPO_LIVEHELLO);
# - clones kept in ${PORTAGE_ACTUAL_DISTDIR}/git3-src between builds, fetched into anew;
# - EGIT_VERSION: the commit checked out, which Portage saves in the environment.

if [[ -z ${_GIT_R3_ECLASS} ]]; then
_GIT_R3_ECLASS=1

PROPERTIES+=" live"
BDEPEND="dev-vcs/git"

# The repository's id: its URI's path without the host and ".git".
_git-r3_repo_id() {
	local path=${1#*://*/}
	path=${path%/}
	echo "${path%.git}"
}

# The name of the repository's EGIT_OVERRIDE_* variables.
_git-r3_override_name() {
	local id
	id=$(_git-r3_repo_id "${1}")
	id=${id//[^A-Za-z0-9]/_}
	echo "${id^^}"
}

git-r3_src_unpack() {
	local name var uri branch commit store gitdir checkout source=HEAD
	name=$(_git-r3_override_name "${EGIT_REPO_URI}")
	var=EGIT_OVERRIDE_REPO_${name}
	uri=${!var:-${EGIT_REPO_URI}}
	var=EGIT_OVERRIDE_BRANCH_${name}
	branch=${!var:-${EGIT_BRANCH}}
	var=EGIT_OVERRIDE_COMMIT_${name}
	commit=${!var:-${EGIT_COMMIT}}
	einfo "Repository id: $(_git-r3_repo_id "${EGIT_REPO_URI}")"
	einfo "To override fetched repository properties, use:"
	einfo "  EGIT_OVERRIDE_REPO_${name}"

	store=${PORTAGE_ACTUAL_DISTDIR:-${DISTDIR}}/git3-src
	gitdir=${store}/$(_git-r3_repo_id "${EGIT_REPO_URI}" | tr / _).git
	addwrite "${store}"
	mkdir -p "${store}" || die "cannot make ${store}"
	[[ -d ${gitdir} ]] || git init -q --bare "${gitdir}" || die "cannot make ${gitdir}"
	[[ -n ${branch} ]] && source=refs/heads/${branch}
	einfo "Fetching ${uri} ${source}"
	git --git-dir="${gitdir}" fetch -q "${uri}" "+${source}:refs/git-r3/HEAD" \
		|| die "cannot fetch ${uri}"
	EGIT_VERSION=$(git --git-dir="${gitdir}" rev-parse "${commit:-refs/git-r3/HEAD}^{commit}") \
		|| die "no commit ${commit:-HEAD} in ${uri}"
	export EGIT_VERSION
	einfo "   at the commit: ${EGIT_VERSION}"

	checkout=${EGIT_CHECKOUT_DIR:-${WORKDIR}/${P}}
	mkdir -p "${checkout}" || die
	git --git-dir="${gitdir}" --work-tree="${checkout}" checkout -q -f "${EGIT_VERSION}" -- . \
		|| die "cannot check out ${EGIT_VERSION}"
}

EXPORT_FUNCTIONS src_unpack

fi
