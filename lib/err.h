/* SPDX-License-Identifier: Apache-2.0 */
/* Error object threaded through every call: negative errno + one-line message. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#define NVH_ERR_MSG_MAX 512

struct nvh_err {
        int code;                  /* negative errno, 0 when unset */
        char msg[NVH_ERR_MSG_MAX]; /* one line, lower case, names the offending value */
};

/* Set the error and return code (a negative errno), so callers write
 * `return nvh_err_set(err, -EINVAL, "bad device '%s'", s);`. err may be NULL. */
int nvh_err_set(struct nvh_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The failed call's errno (read first thing, so call it on the line after the failure, with
 * arguments that do not touch errno): code -errno, message "<fmt>: <strerror(errno)>".
 * No call site formats strerror itself. */
int nvh_err_errno(struct nvh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for a negative errno a function returned: message "<fmt>: <strerror(-code)>". */
int nvh_err_sys(struct nvh_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix context to an existing message ("open cache: <old>") and return err->code. */
int nvh_err_prefix(struct nvh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy src to dst (size bytes, NUL-terminated) with every control byte (< 0x20, 0x7f) as a
 * visible "\xNN": what an image controls never reaches a terminal or a log as an escape
 * sequence or a second line. Used by every message and log line. */
void nvh_err_escape(const char *src, char *dst, size_t size);

/* Clear the error. */
void nvh_err_clear(struct nvh_err *err);
