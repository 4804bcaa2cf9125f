/* SPDX-License-Identifier: Apache-2.0 */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kfeatures.h"
#include "fileio.h"
#include "macros.h"
#include "syscalls.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#define PROC_ROOT_INO 1

/* Bound on the text a walk may accumulate through symlink expansions. */
#define WALK_MAX_PATH (16 * PATH_MAX)
/* openat2 answers -EAGAIN when a rename raced with ".." resolution. */
#define OPENAT2_RETRIES 8

int
nvh_rootfs_open(const char *host_rootfs, int *ret_root_fd, struct nvh_err *err)
{
        int fd = open(host_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "open container root '%s'", host_rootfs);
        *ret_root_fd = fd;
        return 0;
}

/* ---- the walker ---------------------------------------------------------------------- */

enum walk_flags {
        WALK_MKDIR = 1 << 0, /* create missing components as directories */
};

/* Directories walked so far, root first. stack[0] is the caller's root fd (not ours). ends[i]
 * is the length of the resolved path (struct walk's path) at directory i. */
struct dirstack {
        int *fds;
        size_t *ends;
        size_t n, cap;
};

static void
dirstack_pop(struct dirstack *s)
{
        if (s->n > 1) {
                s->n--;
                close(s->fds[s->n]);
        }
}

static void
dirstack_done(struct dirstack *s)
{
        while (s->n > 1)
                dirstack_pop(s);
        free(s->fds);
        free(s->ends);
        s->fds = NULL;
        s->ends = NULL;
}

static int
dirstack_push(struct dirstack *s, int fd, size_t end)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                int *fds = realloc(s->fds, cap * sizeof(*fds));
                size_t *ends;

                if (!fds)
                        return -ENOMEM;
                s->fds = fds;
                ends = realloc(s->ends, cap * sizeof(*ends));
                if (!ends)
                        return -ENOMEM;
                s->ends = ends;
                s->cap = cap;
        }
        s->fds[s->n] = fd;
        s->ends[s->n++] = end;
        return 0;
}

/* A symlink that lives in procfs below its root is a magic link (/proc/<pid>/root, cwd, exe,
 * fd/N, map_files/N, ns/X): following its text would not be what the kernel does, so refuse
 * it as RESOLVE_NO_MAGICLINKS does. /proc/self, /proc/thread-self, /proc/mounts, /proc/net
 * sit in the procfs root and are ordinary symlinks. */
static bool
is_magic_link_parent(int dir_fd)
{
        struct statfs sfs;
        struct stat st;

        if (fstatfs(dir_fd, &sfs) < 0 || (unsigned long)sfs.f_type != PROC_SUPER_MAGIC)
                return false;
        if (fstat(dir_fd, &st) < 0)
                return true;
        return st.st_ino != PROC_ROOT_INO;
}

/* Replace *rest by link + tail; tail is empty or starts with '/'. */
static int
splice_link(char **rest, const char *tail, const char *link)
{
        size_t ll = strlen(link), tl = strlen(tail);
        char *n;

        if (ll + tl + 2 > WALK_MAX_PATH)
                return -ENAMETOOLONG;
        n = malloc(ll + tl + 2);
        if (!n)
                return -ENOMEM;
        memcpy(n, link, ll);
        memcpy(n + ll, tail, tl + 1);
        free(*rest);
        *rest = n;
        return 0;
}

/* One walk: what is left of the path, the directories reached, the budgets spent. */
struct walk {
        int root_fd;
        const char *ctr_path; /* as asked, for messages */
        int open_flags;
        unsigned wflags;
        mode_t mode;
        char *rest;    /* the path still to walk, symlink text spliced in (owned) */
        const char *p; /* position in rest */
        struct dirstack st;
        unsigned hops;    /* symlinks followed */
        unsigned creates; /* directories created */
        char *path;       /* when asked for: the directories walked, relative to the root */
};

static void
walk_done(struct walk *w)
{
        dirstack_done(&w->st);
        free(w->rest);
        free(w->path);
        w->rest = NULL;
        w->path = NULL;
}

/* The component at w->p: its name, where it ends, whether it is the last one. */
struct component {
        char name[NAME_MAX + 1];
        const char *end;     /* just past the name in w->rest */
        bool last;           /* nothing but slashes after it */
        bool trailing_slash; /* last, and followed by a slash: must be a directory */
};

