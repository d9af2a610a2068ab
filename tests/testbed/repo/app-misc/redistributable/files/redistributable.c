#include <stdio.h>

int main(void) {
    puts("accepted by license");
    return 0;
}
