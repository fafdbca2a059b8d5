/* manifest.c - TODO */
typedef int cara_manifest_placeholder;
