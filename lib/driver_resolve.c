/* SPDX-License-Identifier: Apache-2.0 */
#include "driver_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kfeatures.h"
#include "macros.h"
#include "rootfs.h"
#include "syscalls.h"

/* dir + "/" + name ("" is the root); NULL for ENOMEM. Runs once or twice per library:
 * asprintf costs several times as much. */
static char *
join(const char *dir, const char *name, size_t name_len)
{
        size_t dlen = strlen(dir);
        char *p = malloc(dlen + 1 + name_len + 1), *q = p;

        if (!p)
                return NULL;
        if (dlen) {
                memcpy(q, dir, dlen);
                q += dlen;
                *q++ = '/';
        }
        memcpy(q, name, name_len);
        q[name_len] = '\0';
        return p;
}

/* The one in-root walker (rootfs.c) does the work: every component is opened O_NOFOLLOW from
 * a directory fd reached from root_fd and every link read there, so the result names real
 * directories and a final non-link, all inside the root. Callers open the result with
 * nvh_driver_resolve_open (or O_NOFOLLOW). resolved: a directory already resolved, "" for
 * the root. */
static int
resolve_from(int root_fd, const char *resolved, const char *rel, char **ret_rel,
             struct nvh_err *err)
{
        _cleanup_free_ char *joined = NULL;

        if (*resolved) {
                joined = join(resolved, rel, strlen(rel));
                if (!joined)
                        return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory", rel);
        }
        return nvh_rootfs_resolve_path(root_fd, joined ? joined : rel, ret_rel, err);
}

int
nvh_driver_resolve(int root_fd, const char *rel, char **ret_rel, struct nvh_err *err)
{
        return resolve_from(root_fd, "", rel, ret_rel, err);
}

void
nvh_driver_resolve_memo_clear(struct nvh_driver_memo *memo)
{
        for (size_t i = 0; i < memo->n; i++) {
                free(memo->dirs[i].in);
                free(memo->dirs[i].out);
        }
        memo->n = 0;
}

static const char *
memo_find(const struct nvh_driver_memo *memo, const char *dir, size_t dlen)
{
        for (size_t i = 0; i < memo->n; i++)
                if (strlen(memo->dirs[i].in) == dlen && memcmp(memo->dirs[i].in, dir, dlen) == 0)
                        return memo->dirs[i].out;
        return NULL;
}

/* A cache names a handful of directories thousands of times: resolve each one once. */
int
nvh_driver_resolve_cached(int root_fd, const char *rel, struct nvh_driver_memo *memo,
                          char **ret_rel, struct nvh_err *err)
{
        const char *slash = strrchr(rel, '/');
        size_t dlen = slash ? (size_t)(slash - rel) : 0;
        const char *out_dir;
        int r;

        if (!slash || !slash[1])
                return resolve_from(root_fd, "", rel, ret_rel, err);
        out_dir = memo_find(memo, rel, dlen);
        if (out_dir)
                return resolve_from(root_fd, out_dir, slash + 1, ret_rel, err);

        _cleanup_free_ char *in = strndup(rel, dlen);
        _cleanup_free_ char *out = NULL;
        if (!in)
                return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory", rel);
        r = resolve_from(root_fd, "", in, &out, err);
        if (r < 0)
                return r;
        r = resolve_from(root_fd, out, slash + 1, ret_rel, err);
        if (memo->n < NVH_DRIVER_RESOLVE_MEMO) {
                memo->dirs[memo->n].in = TAKE_PTR(in);
                memo->dirs[memo->n].out = TAKE_PTR(out);
                memo->n++;
        }
        return r;
}

static bool
plain_name(const char *s)
{
        return s[0] && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

/* Trusts the memo (walker output) for the directory and reads one link: the walker would
 * take the same step. Claims nothing about the target; the caller proves it. */
int
nvh_driver_resolve_guess(int root_fd, const char *rel, const struct nvh_driver_memo *memo,
                         char **ret_rel, bool *ret_verified)
{
        const char *slash = strrchr(rel, '/');
        _cleanup_free_ char *path = NULL;
        char target[NAME_MAX + 1];
        const char *dir;
        ssize_t n;
        char *res;

        if (!slash || !plain_name(slash + 1))
                return 1;
        dir = memo_find(memo, rel, (size_t)(slash - rel));
        if (!dir)
                return 1;
        path = join(dir, slash + 1, strlen(slash + 1));
        if (!path)
                return -ENOMEM;
        n = readlinkat(root_fd, path, target, sizeof(target));
        if (n < 0 && errno == EINVAL) {
                *ret_rel = TAKE_PTR(path);
                *ret_verified = true;
                return 0;
        }
        if (n <= 0 || (size_t)n >= sizeof(target))
                return 1;
        target[n] = '\0';
        if (!plain_name(target))
                return 1;
        res = join(dir, target, (size_t)n);
        if (!res)
                return -ENOMEM;
        *ret_rel = res;
        *ret_verified = false;
        return 0;
}

bool
nvh_driver_resolve_is_link(int root_fd, const char *rel)
{
        char c;

        return !(readlinkat(root_fd, rel, &c, 1) < 0 && errno == EINVAL);
}

/* rel comes from the walker or a guess. With openat2 no component may be a symlink and
 * nothing outside root_fd is reached, so the file opened is the one rel names, even when a
 * directory was swapped for a link after it was resolved. The fallback (no openat2, or a
 * seccomp filter refusing it) guards the last component with O_NOFOLLOW, as the walker's
 * callers always did. O_NONBLOCK: a FIFO planted in the root must not hang the hook. */
int
nvh_driver_resolve_open(int root_fd, const char *rel)
{
        int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
        struct nvh_open_how how = {
            .flags = (uint64_t)flags,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (nvh_kfeatures_have(NVH_KFEATURE_OPENAT2)) {
                fd = nvh_sys_openat2(root_fd, rel, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                int e = errno;
                if (e == ENOSYS || e == E2BIG)
                        nvh_kfeatures_set_missing(NVH_KFEATURE_OPENAT2);
                else if (e != EPERM)
                        return -e;
        }
        fd = openat(root_fd, rel, flags);
        return fd < 0 ? -errno : fd;
}
