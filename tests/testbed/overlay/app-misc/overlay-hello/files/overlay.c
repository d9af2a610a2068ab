#include <stdio.h>
int main(void) { puts("hello from the overlay"); return 0; }
