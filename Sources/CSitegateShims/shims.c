#define _GNU_SOURCE
#include <pthread.h>
#ifdef __linux__
#include <sys/timex.h>
#endif
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "CSitegateShims.h"

int sitegate_set_thread_name(const char *name) {
#ifdef __linux__
    return pthread_setname_np(pthread_self(), name);
#else
    (void)name;
    return 0;
#endif
}

int sitegate_clock_state(int *status, long *esterror, long *maxerror) {
#ifdef __linux__
    struct timex t = {0};
    t.modes = 0;
    int result = adjtimex(&t);
    *status = t.status;
    *esterror = t.esterror;
    *maxerror = t.maxerror;
    return result;
#else
    (void)status; (void)esterror; (void)maxerror;
    errno = ENOSYS;
    return -1;
#endif
}

int sitegate_malloc_arena_max(int count) {
#ifdef __GLIBC__
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}

int sitegate_malloc_trim_threshold(int bytes) {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
    return mallopt(M_TRIM_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
