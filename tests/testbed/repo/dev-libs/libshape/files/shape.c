#include "shape.h"

const char *shape_name(void) { return SHAPE_NAME; }
