#include "build_info.h"

// scripts/release writes this header into its build folder, so that a new revision
// recompiles this file alone.
#if __has_include(<redis_ocsp_revision.h>)
#include <redis_ocsp_revision.h>
#endif
#ifndef REDIS_OCSP_REVISION
#define REDIS_OCSP_REVISION ""
#endif

const char *redis_ocsp_build_revision(void) { return REDIS_OCSP_REVISION; }
