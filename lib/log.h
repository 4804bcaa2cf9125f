/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: stderr always, optional JSON-lines file written by hook/. */
#pragma once

enum nvh_log_level {
        NVH_LOG_ERROR = 0,
        NVH_LOG_WARN = 1,
        NVH_LOG_INFO = 2,
        NVH_LOG_DEBUG = 3,
};

void nvh_log_set_level(enum nvh_log_level level);
void nvh_log(enum nvh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nvh_log_debug(...) nvh_log(NVH_LOG_DEBUG, __VA_ARGS__)
#define nvh_log_warn(...) nvh_log(NVH_LOG_WARN, __VA_ARGS__)

/* Monotonic clock in nanoseconds, for per-phase timings. */
unsigned long long nvh_log_now_ns(void);
