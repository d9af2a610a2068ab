const char *shape_name(void);
