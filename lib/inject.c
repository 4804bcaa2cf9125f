/* SPDX-License-Identifier: Apache-2.0 */
#include "inject.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "components.h"
#include "devnode.h"
#include "fileio.h"
#include "layout.h"
#include "ldcache.h"
#include "log.h"
#include "macros.h"
#include "mount.h"
#include "nsenter.h"
#include "rootfs.h"

#define PROC_FILE_MAX (256u << 10)
#define CTR_PROC_DRIVER "/proc/driver"
#define CTR_PROC_NVIDIA "/proc/driver/nvidia"

/* Per-operation state prepared in the host namespace. */
struct source {
        struct nvh_mount_source mnt; /* BIND: the host object; MKNOD in a user ns: the node */
        bool skip;                   /* BIND: an IPC endpoint refused by check_ipc */
        char *content;               /* PROC_FILE: the bytes to serve */
};

struct inject {
        const struct nvh_plan *plan;
        const struct nvh_inject_target *t;
        struct source *src;
        struct nvh_cgroup *cg;
        int host_mnt_fd;
        int root_fd;
        /* The last parent directory resolved in-root: most targets share one (the library
         * directory), so it is resolved once, not once per file. */
        char parent_path[PATH_MAX];
        int parent_fd;
        /* The driver directory's tmpfs (NVH_OP_TMPFS): its root, and its container path.
         * Binds and links the plan puts below it were made in it. */
        int drvdir_fd;
        const char *drvdir;
        /* Mounts of the spec's host binds, as seen in the container (find_volumes). */
        struct volume {
                uint64_t id;
                const char *ctr_path;
        } * vols;
        size_t n_vols;
};

static void
inject_release(struct inject *in)
{
        if (in->src) {
                for (size_t i = 0; i < in->plan->n_ops; i++) {
                        nvh_mount_source_done(&in->src[i].mnt);
                        free(in->src[i].content);
                }
                free(in->src);
        }
        if (in->root_fd >= 0)
                close(in->root_fd);
        if (in->parent_fd >= 0)
                close(in->parent_fd);
        if (in->drvdir_fd >= 0)
                close(in->drvdir_fd);
        if (in->host_mnt_fd >= 0)
                close(in->host_mnt_fd);
        free(in->vols);
        nvh_cgroup_free(in->cg);
}

/* The uids of running processes whose executable is named daemon (via /proc: the kernel's
 * 15-byte comm first, then the name of /proc/<pid>/exe, or argv[0] where exe is hidden).
 * Returns how many were stored in uids (at most max). */
static size_t
daemon_uids(const char *daemon, uid_t *uids, size_t max)
{
        _cleanup_closedir_ DIR *d = opendir("/proc");
        size_t n = 0, dlen = strlen(daemon);
        struct dirent *de;

        while (d && n < max && (de = readdir(d))) {
                char path[64], buf[PATH_MAX];
                const char *base;
                struct stat st;
                ssize_t len;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%.20s/comm", de->d_name);
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                len = fd < 0 ? -1 : read(fd, buf, 16);
                if (len <= 0 || buf[len - 1] != '\n' ||
                    (size_t)(len - 1) != (dlen < 15 ? dlen : 15) ||
                    memcmp(buf, daemon, (size_t)(len - 1)) != 0)
                        continue;
                snprintf(path, sizeof(path), "/proc/%.20s/exe", de->d_name);
                len = readlink(path, buf, sizeof(buf) - 1);
                if (len < 0) {
                        close(TAKE_FD(fd));
                        snprintf(path, sizeof(path), "/proc/%.20s/cmdline", de->d_name);
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                        len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
                        if (len <= 0)
                                continue;
                }
                buf[len] = '\0';
                base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
                if (strncmp(base, daemon, dlen) != 0 || (base[dlen] && base[dlen] != ' '))
                        continue;
                snprintf(path, sizeof(path), "/proc/%.20s", de->d_name);
                if (stat(path, &st) == 0)
                        uids[n++] = st.st_uid;
        }
        return n;
}

