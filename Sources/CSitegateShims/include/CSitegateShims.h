#ifndef CSITEGATE_SHIMS_H
#define CSITEGATE_SHIMS_H

/// Names the calling thread (Linux keeps 15 bytes); pthread_setname_np needs _GNU_SOURCE, so Swift cannot see it.
int sitegate_set_thread_name(const char *name);

#endif