static int
next_component(const struct walk *w, struct component *c, struct nvh_err *err)
{
        const char *tail;

        c->end = strchrnul(w->p, '/');
        if ((size_t)(c->end - w->p) > NAME_MAX)
                return nvh_err_set(err, -ENAMETOOLONG, "resolve '%s': component too long",
                                   w->ctr_path);
        memcpy(c->name, w->p, (size_t)(c->end - w->p));
        c->name[c->end - w->p] = '\0';
        tail = c->end;
        while (*tail == '/')
                tail++;
        c->last = *tail == '\0';
        c->trailing_slash = c->last && *c->end == '/';
        return 0;
}

/* The walk ended on a directory we hold ("/", "a/..", "a/."). */
static int
open_held_dir(struct walk *w, int *ret_fd, struct nvh_err *err)
{
        int fl = (w->open_flags | O_CLOEXEC) & ~O_NOFOLLOW;
        int fd = openat(w->st.fds[w->st.n - 1], ".", fl);

        if (fd < 0)
                return nvh_err_errno(err, "open '%s' in container root", w->ctr_path);
        if (w->path)
                w->path[w->st.ends[w->st.n - 1]] = '\0';
        *ret_fd = fd;
        return 0;
}

/* With a path asked for: name appended to the resolved path of the current directory, or
 * -ENAMETOOLONG; *ret_end is the new length. */
static int
path_append(struct walk *w, const char *name, size_t *ret_end, struct nvh_err *err)
{
        size_t end = w->st.ends[w->st.n - 1], len = strlen(name);

        *ret_end = 0;
        if (!w->path)
                return 0;
        if (end + 1 + len + 1 > PATH_MAX)
                return nvh_err_set(err, -ENAMETOOLONG, "resolve '%s': path too long", w->ctr_path);
        if (end)
                w->path[end++] = '/';
        memcpy(w->path + end, name, len + 1);
        *ret_end = end + len;
        return 0;
}

/* WALK_MKDIR: create the missing name; the caller looks at it again, whatever it is now. */
static int
create_missing(struct walk *w, const char *name, struct nvh_err *err)
{
        /* Bounded: a name that keeps vanishing is an attack, not a race. */
        if (++w->creates > 64 * NVH_ROOTFS_MAX_HOPS)
                return nvh_err_set(err, -EAGAIN, "create '%s': tree keeps changing", w->ctr_path);
        if (mkdirat(w->st.fds[w->st.n - 1], name, w->mode) < 0 && errno != EEXIST)
                return nvh_err_errno(err, "create directory '%s' for '%s' in container root", name,
                                     w->ctr_path);
        return 0;
}

/* Splice the text of the symlink link_fd (named c->name) into the rest of the walk: an
 * absolute one restarts at the root, a relative one in the directory that holds it. */
static int
follow_link(struct walk *w, int link_fd, const struct component *c, struct nvh_err *err)
{
        char link[PATH_MAX];
        ssize_t n;
        int r;

        if (++w->hops > NVH_ROOTFS_MAX_HOPS)
                return nvh_err_set(err, -ELOOP,
                                   "resolve '%s' in container root: more than %d symlinks",
                                   w->ctr_path, NVH_ROOTFS_MAX_HOPS);
        n = readlinkat(link_fd, "", link, sizeof(link));
        if (n < 0)
                return nvh_err_errno(err, "readlink '%s' in '%s'", c->name, w->ctr_path);
        if ((size_t)n >= sizeof(link))
                return nvh_err_set(err, -ENAMETOOLONG, "readlink '%s' in '%s': target too long",
                                   c->name, w->ctr_path);
        link[n] = '\0';
        /* After readlinkat, which makes the same access check as the kernel does before it
         * refuses a magic link: the same error either way. */
        if (is_magic_link_parent(w->st.fds[w->st.n - 1]))
                return nvh_err_set(err, -ELOOP,
                                   "resolve '%s' in container root: '%s' is a magic link",
                                   w->ctr_path, c->name);
        if (n == 0)
                return nvh_err_set(err, -ENOENT,
                                   "resolve '%s' in container root: '%s' is an empty symlink",
                                   w->ctr_path, c->name);
        if (link[0] == '/')
                while (w->st.n > 1)
                        dirstack_pop(&w->st);
        /* c->end is "" or starts with '/': a trailing slash stays. */
        r = splice_link(&w->rest, c->end, link);
        if (r < 0)
                return nvh_err_set(err, r, "resolve '%s': path too long", w->ctr_path);
        w->p = w->rest;
        return 0;
}