/* Trusts: nothing about the endpoint but what src's fd shows (it lives in a shared host area
 * where others may create files). Verifies on that fd: owner root or the uid of a running
 * daemon of that name; a directory is writable by nobody else (no group/other write) and
 * holds the daemon's control entry (a pipe or socket, not followed). Guarantees: an endpoint
 * that passes is the running daemon's, as far as the host's own permissions can tell. */
static int
check_ipc(const struct nvh_component_ipc *ipc, const struct nvh_mount_source *src,
          struct nvh_err *err)
{
        uid_t uids[16];
        size_t n = daemon_uids(ipc->daemon, uids, ARRAY_SIZE(uids));
        bool owner_ok = src->st.st_uid == 0;
        struct stat st;

        if (n == 0)
                return nvh_err_set(err, -ESRCH, "'%s': its daemon '%s' is not running", ipc->path,
                                   ipc->daemon);
        for (size_t i = 0; i < n; i++)
                owner_ok |= src->st.st_uid == uids[i];
        if (!owner_ok)
                return nvh_err_set(err, -EPERM, "'%s' is owned by uid %u, not root nor '%s'",
                                   ipc->path, (unsigned)src->st.st_uid, ipc->daemon);
        if (ipc->kind != NVH_COMPONENT_IPC_DIR)
                return 0;
        if (src->st.st_mode & (S_IWGRP | S_IWOTH))
                return nvh_err_set(err, -EPERM, "'%s' is writable by group or others (mode %04o)",
                                   ipc->path, (unsigned)(src->st.st_mode & 07777));
        if (ipc->control && (fstatat(src->fd, ipc->control, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                             !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))))
                return nvh_err_set(err, -ENOENT, "'%s' has no control pipe '%s'", ipc->path,
                                   ipc->control);
        return 0;
}

/* A host IPC endpoint (a socket, the MPS pipe directory): opened without following any
 * symlink and checked on that fd; refused ones are skipped with a warning, the container
 * starts without them. */
static int
open_ipc(struct source *src, const struct nvh_op *op, const struct nvh_component_ipc *ipc)
{
        struct nvh_err e = {0};
        unsigned sflags = NVH_SOURCE_NO_SYMLINKS | (op->flags & NVH_OPF_DIR ? NVH_SOURCE_DIR : 0);

        if (nvh_mount_open_source(op->host_path, sflags, &src->mnt, &e) < 0 ||
            check_ipc(ipc, &src->mnt, &e) < 0) {
                nvh_log_warn("%s, skipping", e.msg);
                nvh_mount_source_done(&src->mnt);
                src->skip = true;
        }
        return 0;
}

