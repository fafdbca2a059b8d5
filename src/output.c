/* output.c - TODO */
typedef int cara_output_placeholder;
