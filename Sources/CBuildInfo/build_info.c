#include "build_info.h"

#ifndef REDIS_OCSP_REVISION
#define REDIS_OCSP_REVISION ""
#endif

const char *redis_ocsp_build_revision(void) { return REDIS_OCSP_REVISION; }
