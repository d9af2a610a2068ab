#include <stdio.h>
int main(void) { puts("#define GENERATED_BY \"gentool\""); return 0; }