static int
open_sources(struct inject *in, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;

        in->src = calloc(plan->n_ops ? plan->n_ops : 1, sizeof(*in->src));
        if (!in->src)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < plan->n_ops; i++)
                in->src[i].mnt = (struct nvh_mount_source)NVH_MOUNT_SOURCE_INIT;
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                const struct nvh_component_ipc *ipc;
                int r = 0;

                switch (op->kind) {
                case NVH_OP_BIND:
                        ipc = nvh_components_find_ipc(op->ctr_path);
                        if (ipc)
                                r = open_ipc(&in->src[i], op, ipc);
                        else
                                r = nvh_mount_open_source(
                                    op->host_path, op->flags & NVH_OPF_DIR ? NVH_SOURCE_DIR : 0,
                                    &in->src[i].mnt, err);
                        break;
                case NVH_OP_MKNOD:
                        /* Only a user namespace refuses mknod: then the host node itself is
                         * bound, and it must be opened here, in the host namespace. */
                        if (in->t->user_ns && op->host_path)
                                r = nvh_mount_open_source(op->host_path, 0, &in->src[i].mnt, err);
                        break;
                case NVH_OP_PROC_FILE:
                        /* Content the plan carries (read at discovery) wins over its source. */
                        if (op->host_path && !op->target) {
                                r = nvh_fileio_read_at(AT_FDCWD, op->host_path, PROC_FILE_MAX, 1,
                                                       &in->src[i].content, NULL, err);
                        } else {
                                in->src[i].content = strdup(op->target ? op->target : "");
                                if (!in->src[i].content)
                                        r = nvh_err_set(err, -ENOMEM, "out of memory");
                        }
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Where fd's object is mounted: its mount id (statx STATX_MNT_ID, Linux 5.8) or, where the
 * kernel has no mount ids, its device number (weaker: a bind of a directory of the rootfs's
 * own filesystem then looks like the rootfs). Either way for every fd of one run. */
static int
mount_id_of(int fd, uint64_t *ret)
{
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (sx.stx_mask & STATX_MNT_ID)
                *ret = sx.stx_mnt_id;
        else
                *ret = (1ull << 63) | ((uint64_t)sx.stx_dev_major << 32) | sx.stx_dev_minor;
        return 0;
}

static bool
is_host_bind(const struct nvh_oci_mount *m)
{
        if (m->type && streq(m->type, "bind"))
                return true;
        for (char **o = m->options; o && *o; o++)
                if (streq(*o, "bind") || streq(*o, "rbind"))
                        return true;
        return false;
}

/* Trusts: the spec's mount list (from the runtime's bundle) and the mounts the runtime made
 * from it. Verifies: nothing; it records, for each bind of a host path, the mount that is at
 * its destination in the container (resolved in-root, as the runtime resolved it). A
 * destination that does not resolve holds no mount to protect. */
static int
find_volumes(struct inject *in, struct nvh_err *err)
{
        in->vols = calloc(in->t->n_mounts ? in->t->n_mounts : 1, sizeof(*in->vols));
        if (!in->vols)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < in->t->n_mounts; i++) {
                const struct nvh_oci_mount *m = &in->t->mounts[i];
                _cleanup_close_ int fd = -1;
                struct nvh_err ignored = {0};
                uint64_t id;

                if (!is_host_bind(m) ||
                    nvh_rootfs_resolve(in->root_fd, m->destination, O_PATH, &fd, &ignored) < 0 ||
                    mount_id_of(fd, &id) < 0)
                        continue;
                in->vols[in->n_vols++] = (struct volume){id, m->destination};
        }
        return 0;
}

/* The image chooses the library directory (its cache says where libc is): refuse to create,
 * link or mount in a directory that is a host volume, where our files would land on the
 * host (and, through a shared volume, our mounts would propagate there). */
static int
check_not_volume(const struct inject *in, int dir_fd, const char *ctr_path, struct nvh_err *err)
{
        uint64_t id;

        if (in->n_vols == 0)
                return 0;
        if (mount_id_of(dir_fd, &id) < 0)
                return nvh_err_errno(err, "statx directory of '%s'", ctr_path);
        for (size_t i = 0; i < in->n_vols; i++)
                if (in->vols[i].id == id)
                        return nvh_err_set(err, -EXDEV,
                                           "'%s' is in the host volume mounted on '%s', refusing "
                                           "to write there",
                                           ctr_path, in->vols[i].ctr_path);
        return 0;
}

/* The in-root parent of ctr_path (created when missing) as a borrowed fd, and the last name. */
static int
parent_of(struct inject *in, const char *ctr_path, int *ret_dir_fd, char name[static NAME_MAX + 1],
          struct nvh_err *err)
{
        const char *slash = strrchr(ctr_path, '/');
        size_t plen, nlen;
        int r;

        if (!slash || ctr_path[0] != '/')
                return nvh_err_set(err, -EINVAL, "path '%s' is not absolute", ctr_path);
        plen = (size_t)(slash - ctr_path);
        nlen = strlen(slash + 1);
        if (nlen == 0 || nlen > NAME_MAX || plen >= sizeof(in->parent_path))
                return nvh_err_set(err, -EINVAL, "bad container path '%s'", ctr_path);
        if (in->parent_fd < 0 || strlen(in->parent_path) != plen ||
            memcmp(in->parent_path, ctr_path, plen) != 0) {
                if (in->parent_fd >= 0)
                        close(TAKE_FD(in->parent_fd));
                r = nvh_rootfs_open_parent(in->root_fd, ctr_path, &in->parent_fd, name, err);
                if (r < 0)
                        return r;
                memcpy(in->parent_path, ctr_path, plen);
                in->parent_path[plen] = '\0';
        }
        memcpy(name, slash + 1, nlen + 1);
        *ret_dir_fd = in->parent_fd;
        return 0;
}

