#include <stdio.h>
#include "shape.h"

int main(void) {
#ifdef SQUARE
    printf("square %s\n", shape_name());
#else
    printf("round %s\n", shape_name());
#endif
    return 0;
}