/* The last component, reached without following it (fd: its O_PATH fd, sb: its stat). */
static int
open_last(struct walk *w, int *fd, const struct stat *sb, const struct component *c, int *ret_fd,
          struct nvh_err *err)
{
        struct stat sb2;
        int res_fd;

        if ((w->open_flags & O_DIRECTORY) && !S_ISDIR(sb->st_mode))
                return nvh_err_set(err, -ENOTDIR,
                                   "resolve '%s' in container root: '%s' is not a directory",
                                   w->ctr_path, c->name);
        if (w->open_flags & O_PATH) {
                size_t end;
                int r = path_append(w, c->name, &end, err);

                if (r < 0)
                        return r;
                *ret_fd = TAKE_FD(*fd);
                return 0;
        }
        res_fd = openat(w->st.fds[w->st.n - 1], c->name, w->open_flags | O_NOFOLLOW | O_CLOEXEC);
        if (res_fd < 0)
                return nvh_err_errno(err, "open '%s' in container root", w->ctr_path);
        /* The name must still be the object we examined. */
        if (fstat(res_fd, &sb2) < 0 || sb2.st_dev != sb->st_dev || sb2.st_ino != sb->st_ino) {
                close(res_fd);
                return nvh_err_set(err, -EAGAIN,
                                   "open '%s' in container root: changed while opening",
                                   w->ctr_path);
        }
        *ret_fd = res_fd;
        return 0;
}

/* One step: 1 to go on, 0 when *ret_fd holds the result, < 0 on error. */
static int
walk_step(struct walk *w, int *ret_fd, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        struct component c;
        struct stat sb;
        int r;

        while (*w->p == '/')
                w->p++;
        if (!*w->p)
                return open_held_dir(w, ret_fd, err);
        r = next_component(w, &c, err);
        if (r < 0)
                return r;
        if (streq(c.name, ".") || streq(c.name, "..")) {
                if (streq(c.name, ".."))
                        dirstack_pop(&w->st); /* no-op at the root: clamped */
                w->p = c.end;
                return 1;
        }

        fd = openat(w->st.fds[w->st.n - 1], c.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && (w->wflags & WALK_MKDIR)) {
                r = create_missing(w, c.name, err);
                return r < 0 ? r : 1;
        }
        if (fd < 0)
                return nvh_err_errno(err, "resolve '%s' in container root: '%s'", w->ctr_path,
                                     c.name);
        if (fstat(fd, &sb) < 0)
                return nvh_err_errno(err, "stat '%s' in '%s'", c.name, w->ctr_path);

        if (S_ISLNK(sb.st_mode) && !(c.last && !c.trailing_slash && (w->open_flags & O_NOFOLLOW))) {
                r = follow_link(w, fd, &c, err);
                return r < 0 ? r : 1;
        }
        if ((!c.last || c.trailing_slash) && !S_ISDIR(sb.st_mode))
                return nvh_err_set(err, -ENOTDIR,
                                   "resolve '%s' in container root: '%s' is not a directory",
                                   w->ctr_path, c.name);
        if (!c.last) {
                size_t end;

                r = path_append(w, c.name, &end, err);
                if (r < 0)
                        return r;
                r = dirstack_push(&w->st, fd, end);
                if (r < 0)
                        return nvh_err_set(err, r, "resolve '%s': out of memory", w->ctr_path);
                TAKE_FD(fd);
                w->p = c.end;
                return 1;
        }
        return open_last(w, &fd, &sb, &c, ret_fd, err);
}

/*
 * Trusts: root_fd (the container root, opened by us). Verifies: every component is opened
 * with O_NOFOLLOW relative to a directory fd we reached from root_fd; symlink text is
 * re-walked from root_fd (absolute) or from its own directory (relative); ".." pops our own
 * stack and never goes above root_fd. Guarantees: the returned fd names an object reached
 * only through root_fd, subject to the TOCTOU limit described in rootfs.h.
 */
