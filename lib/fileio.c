/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

void
nvh_fileio_prefault(void *p, size_t len)
{
        uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        uintptr_t end = ((uintptr_t)p + len) & ~(uintptr_t)4095;

        if (len < NVH_FILEIO_PREFAULT_MIN || end <= start)
                return;
        /* Best effort: older kernels answer EINVAL and the pages fault in one by one. */
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

int
nvh_fileio_read_fd(int fd, const char *what, size_t max_size, char **ret_buf, size_t *ret_len,
                   struct nvh_err *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        /* A regular file's size sizes the buffer once (a size that changed meanwhile is
         * still handled by the loop); a large buffer is faulted in with one call. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (uint64_t)st.st_size <= max_size) {
                cap = (size_t)st.st_size + 2;
                buf = malloc(cap);
                if (!buf)
                        return nvh_err_set(err, -ENOMEM, "read '%s': out of memory", what);
                nvh_fileio_prefault(buf, cap);
        }
        for (;;) {
                if (len + 1 >= cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        char *nbuf;

                        if (ncap > max_size + 2)
                                ncap = max_size + 2;
                        if (ncap <= len + 1)
                                return nvh_err_set(err, -E2BIG, "read '%s': larger than %zu bytes",
                                                   what, max_size);
                        nbuf = realloc(buf, ncap);
                        if (!nbuf)
                                return nvh_err_set(err, -ENOMEM, "read '%s': out of memory", what);
                        buf = nbuf;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return nvh_err_errno(err, "read '%s'", what);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max_size)
                        return nvh_err_set(err, -E2BIG, "read '%s': larger than %zu bytes", what,
                                           max_size);
        }
        if (!buf) {
                buf = calloc(1, 1);
                if (!buf)
                        return nvh_err_set(err, -ENOMEM, "read '%s': out of memory", what);
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int
nvh_fileio_read_at(int dir_fd, const char *rel_path, size_t max_size, int nofollow, char **ret_buf,
                   size_t *ret_len, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;

        fd =
            openat(dir_fd, rel_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
        if (fd < 0)
                return nvh_err_errno(err, "open '%s'", rel_path);
        return nvh_fileio_read_fd(fd, rel_path, max_size, ret_buf, ret_len, err);
}

int
nvh_fileio_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

char *
nvh_fileio_path_join(const char *a, const char *b)
{
        size_t la = strlen(a);
        char *r;

        while (la > 0 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        if (asprintf(&r, "%.*s/%s", (int)la, a, b) < 0)
                return NULL;
        return r;
}

char *
nvh_fileio_path_normalize(const char *path)
{
        char *out = malloc(strlen(path) + 2);
        size_t o = 0;
        const char *p = path;

        if (!out)
                return NULL;
        while (*p) {
                size_t n;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (!(n == 1 && p[0] == '.')) {
                        out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = '\0';
        return out;
}

char *
nvh_fileio_path_strip_trailing_slashes(const char *path)
{
        size_t len = strlen(path);

        while (len > 1 && path[len - 1] == '/')
                len--;
        return strndup(path, len);
}
