/* SPDX-License-Identifier: Apache-2.0 */
#include "inject.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "devnode.h"
#include "fileio.h"
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
        int fd;        /* BIND: detached tree or O_PATH fd; MKNOD: O_PATH host node */
        char *content; /* PROC_FILE: the bytes to serve */
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
};

static void
inject_release(struct inject *in)
{
        if (in->src) {
                for (size_t i = 0; i < in->plan->n_ops; i++) {
                        if (in->src[i].fd >= 0)
                                close(in->src[i].fd);
                        free(in->src[i].content);
                }
                free(in->src);
        }
        if (in->root_fd >= 0)
                close(in->root_fd);
        if (in->parent_fd >= 0)
                close(in->parent_fd);
        if (in->host_mnt_fd >= 0)
                close(in->host_mnt_fd);
        nvh_cgroup_free(in->cg);
}

static int
open_sources(struct inject *in, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;

        in->src = calloc(plan->n_ops ? plan->n_ops : 1, sizeof(*in->src));
        if (!in->src)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < plan->n_ops; i++)
                in->src[i].fd = -1;
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                int r = 0;

                switch (op->kind) {
                case NVH_OP_BIND:
                        r = nvh_mount_open_source(op->host_path, op->flags & NVH_OPF_DIR,
                                                  &in->src[i].fd, err);
                        break;
                case NVH_OP_MKNOD:
                        /* Only a user namespace refuses mknod: then the host node itself is
                         * bound, and it must be opened here, in the host namespace. */
                        if (in->t->user_ns && op->host_path)
                                r = nvh_mount_open_source(op->host_path, false, &in->src[i].fd,
                                                          err);
                        break;
                case NVH_OP_PROC_FILE:
                        if (op->host_path) {
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
        _cleanup_close_ int target_fd = -1;
        bool is_dir = op->flags & NVH_OPF_DIR, created = false;
        char name[NAME_MAX + 1];
        int dir_fd, r;

        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        r = nvh_rootfs_create_target_at(dir_fd, name, op->ctr_path, is_dir, is_dir ? 0755 : 0644,
                                        &target_fd, &created, err);
        if (r < 0)
                return r;
        return nvh_mount_bind(in->src[i].fd, target_fd,
                              mount_flags(op->flags) | (created ? NVH_MOUNT_NEW_TARGET : 0),
                              op->ctr_path, err);
}

static int
do_symlink(struct inject *in, const struct nvh_op *op, struct nvh_err *err)
{
        char name[NAME_MAX + 1];
        int dir_fd, r;

        r = parent_of(in, op->ctr_path, &dir_fd, name, err);
        if (r < 0)
                return r;
        return nvh_rootfs_symlink_at(dir_fd, name, op->ctr_path, op->target, err);
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
                return nvh_devnode_bind(dir_fd, name, in->src[i].fd, err);
        return nvh_devnode_create(dir_fd, name, op->mode, op->major, op->minor, in->src[i].fd, err);
}

/* The tmpfs over /proc/driver/nvidia. A procfs without the nvidia directory (the driver is
 * not loaded in this kernel view) cannot get a mount point there, so the tmpfs then goes on
 * /proc/driver with an nvidia/ directory inside. */
static int
do_proc(struct inject *in, struct nvh_err *err)
{
        const struct nvh_plan *plan = in->plan;
        _cleanup_close_ int target_fd = -1;
        _cleanup_free_ struct nvh_mount_file *files = NULL;
        char **names = NULL;
        size_t n = 0, n_names = 0;
        const char *prefix = "";
        int r;

        if (nvh_rootfs_resolve(in->root_fd, CTR_PROC_NVIDIA, O_PATH | O_DIRECTORY, &target_fd,
                               err) < 0) {
                nvh_err_clear(err);
                r = nvh_rootfs_resolve(in->root_fd, CTR_PROC_DRIVER, O_PATH | O_DIRECTORY,
                                       &target_fd, err);
                if (r < 0)
                        return nvh_err_prefix(err, "mask '%s'", CTR_PROC_NVIDIA);
                prefix = "nvidia/";
        }
        files = calloc(plan->n_ops * 3 + 2, sizeof(*files));
        names = calloc(plan->n_ops * 3 + 2, sizeof(*names));
        if (!files || !names) {
                free(names);
                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (*prefix) {
                names[n_names] = strdup("nvidia");
                files[n++] = (struct nvh_mount_file){names[n_names++], NULL, S_IFDIR | 0555};
        }
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                const char *slash;

                if (op->kind != NVH_OP_PROC_FILE)
                        continue;
                /* Directories leading to the file ("gpus", "gpus/<bus>"). */
                for (slash = strchr(op->ctr_path, '/'); slash; slash = strchr(slash + 1, '/')) {
                        char *d = NULL;
                        bool seen = false;
                        if (asprintf(&d, "%s%.*s", prefix, (int)(slash - op->ctr_path),
                                     op->ctr_path) < 0)
                                break;
                        for (size_t k = 0; k < n_names; k++)
                                seen |= streq(names[k], d);
                        if (seen) {
                                free(d);
                                continue;
                        }
                        names[n_names] = d;
                        files[n++] = (struct nvh_mount_file){d, NULL, S_IFDIR | 0555};
                        n_names++;
                }
                if (asprintf(&names[n_names], "%s%s", prefix, op->ctr_path) < 0)
                        break;
                files[n++] =
                    (struct nvh_mount_file){names[n_names++], in->src[i].content, S_IFREG | 0444};
        }
        r = nvh_mount_tmpfs_files(target_fd, files, n, CTR_PROC_NVIDIA, err);
        for (size_t k = 0; k < n_names; k++)
                free(names[k]);
        free(names);
        return r;
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
 * Guarantees: the new cache replaces the old atomically, and no image binary runs. */
int
nvh_inject_ldcache(const struct nvh_plan *plan, int root_fd, struct nvh_err *err)
{
        static const char ctr_cache[] = "/etc/ld.so.cache";
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL, *out = NULL;
        struct nvh_ldcache *cache = NULL;
        size_t len = 0, out_len = 0;
        bool any = false;
        int r;

        for (size_t i = 0; i < plan->n_ops; i++)
                any |= plan->ops[i].kind == NVH_OP_LDCACHE;
        if (!any)
                return 0;
        if (nvh_rootfs_resolve(root_fd, ctr_cache, O_RDONLY | O_NOFOLLOW, &fd, err) >= 0 &&
            nvh_fileio_read_fd(fd, ctr_cache, NVH_LDCACHE_MAX_SIZE, &buf, &len, err) >= 0 &&
            len > 0) {
                if (nvh_ldcache_parse(buf, len, ctr_cache, &cache, err) < 0) {
                        nvh_log_warn("%s, replacing it", err->msg);
                        cache = NULL;
                }
        }
        nvh_err_clear(err);
        if (!cache) {
                cache = nvh_ldcache_new();
                if (!cache)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                if (op->kind != NVH_OP_LDCACHE)
                        continue;
                r = nvh_ldcache_upsert(cache, op->target, op->ctr_path, cache_flags(op->elf_class),
                                       err);
                if (r < 0)
                        goto out;
        }
        r = nvh_ldcache_serialize(cache, &out, &out_len, err);
        if (r < 0)
                goto out;
        r = nvh_rootfs_write_atomic(root_fd, ctr_cache, out, out_len, 0644, err);
out:
        nvh_ldcache_free(cache);
        return r;
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
                case NVH_OP_BIND:
                        r = do_bind(in, i, err);
                        stats->n_mounts++;
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
                        r = nvh_inject_ldcache(plan, in->root_fd, err);
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
        struct inject in = {
            .plan = plan, .t = t, .host_mnt_fd = -1, .root_fd = -1, .parent_fd = -1};
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
                r = nvh_nsenter_mnt(t->pid, &in.host_mnt_fd, err);
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
