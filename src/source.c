/* source.c - TODO */
typedef int cara_source_placeholder;
