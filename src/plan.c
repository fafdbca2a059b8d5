/* plan.c - TODO */
typedef int cara_plan_placeholder;
