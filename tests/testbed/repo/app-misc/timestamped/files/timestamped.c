#include <stdio.h>
int main(void) { printf("built at %s\n", BUILT_AT); return 0; }