static int
walk(int root_fd, const char *ctr_path, int open_flags, unsigned wflags, mode_t mode, int *ret_fd,
     char **ret_path, struct nvh_err *err)
{
        _cleanup_(walk_done) struct walk w = {
            .root_fd = root_fd,
            .ctr_path = ctr_path,
            .open_flags = open_flags,
            .wflags = wflags,
            .mode = mode,
        };
        int r;

        w.rest = strdup(ctr_path);
        if (ret_path)
                w.path = calloc(1, PATH_MAX);
        if (!w.rest || (ret_path && !w.path))
                return nvh_err_set(err, -ENOMEM, "resolve '%s': out of memory", ctr_path);
        r = dirstack_push(&w.st, root_fd, 0);
        if (r < 0)
                return nvh_err_set(err, r, "resolve '%s': out of memory", ctr_path);
        w.p = w.rest;
        while ((r = walk_step(&w, ret_fd, err)) > 0)
                ;
        if (r == 0 && ret_path)
                *ret_path = TAKE_PTR(w.path);
        return r;
}

/* ---- openat2 ----------------------------------------------------------------------------- */

/* Returns 1 when the caller must use the walker, 0 on success, < 0 on error (err set). */
static int
resolve_openat2(int root_fd, const char *ctr_path, int open_flags, int *ret_fd, struct nvh_err *err)
{
        struct nvh_open_how how = {
            .flags = (uint64_t)(open_flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = -1;

        if (!nvh_kfeatures_have(NVH_KFEATURE_OPENAT2))
                return 1;
        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                fd = nvh_sys_openat2(root_fd, ctr_path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        switch (errno) {
        case ENOSYS:
        case E2BIG:
                nvh_kfeatures_set_missing(NVH_KFEATURE_OPENAT2);
                return 1;
        case EPERM: /* a seccomp filter; the walker's answer is authoritative */
                return 1;
        case ELOOP:
                return nvh_err_set(err, -ELOOP,
                                   "resolve '%s' in container root: too many symlinks or a "
                                   "magic link",
                                   ctr_path);
        default:
                return nvh_err_errno(err, "resolve '%s' in container root", ctr_path);
        }
}

int
nvh_rootfs_resolve(int root_fd, const char *ctr_path, int open_flags, int *ret_fd,
                   struct nvh_err *err)
{
        int r;

        if (!ctr_path || !*ctr_path)
                return nvh_err_set(err, -EINVAL, "resolve: empty container path");
        if ((open_flags & O_CREAT) || (open_flags & __O_TMPFILE) == __O_TMPFILE)
                return nvh_err_set(err, -EINVAL, "resolve '%s': O_CREAT is not supported",
                                   ctr_path);
        r = resolve_openat2(root_fd, ctr_path, open_flags, ret_fd, err);
        if (r <= 0)
                return r;
        return walk(root_fd, ctr_path, open_flags, 0, 0, ret_fd, NULL, err);
}

int
nvh_rootfs_resolve_path(int root_fd, const char *rel_path, char **ret_rel, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;

        if (!rel_path)
                return nvh_err_set(err, -EINVAL, "resolve: no path");
        return walk(root_fd, rel_path, O_PATH, 0, 0, &fd, ret_rel, err);
}

int
nvh_rootfs_open_file(int root_fd, const char *ctr_path, size_t max_size, int *ret_fd,
                     struct stat *ret_st, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        struct stat sb;
        int r;

        r = nvh_rootfs_resolve(root_fd, ctr_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
                               &fd, err);
        if (r < 0)
                return r;
        if (fstat(fd, &sb) < 0)
                return nvh_err_errno(err, "stat '%s' in container root", ctr_path);
        if (!S_ISREG(sb.st_mode))
                return nvh_err_set(err, -EINVAL, "'%s' in container root is not a regular file",
                                   ctr_path);
        if ((uint64_t)sb.st_size > max_size)
                return nvh_err_set(err, -E2BIG, "read '%s': larger than %zu bytes", ctr_path,
                                   max_size);
        if (ret_st)
                *ret_st = sb;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int
nvh_rootfs_read_file(int root_fd, const char *ctr_path, size_t max_size, char **ret_buf,
                     size_t *ret_len, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        int r = nvh_rootfs_open_file(root_fd, ctr_path, max_size, &fd, NULL, err);

        if (r < 0)
                return r;
        return nvh_fileio_read_fd(fd, ctr_path, max_size, ret_buf, ret_len, err);
}

int
nvh_rootfs_mkdir_p(int root_fd, const char *ctr_dir, mode_t mode, int *ret_dir_fd,
                   struct nvh_err *err)
{
        struct nvh_err tmp = {0};
        int r;

        if (!ctr_dir || !*ctr_dir)
                return nvh_err_set(err, -EINVAL, "mkdir: empty container path");
        /* Fast path: it is usually there already. */
        r = resolve_openat2(root_fd, ctr_dir, O_PATH | O_DIRECTORY, ret_dir_fd, &tmp);
        if (r == 0)
                return 0;
        if (r < 0 && r != -ENOENT) {
                if (err)
                        *err = tmp;
                return r;
        }
        return walk(root_fd, ctr_dir, O_PATH | O_DIRECTORY, WALK_MKDIR, mode, ret_dir_fd, NULL,
                    err);
}

/* Split ctr_path into its parent (a new string) and last name (a pointer into name_buf). The
 * last name must be a real name: not empty, ".", "..". */
static int
split_last(const char *ctr_path, char **ret_parent, char name_buf[static NAME_MAX + 1],
           struct nvh_err *err)
{
        size_t len = strlen(ctr_path);
        const char *s, *e;
        char *parent;

        while (len > 0 && ctr_path[len - 1] == '/')
                len--;
        e = ctr_path + len;
        s = e;
        while (s > ctr_path && s[-1] != '/')
                s--;
        if (s == e || (e - s == 1 && s[0] == '.') || (e - s == 2 && s[0] == '.' && s[1] == '.'))
                return nvh_err_set(err, -EINVAL, "'%s' does not end in a file name", ctr_path);
        if ((size_t)(e - s) > NAME_MAX)
                return nvh_err_set(err, -ENAMETOOLONG, "'%s': name too long", ctr_path);
        memcpy(name_buf, s, (size_t)(e - s));
        name_buf[e - s] = '\0';
        parent = s == ctr_path ? strdup("/") : strndup(ctr_path, (size_t)(s - ctr_path));
        if (!parent)
                return nvh_err_set(err, -ENOMEM, "'%s': out of memory", ctr_path);
        *ret_parent = parent;
        return 0;
}

/* The in-root parent directory of ctr_path (created when missing) and the last name. */
static int
open_parent(int root_fd, const char *ctr_path, int *ret_dir_fd, char name[static NAME_MAX + 1],
            struct nvh_err *err)
{
        _cleanup_free_ char *parent = NULL;
        int r;

        if (!ctr_path || !*ctr_path)
                return nvh_err_set(err, -EINVAL, "empty container path");
        r = split_last(ctr_path, &parent, name, err);
        if (r < 0)
                return r;
        return nvh_rootfs_mkdir_p(root_fd, parent, 0755, ret_dir_fd, err);
}

int
nvh_rootfs_open_parent(int root_fd, const char *ctr_path, int *ret_dir_fd,
                       char ret_name[static NAME_MAX + 1], struct nvh_err *err)
{
        return open_parent(root_fd, ctr_path, ret_dir_fd, ret_name, err);
}

int
nvh_rootfs_create_target_at(int dir_fd, const char *name, const char *what, bool is_dir,
                            mode_t mode, int *ret_fd, bool *ret_created, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        struct stat sb;

        if (is_dir) {
                if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
                        return nvh_err_errno(err, "create directory '%s'", what);
        } else {
                /* The new file's own fd is the mount target: one syscall for a fresh target.
                 * O_EXCL|O_NOFOLLOW: never an existing object, never through a symlink. */
                fd = openat(dir_fd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            mode);
                if (fd >= 0) {
                        *ret_fd = TAKE_FD(fd);
                        if (ret_created)
                                *ret_created = true;
                        return 0;
                }
                if (errno != EEXIST)
                        return nvh_err_errno(err, "create file '%s'", what);
        }
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "open target '%s'", what);
        if (fstat(fd, &sb) < 0)
                return nvh_err_errno(err, "stat target '%s'", what);
        if (S_ISLNK(sb.st_mode))
                return nvh_err_set(err, -ELOOP, "target '%s' is a symlink, refusing to use it",
                                   what);
        if (is_dir && !S_ISDIR(sb.st_mode))
                return nvh_err_set(err, -ENOTDIR, "target '%s' exists and is not a directory",
                                   what);
        if (!is_dir && S_ISDIR(sb.st_mode))
                return nvh_err_set(err, -EISDIR, "target '%s' exists and is a directory", what);
        if (!is_dir && !S_ISREG(sb.st_mode))
                return nvh_err_set(err, -EEXIST, "target '%s' exists and is not a regular file",
                                   what);
        *ret_fd = TAKE_FD(fd);
        if (ret_created)
                *ret_created = false;
        return 0;
}

int
nvh_rootfs_create_target(int root_fd, const char *ctr_path, bool is_dir, mode_t mode, int *ret_fd,
                         struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1;
        char name[NAME_MAX + 1];
        int r;

        r = open_parent(root_fd, ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        return nvh_rootfs_create_target_at(dir_fd, name, ctr_path, is_dir, mode, ret_fd, NULL, err);
}

int
nvh_rootfs_symlink_at(int dir_fd, const char *name, const char *ctr_path, const char *target,
                      struct nvh_err *err)
{
        char old[PATH_MAX];
        size_t tlen;
        ssize_t n;

        if (!target || !*target)
                return nvh_err_set(err, -EINVAL, "symlink '%s': empty target", ctr_path);
        tlen = strlen(target);
        if (tlen >= PATH_MAX)
                return nvh_err_set(err, -ENAMETOOLONG, "symlink '%s': target too long", ctr_path);
        if (symlinkat(target, dir_fd, name) == 0)
                return 0;
        if (errno != EEXIST)
                return nvh_err_errno(err, "symlink '%s' -> '%s'", ctr_path, target);
        n = readlinkat(dir_fd, name, old, sizeof(old));
        if (n < 0 && errno == EINVAL)
                return nvh_err_set(err, -EEXIST, "symlink '%s': exists and is not a symlink",
                                   ctr_path);
        if (n < 0)
                return nvh_err_errno(err, "readlink '%s'", ctr_path);
        if ((size_t)n == tlen && memcmp(old, target, tlen) == 0)
                return 0;
        if (unlinkat(dir_fd, name, 0) < 0)
                return nvh_err_errno(err, "replace symlink '%s'", ctr_path);
        if (symlinkat(target, dir_fd, name) < 0)
                return nvh_err_errno(err, "symlink '%s' -> '%s'", ctr_path, target);
        return 0;
}

int
nvh_rootfs_symlink(int root_fd, const char *ctr_path, const char *target, struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1;
        char name[NAME_MAX + 1];
        int r;

        r = open_parent(root_fd, ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        return nvh_rootfs_symlink_at(dir_fd, name, ctr_path, target, err);
}

int
nvh_rootfs_write_atomic(int root_fd, const char *ctr_path, const void *buf, size_t len, mode_t mode,
                        struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1;
        char name[NAME_MAX + 1];
        int r;

        r = open_parent(root_fd, ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        return nvh_rootfs_write_atomic_at(dir_fd, name, ctr_path, buf, len, mode, err);
}

int
nvh_rootfs_write_atomic_at(int dir_fd, const char *name, const char *ctr_path, const void *buf,
                           size_t len, mode_t mode, struct nvh_err *err)
{
        static unsigned counter;
        _cleanup_close_ int fd = -1;
        char tmp[NAME_MAX + 1];
        struct stat sb;
        int r;

        if (fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode))
                return nvh_err_set(err, -EISDIR, "write '%s': is a directory", ctr_path);
        r = snprintf(tmp, sizeof(tmp), ".%.200s.nvh-%d-%u", name, (int)getpid(), counter++);
        if (r < 0 || (size_t)r >= sizeof(tmp))
                return nvh_err_set(err, -ENAMETOOLONG, "write '%s': name too long", ctr_path);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return nvh_err_errno(err, "create temp file for '%s'", ctr_path);
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto fail;
        }
        r = nvh_fileio_write_all(fd, buf, len);
        if (r < 0)
                goto fail;
        if (close(TAKE_FD(fd)) < 0) {
                r = -errno;
                goto fail;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        /* Not memory: the temp file was made in the container's directory and must not stay
         * behind there (no residue), so every failure after its creation comes here. */
        (void)unlinkat(dir_fd, tmp, 0);
        return nvh_err_sys(err, r, "write '%s'", ctr_path);
}