/* path relative to dir when it is strictly below it, else NULL. */
static const char *
below(const char *dir, const char *path)
{
        size_t len = strlen(dir);

        if (!path || strncmp(path, dir, len) != 0 || path[len] != '/' || !path[len + 1])
                return NULL;
        return path + len + 1;
}

/* The path of ctr_path relative to the driver directory's tmpfs, when it is below it and the
 * tmpfs is mounted; else NULL. */
static const char *
in_drvdir(const struct inject *in, const char *ctr_path)
{
        return in->drvdir_fd >= 0 ? below(in->drvdir, ctr_path) : NULL;
}

static unsigned
mount_flags(unsigned op_flags)
{
        return (op_flags & NVH_OPF_RDONLY ? NVH_MOUNT_RDONLY : 0) |
               (op_flags & NVH_OPF_NOSUID ? NVH_MOUNT_NOSUID : 0) |
               (op_flags & NVH_OPF_NODEV ? NVH_MOUNT_NODEV : 0) |
               (op_flags & NVH_OPF_NOEXEC ? NVH_MOUNT_NOEXEC : 0) |
               (op_flags & NVH_OPF_DIR ? NVH_MOUNT_DIR : 0);
}

static int
do_bind(struct inject *in, size_t i, struct nvh_err *err)
{
        const struct nvh_op *op = &in->plan->ops[i];
        const char *staged = in_drvdir(in, op->ctr_path);
        _cleanup_close_ int target_fd = -1;
        bool is_dir = op->flags & NVH_OPF_DIR, created = false;
        char name[NAME_MAX + 1];
        int dir_fd, r;

        if (in->src[i].skip)
                return 0;
        if (staged) {
                /* Made empty, of the source's type, in our own tmpfs (do_tmpfs). */
                target_fd = openat(in->drvdir_fd, staged, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (target_fd < 0)
                        return nvh_err_errno(err, "open target '%s'", op->ctr_path);
                return nvh_mount_bind(&in->src[i].mnt, target_fd,
                                      mount_flags(op->flags) | NVH_MOUNT_NEW_TARGET, op->ctr_path,
                                      err);
        }
        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r >= 0)
                r = check_not_volume(in, dir_fd, op->ctr_path, err);
        if (r < 0)
                return r;
        r = nvh_rootfs_create_target_at(dir_fd, name, op->ctr_path, is_dir, is_dir ? 0755 : 0644,
                                        &target_fd, &created, err);
        if (r < 0)
                return r;
        return nvh_mount_bind(&in->src[i].mnt, target_fd,
                              mount_flags(op->flags) | (created ? NVH_MOUNT_NEW_TARGET : 0),
                              op->ctr_path, err);
}

static int
do_symlink(struct inject *in, const struct nvh_op *op, struct nvh_err *err)
{
        char name[NAME_MAX + 1];
        int dir_fd, r;

        if (in_drvdir(in, op->ctr_path))
                return 0; /* made with the tmpfs (do_tmpfs) */
        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r >= 0)
                r = check_not_volume(in, dir_fd, op->ctr_path, err);
        if (r < 0)
                return r;
        r = nvh_rootfs_symlink_at(dir_fd, name, op->ctr_path, op->target, err);
        if (r == -EEXIST && (op->flags & NVH_OPF_KEEP_IMAGE_FILE)) {
                nvh_log_debug("%s: the image's own file kept", err->msg);
                nvh_err_clear(err);
                r = 0;
        }
        return r;
}

/* A small file of the image, replaced atomically (the conf file naming the driver directory
 * for the image's ldconfig). */
static int
do_file(struct inject *in, const struct nvh_op *op, struct nvh_err *err)
{
        char name[NAME_MAX + 1];
        int dir_fd, r;

        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r >= 0)
                r = check_not_volume(in, dir_fd, op->ctr_path, err);
        if (r < 0)
                return r;
        return nvh_rootfs_write_atomic_at(dir_fd, name, op->ctr_path, op->target,
                                          strlen(op->target), 0644, err);
}

