/* state.c - TODO */
typedef int cara_state_placeholder;
