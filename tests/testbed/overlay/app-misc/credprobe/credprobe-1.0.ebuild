# Looks for the user's credentials from inside the build, phase by phase, and installs what
# it found as /usr/share/credprobe/seen ("PHASE USER: WHAT…", "nothing" when nothing):
# pkg_setup and src_install run as root, src_unpack and src_compile as the portage user
# when Portage's userpriv is on. STAVES_PROBE_RUN (package.env) makes each test build it anew.
EAPI=8
DESCRIPTION="Test package that looks for the user's SSH keys, agent and netrc"
HOMEPAGE="https://example.invalid/credprobe"
S="${WORKDIR}"
LICENSE="MIT"
SLOT="0"
KEYWORDS="amd64"

probe() {
	local found=() key
	[[ -r /root/.netrc ]] && found+=( netrc )
	for key in /root/.ssh/id_* /root/.ssh/*.key; do
		[[ -r ${key} ]] && found+=( "key:${key##*/}" )
	done
	[[ -r /root/.ssh/known_hosts ]] && found+=( known_hosts )
	[[ -n ${SSH_AUTH_SOCK} && -S ${SSH_AUTH_SOCK} ]] && found+=( agent )
	[[ -r /run/staves && -x /run/staves ]] && ls -A /run/staves 2>/dev/null | grep -q . \
		&& found+=( run-staves )
	echo "${1} $(id -un): ${found[*]:-nothing}" > "${T}/seen.${1}" || die
}

pkg_setup() {
	probe setup
}

src_unpack() {
	probe unpack
}

src_compile() {
	probe compile
}

src_install() {
	probe install
	insinto /usr/share/credprobe
	cat "${T}"/seen.{setup,unpack,compile,install} > "${T}/seen" || die
	echo "run ${STAVES_PROBE_RUN:-unset}" >> "${T}/seen" || die
	doins "${T}/seen"
}
