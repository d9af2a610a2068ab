#include <stdio.h>
int main(void) { puts("testing keyword accepted"); return 0; }
