/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the C component tests: CHECK records a failure and goes on, MUST stops the test on
 * a negative return (printing the struct nvh_err message), ct_sh runs a shell command or stops.
 * Header-only, so that each ct_*.c stays one executable. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Checks that failed; main returns non-zero when any did. */
static int failures;

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        failures++;                                                                \
                }                                                                                  \
        } while (0)

#define MUST(expr, err)                                                                            \
        do {                                                                                       \
                int _r = (expr);                                                                   \
                if (_r < 0) {                                                                      \
                        fprintf(stderr, "%s:%d: %s failed: %d: %s\n", __FILE__, __LINE__, #expr,   \
                                _r, (err)->msg);                                                   \
                        exit(1);                                                                   \
                }                                                                                  \
        } while (0)

static inline void __attribute__((format(printf, 1, 2))) ct_sh(const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (system(cmd) != 0) {
                fprintf(stderr, "command failed: %s\n", cmd);
                exit(1);
        }
}