static int
do_mknod(struct inject *in, size_t i, struct nvh_err *err)
{
        const struct nvh_op *op = &in->plan->ops[i];
        char name[NAME_MAX + 1];
        int dir_fd, r;

        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        if (in->t->user_ns && !op->host_path) {
                /* A node missing on the host: nothing to bind, and mknod needs privilege. */
                nvh_log_warn("'%s' has no host node and cannot be made without privilege: "
                             "skipped (run nvidia-modprobe on the host)",
                             op->ctr_path);
                return 0;
        }
        if (in->t->user_ns)
                return nvh_devnode_bind(dir_fd, name, &in->src[i].mnt, err);
        return nvh_devnode_create(dir_fd, name, op->mode, op->major, op->minor,
                                  in->src[i].mnt.fd >= 0 ? &in->src[i].mnt : NULL, err);
}

static bool act_as_container_root(const struct inject *in, bool on);

/* The entries of a fresh tmpfs (nvh_mount_tmpfs_tree), each after its parent directories. */
struct tree {
        struct nvh_mount_file *files;
        size_t n, cap;
};

static void
tree_done(struct tree *t)
{
        for (size_t i = 0; i < t->n; i++)
                free((char *)t->files[i].rel_path);
        free(t->files);
}

static int
tree_push(struct tree *t, char *rel, const char *content, mode_t mode)
{
        for (size_t i = 0; S_ISDIR(mode) && i < t->n; i++)
                if (streq(t->files[i].rel_path, rel)) {
                        free(rel);
                        return 0; /* a directory listed already */
                }
        if (t->n == t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 64;
                struct nvh_mount_file *nf = realloc(t->files, ncap * sizeof(*nf));
                if (!nf) {
                        free(rel);
                        return -ENOMEM;
                }
                t->files = nf;
                t->cap = ncap;
        }
        t->files[t->n++] = (struct nvh_mount_file){rel, content, mode};
        return 0;
}

/* prefix + rel, after the directories leading to it. content is borrowed. */
static int
tree_add(struct tree *t, const char *prefix, const char *rel, const char *content, mode_t mode,
         struct nvh_err *err)
{
        char *p;

