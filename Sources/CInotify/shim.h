// The kernel's inotify API (glibc's <sys/inotify.h>): no library to link.
// libinotifytools is deliberately not used; systemd/README.md says why.
#include <sys/inotify.h>
