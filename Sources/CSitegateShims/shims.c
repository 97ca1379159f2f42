#define _GNU_SOURCE
#include <pthread.h>
#include "CSitegateShims.h"

int sitegate_set_thread_name(const char *name) {
#ifdef __linux__
    return pthread_setname_np(pthread_self(), name);
#else
    (void)name;
    return 0;
#endif
}

