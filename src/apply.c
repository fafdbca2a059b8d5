/* apply.c - TODO */
typedef int cara_apply_placeholder;
