/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "kfeatures.h"
#include "fileio.h"
#include "macros.h"
#include "syscalls.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define NVH_TMPFS_MAX_FILES 4096
#define NVH_TMPFS_MAX_BYTES (4u << 20)

static bool
use_fallback(void)
{
        return !nvh_kfeatures_have(NVH_KFEATURE_MOUNT_API);
}

/* Errors after which the new mount API is treated as absent. */
static bool
api_unavailable(int e)
{
        return e == ENOSYS || e == EPERM;
}

static unsigned long
to_ms_flags(unsigned flags)
{
        return ((flags & NVH_MOUNT_RDONLY) ? MS_RDONLY : 0) |
               ((flags & NVH_MOUNT_NOSUID) ? MS_NOSUID : 0) |
               ((flags & NVH_MOUNT_NODEV) ? MS_NODEV : 0) |
               ((flags & NVH_MOUNT_NOEXEC) ? MS_NOEXEC : 0);
}

static uint64_t
to_attr_flags(unsigned flags)
{
        return ((flags & NVH_MOUNT_RDONLY) ? MOUNT_ATTR_RDONLY : 0) |
               ((flags & NVH_MOUNT_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
               ((flags & NVH_MOUNT_NODEV) ? MOUNT_ATTR_NODEV : 0) |
               ((flags & NVH_MOUNT_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0);
}

/* Flags of an existing mount, as MS_* (kept on a bind remount: in a user namespace they may
 * be locked, and dropping them would fail with EPERM). */
static unsigned long
existing_ms_flags(int fd)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (fstatvfs(fd, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_RDONLY)
                f |= MS_RDONLY;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

/* The attached mount at mnt_fd must carry every flag asked for. */
static int
verify_flags(int mnt_fd, unsigned flags, const char *what, struct nvh_err *err)
{
        struct statvfs sv;
        unsigned long want = 0;

        if (fstatvfs(mnt_fd, &sv) < 0)
                return nvh_err_errno(err, "statvfs mount of '%s'", what);
        want |= (flags & NVH_MOUNT_RDONLY) ? ST_RDONLY : 0;
        want |= (flags & NVH_MOUNT_NOSUID) ? ST_NOSUID : 0;
        want |= (flags & NVH_MOUNT_NODEV) ? ST_NODEV : 0;
        want |= (flags & NVH_MOUNT_NOEXEC) ? ST_NOEXEC : 0;
        if ((sv.f_flag & want) != want)
                return nvh_err_set(err, -EPERM, "mount of '%s' lacks flags 0x%lx", what,
                                   want & ~sv.f_flag);
        return 0;
}

void
nvh_mount_source_done(struct nvh_mount_source *src)
{
        if (!src)
                return;
        if (src->fd >= 0)
                close(src->fd);
        free(src->host_path);
        *src = (struct nvh_mount_source)NVH_MOUNT_SOURCE_INIT;
}

/* The parent directory of host_path, opened O_PATH: by path (trusted host directories, whose
 * components may be symlinks such as /lib -> usr/lib), or, with NVH_SOURCE_NO_SYMLINKS,
 * component by component from "/" with O_NOFOLLOW, so that no symlink anywhere redirects it. */
static int
open_parent(const char *host_path, unsigned sflags, int *ret_fd, char name[static NAME_MAX + 1],
            struct nvh_err *err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -1;
        const char *slash = strrchr(host_path, '/');
        char *p, *save = NULL;

        if (host_path[0] != '/' || !slash || !slash[1] || strlen(slash + 1) > NAME_MAX ||
            streq(slash + 1, ".") || streq(slash + 1, ".."))
                return nvh_err_set(err, -EINVAL, "mount source '%s' is not an absolute file name",
                                   host_path);
        strcpy(name, slash + 1);
        dir = strndup(host_path, (size_t)(slash - host_path));
        if (!dir)
                return nvh_err_set(err, -ENOMEM, "mount source '%s': out of memory", host_path);
        if (!(sflags & NVH_SOURCE_NO_SYMLINKS)) {
                fd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return nvh_err_errno(err, "open directory of mount source '%s'", host_path);
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "open '/'");
        for (p = strtok_r(dir, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                int next_fd;

                if (streq(p, ".") || streq(p, ".."))
                        return nvh_err_set(err, -EINVAL, "mount source '%s': '%s' in the path",
                                           host_path, p);
                next_fd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next_fd < 0)
                        return nvh_err_errno(err,
                                             "mount source '%s': '%s' (symlinks are not "
                                             "followed there)",
                                             host_path, p);
                close(fd);
                fd = next_fd;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Trusts: host_path (discovered on the host by us) up to its last directory, unless
 * NVH_SOURCE_NO_SYMLINKS. Verifies: the last component is no symlink (-ELOOP) and is of the
 * type asked for, on the fd that is then cloned or kept. Guarantees: ret->fd is the object
 * examined (ret->st), never reopened by path on the new mount API. */
int
nvh_mount_open_source(const char *host_path, unsigned sflags, struct nvh_mount_source *ret,
                      struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        bool is_dir = sflags & NVH_SOURCE_DIR;
        char name[NAME_MAX + 1];
        struct stat st;
        int tree_fd = -1, r;

        r = open_parent(host_path, sflags, &dir_fd, name, err);
        if (r < 0)
                return r;
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "open mount source '%s'", host_path);
        if (fstat(fd, &st) < 0)
                return nvh_err_errno(err, "stat mount source '%s'", host_path);
        if (S_ISLNK(st.st_mode))
                return nvh_err_set(err, -ELOOP, "mount source '%s' is a symlink, not followed",
                                   host_path);
        if (is_dir && !S_ISDIR(st.st_mode))
                return nvh_err_set(err, -ENOTDIR, "mount source '%s' is not a directory",
                                   host_path);
        if (!is_dir && S_ISDIR(st.st_mode))
                return nvh_err_set(err, -EISDIR, "mount source '%s' is a directory", host_path);
        if (!use_fallback()) {
                tree_fd = nvh_sys_open_tree(fd, "",
                                            AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                (is_dir ? AT_RECURSIVE : 0));
                if (tree_fd < 0 && !api_unavailable(errno))
                        return nvh_err_errno(err, "open mount source '%s'", host_path);
                if (tree_fd < 0 && errno == ENOSYS)
                        nvh_kfeatures_set_missing(NVH_KFEATURE_MOUNT_API);
        }
        *ret = (struct nvh_mount_source){.fd = -1, .st = st};
        if (tree_fd >= 0) {
                ret->fd = tree_fd;
                ret->tree = true;
                return 0;
        }
        /* Fallback: a bind from another namespace's mount is refused, so the source is found
         * again after setns by this path and must be this inode (bind_fallback). */
        ret->host_path = strdup(host_path);
        if (!ret->host_path)
                return nvh_err_set(err, -ENOMEM, "mount source '%s': out of memory", host_path);
        ret->sflags = sflags;
        ret->fd = TAKE_FD(fd);
        return 0;
}

static int
check_target(int target_fd, bool src_is_dir, const char *what, struct stat *ret_st,
             struct nvh_err *err)
{
        if (fstat(target_fd, ret_st) < 0)
                return nvh_err_errno(err, "stat target of '%s'", what);
        if (S_ISLNK(ret_st->st_mode))
                return nvh_err_set(err, -ELOOP, "target of '%s' is a symlink", what);
        if (src_is_dir && !S_ISDIR(ret_st->st_mode))
                return nvh_err_set(err, -ENOTDIR, "target of '%s' is not a directory", what);
        if (!src_is_dir && S_ISDIR(ret_st->st_mode))
                return nvh_err_set(err, -EISDIR, "target of '%s' is a directory", what);
        return 0;
}

/* ---- new mount API -------------------------------------------------------------------------- */

/* Set flags and private propagation on the (detached) mount mnt_fd, then attach it on
 * target_fd. */
static int
attach_detached(int mnt_fd, int target_fd, bool recursive, unsigned flags, const char *what,
                struct nvh_err *err)
{
        struct nvh_mount_attr attr = {
            .attr_set = to_attr_flags(flags),
            .propagation = MS_PRIVATE,
        };
        bool remount_after = !nvh_kfeatures_have(NVH_KFEATURE_MOUNT_SETATTR);
        char p[64];

        if (!remount_after &&
            nvh_sys_mount_setattr(mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                                  sizeof(attr)) < 0) {
                if (errno != ENOSYS)
                        return nvh_err_errno(err, "set attributes on '%s'", what);
                nvh_kfeatures_set_missing(NVH_KFEATURE_MOUNT_SETATTR);
                remount_after = true; /* Linux 5.2 - 5.11 */
        }
        if (nvh_sys_move_mount(mnt_fd, "", target_fd, "",
                               MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return nvh_err_errno(err, "mount '%s'", what);
        if (remount_after) {
                /* mnt_fd now names the attached mount's root. */
                snprintf(p, sizeof(p), "/proc/self/fd/%d", mnt_fd);
                if (mount(NULL, p, NULL,
                          MS_REMOUNT | MS_BIND | to_ms_flags(flags) | existing_ms_flags(mnt_fd),
                          NULL) < 0 ||
                    mount(NULL, p, NULL, MS_PRIVATE | (recursive ? MS_REC : 0), NULL) < 0) {
                        int e = errno;
                        (void)umount2(p, MNT_DETACH);
                        return nvh_err_sys(err, -e, "remount '%s'", what);
                }
        }
        /* mount_setattr applied the flags atomically before the attach; only the remount
         * path of older kernels needs checking. */
        return remount_after ? verify_flags(mnt_fd, flags, what, err) : 0;
}

/* ---- mount(2) fallback -------------------------------------------------------------------- */

/* The parent directory of the object target_fd names and its name in there, checked by
 * inode: the way to reach a mount made on target_fd (a magic link to it stays below). */
static int
locate_target(int target_fd, const struct stat *target_st, int *ret_parent_fd,
              char name[static NAME_MAX + 1], const char *what, struct nvh_err *err)
{
        _cleanup_close_ int parent_fd = -1;
        char link[64], path[PATH_MAX];
        struct stat sb;
        char *slash;
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", target_fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n < 0)
                return nvh_err_errno(err, "locate target of '%s'", what);
        path[n] = '\0';
        slash = strrchr(path, '/');
        if (path[0] != '/' || !slash || !slash[1] || strlen(slash + 1) > NAME_MAX)
                return nvh_err_set(err, -EXDEV, "locate target of '%s': unusable path '%s'", what,
                                   path);
        strcpy(name, slash + 1);
        if (slash == path)
                slash[1] = '\0';
        else
                *slash = '\0';
        parent_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return nvh_err_errno(err, "locate target of '%s': '%s'", what, path);
        if (fstatat(parent_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            sb.st_dev != target_st->st_dev || sb.st_ino != target_st->st_ino)
                return nvh_err_set(err, -EXDEV, "locate target of '%s': '%s/%s' moved", what, path,
                                   name);
        *ret_parent_fd = TAKE_FD(parent_fd);
        return 0;
}

/* The mount now on top of parent_fd/name; it must not be the target itself. */
static int
open_new_mount(int parent_fd, const char *name, const struct stat *target_st, int *ret_fd,
               const char *what, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        struct stat sb;

        fd = openat(parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0)
                return nvh_err_errno(err, "open new mount of '%s'", what);
        if (sb.st_dev == target_st->st_dev && sb.st_ino == target_st->st_ino)
                return nvh_err_set(err, -EXDEV, "new mount of '%s' is not where expected", what);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int
remount_private(int mnt_fd, unsigned long ms_flags, bool recursive, const char *what,
                struct nvh_err *err)
{
        char p[64];

        snprintf(p, sizeof(p), "/proc/self/fd/%d", mnt_fd);
        if (mount(NULL, p, NULL, MS_REMOUNT | ms_flags, NULL) < 0)
                return nvh_err_errno(err, "remount '%s'", what);
        if (mount(NULL, p, NULL, MS_PRIVATE | (recursive ? MS_REC : 0), NULL) < 0)
                return nvh_err_errno(err, "make '%s' private", what);
        return 0;
}

static void
undo_mount(int mnt_fd)
{
        char p[64];

        snprintf(p, sizeof(p), "/proc/self/fd/%d", mnt_fd);
        (void)umount2(p, MNT_DETACH);
}

/* The fallback source again, in the namespace we are in now: the same walk as on the host
 * (no symlink as last component, none at all with NVH_SOURCE_NO_SYMLINKS), and the same
 * inode as the object checked on the host, or -EXDEV. */
static int
reopen_source(const struct nvh_mount_source *src, int *ret_fd, struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        char name[NAME_MAX + 1];
        struct stat sb;
        int r;

        r = open_parent(src->host_path, src->sflags, &dir_fd, name, err);
        if (r < 0)
                return r;
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "reopen source '%s'", src->host_path);
        if (fstat(fd, &sb) < 0 || sb.st_dev != src->st.st_dev || sb.st_ino != src->st.st_ino)
                return nvh_err_set(err, -EXDEV, "source '%s' is another file in this namespace",
                                   src->host_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The mount on parent_fd/name must be the source's object. */
static int
check_new_mount(int mnt_fd, const struct stat *src_st, const char *what, struct nvh_err *err)
{
        struct stat sb;

        if (fstat(mnt_fd, &sb) < 0 || sb.st_dev != src_st->st_dev || sb.st_ino != src_st->st_ino) {
                undo_mount(mnt_fd);
                return nvh_err_set(err, -EXDEV, "new mount of '%s' is not the source", what);
        }
        return 0;
}

static int
bind_fallback(const struct nvh_mount_source *source, int target_fd, unsigned flags,
              const char *what, struct nvh_err *err)
{
        _cleanup_close_ int parent_fd = -1, reopened_fd = -1, mnt_fd = -1;
        char name[NAME_MAX + 1], src[64], dst[64];
        struct stat src_st, target_st;
        bool is_dir;
        int r;

        if (fstat(source->fd, &src_st) < 0)
                return nvh_err_errno(err, "stat source of '%s'", what);
        if (src_st.st_dev != source->st.st_dev || src_st.st_ino != source->st.st_ino)
                return nvh_err_set(err, -EBADF, "source fd of '%s' changed", what);
        is_dir = S_ISDIR(src_st.st_mode);
        r = check_target(target_fd, is_dir, what, &target_st, err);
        if (r < 0)
                return r;
        r = locate_target(target_fd, &target_st, &parent_fd, name, what, err);
        if (r < 0)
                return r;

        snprintf(src, sizeof(src), "/proc/self/fd/%d", source->fd);
        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
        if (mount(src, dst, NULL, MS_BIND | (is_dir ? MS_REC : 0), NULL) < 0) {
                if (errno != EINVAL)
                        return nvh_err_errno(err, "mount '%s'", what);
                /* The source lives in another mount namespace: find the same inode in ours. */
                r = reopen_source(source, &reopened_fd, err);
                if (r < 0)
                        return r;
                snprintf(src, sizeof(src), "/proc/self/fd/%d", reopened_fd);
                if (mount(src, dst, NULL, MS_BIND | (is_dir ? MS_REC : 0), NULL) < 0)
                        return nvh_err_errno(err, "mount '%s'", what);
        }
        r = open_new_mount(parent_fd, name, &target_st, &mnt_fd, what, err);
        if (r < 0)
                return r; /* cannot name it to undo it; the namespace dies with the container */
        r = check_new_mount(mnt_fd, &src_st, what, err);
        if (r < 0)
                return r;
        r = remount_private(mnt_fd, MS_BIND | to_ms_flags(flags) | existing_ms_flags(mnt_fd),
                            is_dir, what, err);
        if (r >= 0)
                r = verify_flags(mnt_fd, flags, what, err);
        if (r < 0)
                undo_mount(mnt_fd);
        return r;
}

/* Trusts: src (opened by us on the host), target_fd (resolved in-root by us). Verifies:
 * types match, the target is not a symlink, the flags took. Guarantees: a private mount of
 * the source on the target with at least the flags asked for, or nothing. */
int
nvh_mount_bind(const struct nvh_mount_source *src, int target_fd, unsigned flags, const char *what,
               struct nvh_err *err)
{
        struct stat target_st;
        bool is_dir = S_ISDIR(src->st.st_mode);
        int r;

        if (src->fd < 0)
                return nvh_err_set(err, -EBADF, "no source for '%s'", what);
        if (!src->tree)
                return bind_fallback(src, target_fd, flags, what, err);
        if (!(flags & NVH_MOUNT_NEW_TARGET)) {
                r = check_target(target_fd, is_dir, what, &target_st, err);
                if (r < 0)
                        return r;
        }
        return attach_detached(src->fd, target_fd, is_dir, flags, what, err);
}

/* ---- tmpfs with files ---------------------------------------------------------------------- */

static bool
rel_path_ok(const char *rel)
{
        const char *p = rel;

        if (!rel || !*rel || *rel == '/' || strlen(rel) >= PATH_MAX)
                return false;
        while (*p) {
                const char *e = strchrnul(p, '/');
                size_t l = (size_t)(e - p);
                if (l == 0 || l > NAME_MAX || (l == 1 && p[0] == '.') ||
                    (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p = *e ? e + 1 : e;
                if (*e && !*p)
                        return false; /* trailing slash */
        }
        return true;
}

/* Fill the fresh tmpfs at mnt_fd. It holds nothing we did not create, so relative paths in
 * it meet no symlinks. */
static int
fill(int mnt_fd, const struct nvh_mount_file *files, size_t n, const char *what,
     struct nvh_err *err)
{
        for (size_t i = 0; i < n; i++) {
                const struct nvh_mount_file *f = &files[i];
                mode_t perm = f->mode & 07777;

                if (S_ISDIR(f->mode)) {
                        if (mkdirat(mnt_fd, f->rel_path, perm) < 0 ||
                            fchmodat(mnt_fd, f->rel_path, perm, 0) < 0)
                                return nvh_err_errno(err, "create '%s' in '%s'", f->rel_path, what);
                } else if (S_ISLNK(f->mode)) {
                        if (!f->content || !f->content[0])
                                return nvh_err_set(err, -EINVAL, "symlink '%s' in '%s': no target",
                                                   f->rel_path, what);
                        if (symlinkat(f->content, mnt_fd, f->rel_path) < 0)
                                return nvh_err_errno(err, "symlink '%s' in '%s'", f->rel_path,
                                                     what);
                } else if (!f->content) {
                        /* An empty file (a mount target, covered by its bind): one call, no
                         * fd; the umask may narrow its mode, which nothing reads. */
                        if (mknodat(mnt_fd, f->rel_path, S_IFREG | perm, 0) < 0)
                                return nvh_err_errno(err, "create '%s' in '%s'", f->rel_path, what);
                } else {
                        _cleanup_close_ int fd =
                            openat(mnt_fd, f->rel_path,
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
                        int r;

                        if (fd < 0)
                                return nvh_err_errno(err, "create '%s' in '%s'", f->rel_path, what);
                        r = f->content ? nvh_fileio_write_all(fd, f->content, strlen(f->content))
                                       : 0;
                        if (r >= 0 && fchmod(fd, perm) < 0)
                                r = -errno;
                        if (r < 0)
                                return nvh_err_sys(err, r, "write '%s' in '%s'", f->rel_path, what);
                }
        }
        return 0;
}

static int
tmpfs_new_api(int target_fd, const struct nvh_mount_file *files, size_t n, const char *size_opt,
              const char *what, int *ret_root_fd, struct nvh_err *err)
{
        _cleanup_close_ int fs_fd = -1, mnt_fd = -1;
        int r;

        fs_fd = nvh_sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs_fd < 0) {
                if (api_unavailable(errno)) {
                        if (errno == ENOSYS)
                                nvh_kfeatures_set_missing(NVH_KFEATURE_MOUNT_API);
                        return 1;
                }
                return nvh_err_errno(err, "fsopen tmpfs for '%s'", what);
        }
        if (nvh_sys_fsconfig(fs_fd, NVH_FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
            nvh_sys_fsconfig(fs_fd, NVH_FSCONFIG_SET_STRING, "size", size_opt, 0) < 0 ||
            nvh_sys_fsconfig(fs_fd, NVH_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return nvh_err_errno(err, "configure tmpfs for '%s'", what);
        mnt_fd = nvh_sys_fsmount(fs_fd, FSMOUNT_CLOEXEC,
                                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mnt_fd < 0)
                return nvh_err_errno(err, "fsmount tmpfs for '%s'", what);
        r = fill(mnt_fd, files, n, what, err);
        if (r >= 0)
                r = attach_detached(mnt_fd, target_fd, false,
                                    NVH_MOUNT_RDONLY | NVH_MOUNT_NOSUID | NVH_MOUNT_NODEV |
                                        NVH_MOUNT_NOEXEC,
                                    what, err);
        if (r >= 0 && ret_root_fd)
                *ret_root_fd = TAKE_FD(mnt_fd); /* now the attached tmpfs's root */
        return r;
}

static int
tmpfs_fallback(int target_fd, const struct stat *target_st, const struct nvh_mount_file *files,
               size_t n, const char *size_opt, const char *what, int *ret_root_fd,
               struct nvh_err *err)
{
        _cleanup_close_ int parent_fd = -1, mnt_fd = -1;
        char name[NAME_MAX + 1], dst[64], opts[64];
        struct statfs sfs;
        int r;

        r = locate_target(target_fd, target_st, &parent_fd, name, what, err);
        if (r < 0)
                return r;
        snprintf(dst, sizeof(dst), "/proc/self/fd/%d", target_fd);
        snprintf(opts, sizeof(opts), "mode=0555,size=%s", size_opt);
        if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
                return nvh_err_errno(err, "mount tmpfs on '%s'", what);
        r = open_new_mount(parent_fd, name, target_st, &mnt_fd, what, err);
        if (r < 0)
                return r;
        if (fstatfs(mnt_fd, &sfs) < 0 || (unsigned long)sfs.f_type != TMPFS_MAGIC) {
                undo_mount(mnt_fd);
                return nvh_err_set(err, -EXDEV, "new mount on '%s' is not our tmpfs", what);
        }
        r = fill(mnt_fd, files, n, what, err);
        if (r >= 0)
                r = remount_private(mnt_fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, false,
                                    what, err);
        if (r >= 0)
                r = verify_flags(mnt_fd,
                                 NVH_MOUNT_RDONLY | NVH_MOUNT_NOSUID | NVH_MOUNT_NODEV |
                                     NVH_MOUNT_NOEXEC,
                                 what, err);
        if (r < 0)
                undo_mount(mnt_fd);
        else if (ret_root_fd)
                *ret_root_fd = TAKE_FD(mnt_fd);
        return r;
}

/* Trusts: target_fd (resolved in-root by us), files (built by the plan from host data).
 * Verifies: relative paths have no "."/".." and stay within limits; flags took.
 * Guarantees: a read-only private tmpfs with exactly these files on the target, or nothing. */
int
nvh_mount_tmpfs_files(int target_fd, const struct nvh_mount_file *files, size_t n, const char *what,
                      struct nvh_err *err)
{
        return nvh_mount_tmpfs_tree(target_fd, files, n, what, NULL, err);
}

int
nvh_mount_tmpfs_tree(int target_fd, const struct nvh_mount_file *files, size_t n, const char *what,
                     int *ret_root_fd, struct nvh_err *err)
{
        struct stat target_st;
        size_t bytes = 0;
        char size_opt[32];
        int r;

        if (n > NVH_TMPFS_MAX_FILES)
                return nvh_err_set(err, -E2BIG, "tmpfs for '%s': %zu files", what, n);
        for (size_t i = 0; i < n; i++) {
                if (!rel_path_ok(files[i].rel_path))
                        return nvh_err_set(err, -EINVAL, "tmpfs for '%s': bad path '%s'", what,
                                           files[i].rel_path ? files[i].rel_path : "");
                bytes += 4096 + (files[i].content ? strlen(files[i].content) : 0);
                if (bytes > NVH_TMPFS_MAX_BYTES)
                        return nvh_err_set(err, -E2BIG, "tmpfs for '%s': too much content", what);
        }
        r = check_target(target_fd, true, what, &target_st, err);
        if (r < 0)
                return r;
        snprintf(size_opt, sizeof(size_opt), "%zu", bytes + 65536);
        if (!use_fallback()) {
                r = tmpfs_new_api(target_fd, files, n, size_opt, what, ret_root_fd, err);
                if (r <= 0)
                        return r;
        }
        return tmpfs_fallback(target_fd, &target_st, files, n, size_opt, what, ret_root_fd, err);
}
