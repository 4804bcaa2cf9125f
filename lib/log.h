/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: stderr always; errors and warnings also to the system log when a syslog socket is
 * set (crun drops a failing hook's stderr); warnings are kept for the JSON-lines file that
 * hook/ writes. */
#pragma once

#include <stddef.h>

enum nvh_log_level {
        NVH_LOG_ERROR = 0,
        NVH_LOG_WARN = 1,
        NVH_LOG_INFO = 2,
        NVH_LOG_DEBUG = 3,
};

/* Warnings kept for the JSON log line (the first ones; later ones are only printed). */
#define NVH_LOG_WARNINGS_MAX 16

void nvh_log_set_level(enum nvh_log_level level);
void nvh_log(enum nvh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nvh_log_debug(...) nvh_log(NVH_LOG_DEBUG, __VA_ARGS__)
#define nvh_log_warn(...) nvh_log(NVH_LOG_WARN, __VA_ARGS__)

/* Send errors and warnings also to the syslog socket socket_path (a unix datagram socket,
 * "/dev/log"; NULL or a missing socket: none), identifier "nvhook", each message prefixed
 * with context (the container id; NULL: none). Calling it again changes the context. */
void nvh_log_syslog_open(const char *socket_path, const char *context);

/* Also write every log line, debug included and whatever the level, to fd (a file the
 * caller opened, e.g. nvidia-container-cli's --debug=FILE); -1: none. */
void nvh_log_set_file(int fd);

/* An error line for the system log only (stderr has it already, from the caller). */
void nvh_log_syslog_error(const char *msg);

/* The warnings logged so far (up to NVH_LOG_WARNINGS_MAX), oldest first. */
size_t nvh_log_warnings(const char *const **ret);

/* Monotonic clock in nanoseconds, for per-phase timings. */
unsigned long long nvh_log_now_ns(void);
