/* log.c - TODO */
typedef int cara_log_placeholder;
