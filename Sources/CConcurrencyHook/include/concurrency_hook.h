#ifndef REDIS_OCSP_CONCURRENCY_HOOK_H
#define REDIS_OCSP_CONCURRENCY_HOOK_H

/// Where the Swift concurrency runtime looks for a replacement of its global executor's
/// enqueue (`swift_task_enqueueGlobal_hook`). Linked by name, because a binary with the
/// standard library linked statically keeps the symbol hidden from dlsym.
void *_Nullable *_Nonnull redis_ocsp_enqueue_global_hook(void);

#endif
