#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <greet.h>
#include "generated.h"

int main(int argc, char **argv) {
	char line[256];
	snprintf(line, sizeof line, "%s World!", greet_word());
#ifdef SHOUT
	for (char *p = line; *p; p++) *p = (char)toupper((unsigned char)*p);
#endif
	puts(line);
	(void)argc; (void)argv; (void)GENERATED_BY;
	return 0;
}
