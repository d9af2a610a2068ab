# A virtual with two providers; the first of the any-of is the default.
EAPI=8
DESCRIPTION="Virtual for shape data"
SLOT="0"
KEYWORDS="amd64 arm64"
RDEPEND="|| ( app-misc/shape-data-basic app-misc/shape-data-full )"
