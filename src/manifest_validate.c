/* manifest_validate.c - TODO */
typedef int cara_manifest_validate_placeholder;
