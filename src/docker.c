/* docker.c - TODO */
typedef int cara_docker_placeholder;
