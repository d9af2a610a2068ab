/* Prints uid=N(name) gid=N(name), looking the names up as id(1) does. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct passwd *user = getpwuid(uid);
	struct group *group = getgrgid(gid);
	printf("uid=%u", (unsigned)uid);
	if (user)
		printf("(%s)", user->pw_name);
	printf(" gid=%u", (unsigned)gid);
	if (group)
		printf("(%s)", group->gr_name);
	printf("\n");
	return 0;
}
