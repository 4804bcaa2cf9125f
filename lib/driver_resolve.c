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

#include "macros.h"
#include "syscalls.h"

#define MAX_LINKS 40

static bool force_fallback;
static bool openat2_missing;

void
nvh_driver_resolve_set_fallback(bool force)
{
        force_fallback = force;
}

/* Trusts nothing below root_fd: every component is lstat'ed and every link read here, so
 * the result names a path made of real directories and a final non-link, all inside the
 * root. Callers open the result with nvh_driver_resolve_open (or O_NOFOLLOW). */
static int
resolve_from(int root_fd, const char *resolved, const char *rel, char **ret_rel,
             struct nvh_err *err)
{
        char done[PATH_MAX];
        size_t done_len = strlen(resolved);
        _cleanup_free_ char *todo = strdup(rel);
        char *p;
        unsigned links = 0;

        if (!todo)
                return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory", rel);
        if (done_len >= sizeof(done))
                return nvh_err_set(err, -ENAMETOOLONG, "resolve '%s': path too long", rel);
        memcpy(done, resolved, done_len + 1);
        p = todo;
        while (*p) {
                char *comp, *slash;
                struct stat st;
                size_t clen;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                comp = p;
                slash = strchr(p, '/');
                clen = slash ? (size_t)(slash - p) : strlen(p);
                p = slash ? slash : p + clen;
                if (clen == 1 && comp[0] == '.')
                        continue;
                if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
                        char *up = strrchr(done, '/');
                        done_len = up ? (size_t)(up - done) : 0;
                        done[done_len] = '\0';
                        continue;
                }
                size_t old_len = done_len;
                if (done_len + 1 + clen + 1 > sizeof(done))
                        return nvh_err_set(err, -ENAMETOOLONG, "resolve '%s': path too long", rel);
                if (done_len)
                        done[done_len++] = '/';
                memcpy(done + done_len, comp, clen);
                done_len += clen;
                done[done_len] = '\0';
                if (fstatat(root_fd, done, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        int e = errno;
                        return nvh_err_set(err, -e, "resolve '%s': '%s': %s", rel, done,
                                           strerror(e));
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n;

                        if (++links > MAX_LINKS)
                                return nvh_err_set(err, -ELOOP, "resolve '%s': more than %d links",
                                                   rel, MAX_LINKS);
                        n = readlinkat(root_fd, done, target, sizeof(target) - 1);
                        if (n < 0) {
                                int e = errno;
                                return nvh_err_set(err, -e, "resolve '%s': readlink '%s': %s", rel,
                                                   done, strerror(e));
                        }
                        if (n == 0)
                                return nvh_err_set(err, -ENOENT, "resolve '%s': empty link '%s'",
                                                   rel, done);
                        target[n] = '\0';
                        /* The link replaces its component; an absolute one restarts at the root. */
                        done_len = target[0] == '/' ? 0 : old_len;
                        done[done_len] = '\0';
                        char *next;
                        if (asprintf(&next, "%s%s", target, p) < 0)
                                return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory",
                                                   rel);
                        free(todo);
                        todo = next;
                        p = todo;
                        continue;
                }
                if (*p && !S_ISDIR(st.st_mode))
                        return nvh_err_set(err, -ENOTDIR, "resolve '%s': '%s' is not a directory",
                                           rel, done);
        }
        char *r = strdup(done);
        if (!r)
                return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory", rel);
        *ret_rel = r;
        return 0;
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

        if (!force_fallback && !openat2_missing) {
                fd = nvh_sys_openat2(root_fd, rel, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                int e = errno;
                if (e == ENOSYS)
                        openat2_missing = true;
                else if (e != E2BIG && e != EPERM)
                        return -e;
        }
        fd = openat(root_fd, rel, flags);
        return fd < 0 ? -errno : fd;
}
