#ifndef REDIS_OCSP_BUILD_INFO_H
#define REDIS_OCSP_BUILD_INFO_H

/// The source revision the binary was built from: set by scripts/release (a header in
/// its build folder), empty in a development build.
const char *redis_ocsp_build_revision(void);

#endif
