/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum nvh_log_level current_level = NVH_LOG_WARN;

void
nvh_log_set_level(enum nvh_log_level level)
{
        current_level = level;
}

void
nvh_log(enum nvh_log_level level, const char *fmt, ...)
{
        static const char *const names[] = {"error", "warning", "info", "debug"};
        char line[1024];
        va_list ap;

        if (level > current_level)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* One write per line so concurrent hooks do not interleave mid-line. */
        fprintf(stderr, "nvhook: %s: %s\n", names[level], line);
}

unsigned long long
nvh_log_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
