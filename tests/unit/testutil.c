/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static void
rm_tmpdir(void)
{
        char cmd[300];

        if (tmpdir[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
                if (system(cmd) != 0)
                        fprintf(stderr, "cannot remove %s\n", tmpdir);
        }
}

const char *
tu_fixtures(void)
{
        const char *f = getenv("NVH_FIXTURES");

        if (!f || !*f) {
                fprintf(stderr, "NVH_FIXTURES is not set (run through ctest), skipping\n");
                exit(77);
        }
        return f;
}

const char *
tu_tmpdir(void)
{
        if (!tmpdir[0]) {
                strcpy(tmpdir, "/tmp/nvh-unit-XXXXXX");
                if (!mkdtemp(tmpdir)) {
                        perror("mkdtemp");
                        abort();
                }
                atexit(rm_tmpdir);
        }
        return tmpdir;
}

void
tu_write_file(const char *path, const void *buf, size_t len)
{
        char dir[4096];
        int fd;

        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                tu_sh("mkdir -p '%s'", dir);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, len), (ssize_t)len);
        close(fd);
}

int
tu_sh(const char *fmt, ...)
{
        char cmd[8192];
        va_list ap;
        int st;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        st = system(cmd);
        if (st == -1)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}
