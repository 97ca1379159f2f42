#ifndef CSITEGATE_SHIMS_H
#define CSITEGATE_SHIMS_H

/// Names the calling thread (Linux keeps 15 bytes); pthread_setname_np needs _GNU_SOURCE, so Swift cannot see it.
int sitegate_set_thread_name(const char *name);

/// adjtimex(2) with modes = 0 (read only): the kernel clock's status bits and its estimated and maximum error in
/// microseconds. Returns the call's result (TIME_ERROR, 5, when the clock is not synchronised), or -1 with errno
/// set. Glibc's Swift module does not export <sys/timex.h>, hence this shim.
int sitegate_clock_state(int *status, long *esterror, long *maxerror);

/// mallopt(M_ARENA_MAX, count): at most `count` glibc malloc arenas from now on. Returns 1 on success, 0 on failure
/// or where the C library is not glibc. <malloc.h> is not in Glibc's Swift module, hence this shim.
int sitegate_malloc_arena_max(int count);

/// mallopt(M_TRIM_THRESHOLD, bytes): how much free memory glibc keeps at the top of a malloc arena instead of
/// giving it back to the kernel. <malloc.h> is not in Glibc's Swift module, hence this shim. Returns 1 on success
/// (0 where there is no glibc malloc).
int sitegate_malloc_trim_threshold(int bytes);

#endif