        for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
                int len = (int)(slash - rel);
                if (asprintf(&p, "%s%.*s", prefix, len, rel) < 0 ||
                    tree_push(t, p, NULL, S_IFDIR | 0555) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (asprintf(&p, "%s%s", prefix, rel) < 0 || tree_push(t, p, content, mode) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* The tmpfs over /proc/driver/nvidia. A procfs without the nvidia directory (the driver is
 * not loaded in this kernel view) cannot get a mount point there, so the tmpfs then goes on
 * /proc/driver with an nvidia/ directory inside. */
static int
do_proc(struct inject *in, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;
        _cleanup_close_ int target_fd = -1;
        _cleanup_(tree_done) struct tree t = {0};
        const char *prefix = "";
        int r = 0;

        if (nvh_rootfs_resolve(in->root_fd, CTR_PROC_NVIDIA, O_PATH | O_DIRECTORY, &target_fd,
                               err) < 0) {
                nvh_err_clear(err);
                r = nvh_rootfs_resolve(in->root_fd, CTR_PROC_DRIVER, O_PATH | O_DIRECTORY,
                                       &target_fd, err);
                if (r < 0)
                        return nvh_err_prefix(err, "mask '%s'", CTR_PROC_NVIDIA);
                prefix = "nvidia/";
                r = tree_add(&t, "", "nvidia", NULL, S_IFDIR | 0555, err);
        }
        for (size_t i = 0; r >= 0 && i < plan->n_ops; i++)
                if (plan->ops[i].kind == NVH_OP_PROC_FILE)
                        r = tree_add(&t, prefix, plan->ops[i].ctr_path, in->src[i].content,
                                     S_IFREG | 0444, err);
        if (r < 0)
                return r;
        return nvh_mount_tmpfs_files(target_fd, t.files, t.n, CTR_PROC_NVIDIA, err);
}

/* The driver directory: one fresh tmpfs on a directory made in-root, holding an empty target
 * for every bind and every symlink the plan puts below it, made while it is detached (or,
 * on the fallback, just mounted), then read-only. The binds then go on those targets
 * (do_bind), so the image's filesystem gets one directory however many files are injected. */
static int
do_tmpfs(struct inject *in, size_t i, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;
        const struct nvh_op *op = &plan->ops[i];
        _cleanup_(tree_done) struct tree t = {0};
        _cleanup_close_ int target_fd = -1;
        char name[NAME_MAX + 1];
        int dir_fd, r = 0;

        if (in->drvdir_fd >= 0)
                return nvh_err_set(err, -EINVAL, "plan: a second driver directory '%s'",
                                   op->ctr_path);
        for (size_t j = 0; r >= 0 && j < plan->n_ops; j++) {
                const struct nvh_op *o = &plan->ops[j];
                const char *rel = below(op->ctr_path, o->ctr_path);
                mode_t mode = S_IFLNK;

                if (!rel || (o->kind != NVH_OP_BIND && o->kind != NVH_OP_SYMLINK))
                        continue;
                if (o->kind == NVH_OP_BIND)
                        mode = o->flags & NVH_OPF_DIR ? S_IFDIR | 0555 : S_IFREG | 0444;
                r = tree_add(&t, "", rel, o->kind == NVH_OP_SYMLINK ? o->target : NULL, mode, err);
        }
        if (r >= 0)
                r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r >= 0)
                r = check_not_volume(in, dir_fd, op->ctr_path, err);
        if (r >= 0)
                r = nvh_rootfs_create_target_at(dir_fd, name, op->ctr_path, true, 0755, &target_fd,
                                                NULL, err);
        if (r < 0)
                return r;
        /* Our own fresh mount: filled as ourselves, as the proc tmpfs is. */
        act_as_container_root(in, false);
        r = nvh_mount_tmpfs_tree(target_fd, t.files, t.n, op->ctr_path, &in->drvdir_fd, err);
        act_as_container_root(in, true);
        in->drvdir = op->ctr_path;
        return r;
}

static void
ldcache_freep(struct nvh_ldcache **cache)
{
        nvh_ldcache_free(*cache);
}

static int32_t
cache_flags(int elf_class)
{
        if (elf_class == 32)
                return NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_I386;
#if defined(__aarch64__)
        return NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_AARCH64_LIB64;
#else
        return NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64;
#endif
}

/* Trusts: nothing in the image. Reads the image's cache in-root without following a
 * symlinked cache; a corrupt cache is replaced (the loader ignores a corrupt cache anyway).
 * The probe's parse is reused only when the file opened here, after entering the namespace,
 * has the identity (device, inode, size, mtime, ctime) of the one the probe parsed.
 * Guarantees: the new cache replaces the old atomically, and no image binary runs. */
int
nvh_inject_ldcache_reuse(const struct nvh_plan *plan, int root_fd, struct nvh_layout *layout,
                         bool *ret_reused, struct nvh_err *err)
{
        static const char ctr_cache[] = "/etc/ld.so.cache";
        _cleanup_free_ char *buf = NULL, *out = NULL;
        _cleanup_free_ struct nvh_ldcache_add *adds = NULL;
        _cleanup_(ldcache_freep) struct nvh_ldcache *cache = NULL;
        struct nvh_layout_file_id id;
        size_t len = 0, out_len = 0, n = 0;
        int r;

        *ret_reused = false;
        for (size_t i = 0; i < plan->n_ops; i++)
                n += plan->ops[i].kind == NVH_OP_LDCACHE;
        if (n == 0)
                return 0;
        /* The image's cache is read only when it is a regular file; anything else there (a
         * symlink, FIFO, device node) is replaced by the rename, never followed nor read. */
        if (layout && layout->ldcache) {
                r = nvh_layout_ldcache_id(root_fd, &id, err);
                if (r >= 0 && nvh_layout_file_id_eq(&id, &layout->ldcache_id)) {
                        cache = TAKE_PTR(layout->ldcache);
                        *ret_reused = true;
                }
                nvh_err_clear(err);
        }
        if (!cache) {
                r = nvh_layout_read_ldcache(root_fd, &buf, &len, &id, err);
                if (r < 0 && r != -ENOENT)
                        nvh_log_warn("%s, replacing it", err->msg);
                if (r >= 0 && len > 0 &&
                    nvh_ldcache_parse_take(TAKE_PTR(buf), len, ctr_cache, &cache, err) < 0) {
                        nvh_log_warn("%s, replacing it", err->msg);
                        cache = NULL;
                }
                nvh_err_clear(err);
        }
        if (!cache) {
                cache = nvh_ldcache_new();
                if (!cache)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        adds = calloc(n, sizeof(*adds));
        if (!adds)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        n = 0;
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                if (op->kind == NVH_OP_LDCACHE)
                        adds[n++] = (struct nvh_ldcache_add){op->target, op->ctr_path,
                                                             cache_flags(op->elf_class)};
        }
        r = nvh_ldcache_upsert_many(cache, adds, n, err);
        if (r < 0)
                return r;
        r = nvh_ldcache_serialize(cache, &out, &out_len, err);
        if (r < 0)
                return r;
        return nvh_rootfs_write_atomic(root_fd, ctr_cache, out, out_len, 0644, err);
}

int
nvh_inject_ldcache(const struct nvh_plan *plan, int root_fd, struct nvh_err *err)
{
        bool reused;

        return nvh_inject_ldcache_reuse(plan, root_fd, NULL, &reused, err);
}

/* The image's /etc must not be a host volume either: the cache is written there. */
static int
check_ldcache_dir(struct inject *in, struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1;
        char name[NAME_MAX + 1];
        bool any = false;
        int r;

        for (size_t i = 0; i < in->plan->n_ops; i++)
                any |= in->plan->ops[i].kind == NVH_OP_LDCACHE;
        if (!any || in->n_vols == 0)
                return 0;
        r = nvh_rootfs_open_parent(in->root_fd, "/etc/ld.so.cache", &dir_fd, name, err);
        if (r < 0)
                return r;
        return check_not_volume(in, dir_fd, "/etc/ld.so.cache", err);
}

/* In a user namespace, files are created as the container's root: the host's root is not
 * mapped there, and filesystems mounted in that namespace refuse its files (EOVERFLOW).
 * setfsuid changes only the filesystem identity: CAP_SYS_ADMIN for the mounts stays. Returns
 * whether the identity is the one asked for. */
static bool
act_as_container_root(const struct inject *in, bool on)
{
        uid_t uid = on ? (uid_t)in->t->root_uid : 0;
        gid_t gid = on ? (gid_t)in->t->root_gid : 0;

        if (!in->t->user_ns || in->t->root_uid < 0)
                return true;
        (void)setfsgid(gid);
        (void)setfsuid(uid);
        return (uid_t)setfsuid((uid_t)-1) == uid;
}

/* The end of the run of ops of one kind starting at i. */
static size_t
run_end(const struct nvh_plan *plan, size_t i)
{
        size_t end = i + 1;

        while (end < plan->n_ops && plan->ops[end].kind == plan->ops[i].kind)
                end++;
        return end;
}

/* One walk over the plan, in its order (the order `nvhook explain` prints), one case per
 * kind. Kinds applied as one unit take their whole run of consecutive ops: proc files fill one
 * tmpfs, cache entries one rewrite of the cache; the plan emits each as a single run, and a
 * second run is refused rather than hiding the first. Cgroup grants are collected into rules,
 * applied by the caller after leaving the namespace (the plan puts them last). */
static int
apply_in_container(struct inject *in, struct nvh_cgroup_rule *rules, size_t *n_rules,
                   struct nvh_inject_stats *stats, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;
        bool proc_done = false, ldcache_done = false;
        int r;

        r = nvh_rootfs_open(in->t->host_rootfs, &in->root_fd, err);
        if (r >= 0)
                r = find_volumes(in, err);
        if (r < 0)
                return r;
        if (!act_as_container_root(in, true))
                return nvh_err_set(err, -EPERM, "cannot act as the container's root (%d)",
                                   in->t->root_uid);
        for (size_t i = 0, end; i < plan->n_ops; i = end) {
                const struct nvh_op *op = &plan->ops[i];
                unsigned long long t = nvh_log_now_ns(), *slot = &stats->ns_mounts;

                end = i + 1;
                switch (op->kind) {
                case NVH_OP_TMPFS:
                        r = do_tmpfs(in, i, err);
                        stats->n_mounts++;
                        break;
                case NVH_OP_BIND:
                        r = do_bind(in, i, err);
                        stats->n_mounts++;
                        break;
                case NVH_OP_FILE:
                        r = do_file(in, op, err);
                        slot = &stats->ns_ldcache;
                        break;
                case NVH_OP_SYMLINK:
                        r = do_symlink(in, op, err);
                        stats->n_symlinks++;
                        break;
                case NVH_OP_MKNOD:
                        r = do_mknod(in, i, err);
                        stats->n_nodes++;
                        slot = &stats->ns_nodes;
                        break;
                case NVH_OP_PROC_FILE:
                        if (proc_done)
                                return nvh_err_set(err, -EINVAL, "plan: proc files not in one run");
                        proc_done = true;
                        end = run_end(plan, i);
                        /* The tmpfs is our own fresh mount: fill it as ourselves. */
                        act_as_container_root(in, false);
                        r = do_proc(in, err);
                        act_as_container_root(in, true);
                        slot = &stats->ns_nodes;
                        break;
                case NVH_OP_LDCACHE:
                        if (ldcache_done)
                                return nvh_err_set(err, -EINVAL,
                                                   "plan: cache entries not in one run");
                        ldcache_done = true;
                        end = run_end(plan, i);
                        r = check_ldcache_dir(in, err);
                        if (r >= 0) {
                                bool reused = false;
                                r = nvh_inject_ldcache_reuse(plan, in->root_fd, in->t->layout,
                                                             &reused, err);
                                nvh_log_debug("ld.so.cache: %s",
                                              reused ? "probe's parse reused" : "read and parsed");
                        }
                        stats->n_ldcache += end - i;
                        slot = &stats->ns_ldcache;
                        break;
                case NVH_OP_CGROUP_ALLOW:
                        rules[(*n_rules)++] =
                            (struct nvh_cgroup_rule){'c', op->major, op->minor, "rw"};
                        r = 0;
                        slot = &stats->ns_cgroup;
                        break;
                }
                if (r < 0)
                        return r;
                *slot += nvh_log_now_ns() - t;
        }
        return 0;
}

int
nvh_inject_run(const struct nvh_plan *plan, const struct nvh_inject_target *t,
               struct nvh_inject_stats *stats, struct nvh_err *err)
{
        struct inject in = {.plan = plan,
                            .t = t,
                            .host_mnt_fd = -1,
                            .root_fd = -1,
                            .parent_fd = -1,
                            .drvdir_fd = -1};
        _cleanup_free_ struct nvh_cgroup_rule *rules = NULL;
        size_t n_rules = 0;
        unsigned long long t0 = nvh_log_now_ns();
        int r, r2;

        rules = calloc(plan->n_ops + 1, sizeof(*rules));
        if (!rules)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        /* Host side first: every source is opened in our own namespace, so nothing the
         * container's mounts could redirect is ever walked by path. */
        r = open_sources(&in, err);
        if (r < 0)
                goto out;
        r = nvh_cgroup_find(t->pid, (enum nvh_cgroup_mode)t->cgroup_mode, &in.cg, err);
        if (r < 0)
                goto out;
        stats->ns_sources = nvh_log_now_ns() - t0;

        if (!t->same_ns) {
                r = nvh_nsenter_mnt(t->pid, t->host_rootfs, &in.host_mnt_fd, err);
                if (r < 0)
                        goto out;
        }
        r = apply_in_container(&in, rules, &n_rules, stats, err);
        act_as_container_root(&in, false);
        if (!t->same_ns) {
                struct nvh_err err2 = {0};
                r2 = nvh_nsenter_restore(in.host_mnt_fd, &err2);
                if (r >= 0 && r2 < 0) {
                        *err = err2;
                        r = r2;
                }
        }
        if (r < 0)
                goto out;

        /* Last, and atomically: the only change outside the container's namespaces (the
         * plan's cgroup-allow ops, its last run). */
        t0 = nvh_log_now_ns();
        r = nvh_cgroup_grant(in.cg, rules, n_rules, err);
        stats->ns_cgroup += nvh_log_now_ns() - t0;
out:
        inject_release(&in);
        return r;
}
