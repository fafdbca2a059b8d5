/*
 * backend/engine/engine.c - the Docker Engine backend: containers on one
 * host, what it can do itself.
 */
#include "backend/backend.h"
#include "util.h"

/* cara pulls images (so a pull shows in the plan and fails alone), and
 * a stopped container starts again with its writable layer intact */
const struct backend_caps backend_engine_caps = {
	.name = "engine",
	.pulls_images = false,
	.starts_stopped = true,
};
