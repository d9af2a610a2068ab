EAPI=8
inherit acct-group
ACCT_GROUP_ID=480
