EAPI=8
inherit acct-user
DESCRIPTION="User for www-servers/webd"
ACCT_USER_ID=480
ACCT_USER_HOME=/var/lib/webd
ACCT_USER_GROUPS=( webd )
acct-user_add_deps
