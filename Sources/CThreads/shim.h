// POSIX thread calls Swift's Glibc module does not expose (GNU extensions).
#include <pthread.h>

extern int pthread_setname_np(pthread_t thread, const char *name);

/// Names the calling thread (as `top -H`, gdb and crash backtraces show it); Linux allows 15 bytes.
static inline int focusd_name_current_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
