#ifndef REDIS_OCSP_STARTUP_PAGES_H
#define REDIS_OCSP_STARTUP_PAGES_H

#include <stddef.h>
#include <stdint.h>

/// A page-aligned span of a loaded object's segment that the object's file backs.
struct redis_ocsp_span {
    uintptr_t start;
    size_t length;
    /// The segment is writable: some of its pages may be the process's own copies.
    int writable;
};

/// The file-backed segments of the program and of each shared library loaded from a file,
/// page-aligned, leaving out the RELRO data (relocated at start, so entirely the process's
/// own copies) and every object with text relocations (whose code the loader wrote to).
/// Writes up to `capacity` spans to `spans` and returns how many there are.
size_t redis_ocsp_file_spans(struct redis_ocsp_span *_Nonnull spans, size_t capacity);

#endif
