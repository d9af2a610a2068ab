/* Prints the locale setlocale(LC_ALL, "") chose and its codeset; exits 1 if it refused. */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>

int main(void) {
	const char *chosen = setlocale(LC_ALL, "");
	if (!chosen) {
		printf("refused\n");
		return 1;
	}
	printf("%s %s\n", chosen, nl_langinfo(CODESET));
	return 0;
}
