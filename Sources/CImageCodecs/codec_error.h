#ifndef CIMAGECODECS_ERROR_H
#define CIMAGECODECS_ERROR_H

#include <stddef.h>
#include <stdio.h>

/// Writes a message into the caller's error buffer (NUL-terminated, truncated to fit).
static inline void cic_set_error(char *error, size_t length, const char *fmt, const char *detail) {
    if (error == NULL || length == 0) return;
    snprintf(error, length, fmt, detail);
}

#endif
