/* pass.c - TODO */
typedef int cara_pass_placeholder;
