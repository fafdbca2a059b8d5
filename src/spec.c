/* spec.c - TODO */
typedef int cara_spec_placeholder;
