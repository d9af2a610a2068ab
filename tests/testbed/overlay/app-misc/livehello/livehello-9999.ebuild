# A live package: its source is the head of an upstream git branch (git-r3.eclass),
# fetched and compiled by every build. Tests point it at their own loopback git server
# with EGIT_OVERRIDE_REPO_LIVEHELLO, as a user points a live ebuild at a mirror; live
# ebuilds carry no keywords, so a spec accepts it with keywords = ["**"].
EAPI=8
inherit git-r3
DESCRIPTION="Test program built from its upstream's git branch"
HOMEPAGE="https://example.invalid/livehello"
EGIT_REPO_URI="https://example.invalid/livehello.git"
LICENSE="MIT"
SLOT="0"
KEYWORDS=""

src_compile() {
	${CC:-gcc} ${CFLAGS} ${LDFLAGS} -o livehello livehello.c || die
}

src_install() {
	dobin livehello
}
