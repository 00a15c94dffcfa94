#include "concurrency_hook.h"

// A function pointer in the runtime; only its address is taken here.
extern void *swift_task_enqueueGlobal_hook;

void **redis_ocsp_enqueue_global_hook(void) {
    return &swift_task_enqueueGlobal_hook;
}
