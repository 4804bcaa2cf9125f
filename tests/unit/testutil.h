/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for cmocka unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Directory of generated fixtures ($NVH_FIXTURES); skips (exit 77) when unset. */
const char *tu_fixtures(void);

/* A fresh temporary directory under /tmp, removed at exit. */
const char *tu_tmpdir(void);

/* Write a file (creating parents); aborts the test on failure. */
void tu_write_file(const char *path, const void *buf, size_t len);

/* Run a shell command, return its exit status. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
