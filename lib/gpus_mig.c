/* SPDX-License-Identifier: Apache-2.0 */
/* MIG and capability discovery from procfs (split from lib/gpus.c): the capability files of
 * nv-caps.c and the gpu<minor>/mig/gi<G>/ci<C> tree below driver/nvidia/capabilities. Every
 * file is treated as hostile, like in lib/gpus.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpus.h"
#include "gpus_internal.h"
#include "macros.h"

struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* A capability file: "DeviceFileMinor: %d\nDeviceFileMode: %d\nDeviceFileModify: %d\n". */
static int
parse_cap(struct nvh_gpus_ctx *c, const char *rel, char *buf, struct nvh_capdev *cap)
{
        char *cursor = buf, *line;
        unsigned long v;

        cap->minor = cap->mode = -1;
        while (nvh_gpus_next_line(&cursor, &line)) {
                char *colon = strchr(line, ':'), *key, *val;
                if (!colon)
                        continue;
                *colon = '\0';
                key = nvh_gpus_trim(line);
                val = nvh_gpus_trim(colon + 1);
                if (streq(key, "DeviceFileMinor")) {
                        if (cap->minor >= 0 || !nvh_gpus_parse_uint(val, NVH_GPUS_MAX_MINOR, &v))
                                return nvh_gpus_bad(c, rel, "bad 'DeviceFileMinor' '%.16s'", val);
                        cap->minor = (int)v;
                } else if (streq(key, "DeviceFileMode")) {
                        if (cap->mode >= 0 || !nvh_gpus_parse_uint(val, 07777, &v))
                                return nvh_gpus_bad(c, rel, "bad 'DeviceFileMode' '%.16s'", val);
                        cap->mode = (int)v;
                }
        }
        if (cap->minor < 0)
                return nvh_gpus_bad(c, rel, "no 'DeviceFileMinor' line");
        return 0;
}

int
nvh_gpus_mig_read_cap(struct nvh_gpus_ctx *c, int dir_fd, const char *rel, const char *what_rel,
                      struct nvh_capdev *cap)
{
        char buf[SMALL_FILE_MAX];
        int r;

        cap->minor = cap->mode = -1;
        r = nvh_gpus_read_small(c, dir_fd, rel, what_rel, buf, sizeof(buf), true);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return parse_cap(c, what_rel, buf, cap);
}

int
nvh_gpus_mig_dir_next(struct nvh_gpus_dir_iter *it, const char **name, unsigned char *type)
{
        for (;;) {
                if (it->pos >= it->len) {
                        ssize_t n = getdents64(it->fd, it->buf, sizeof(it->buf));
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                return 0;
                        it->len = n;
                        it->pos = 0;
                }
                struct linux_dirent64 *d = (struct linux_dirent64 *)(it->buf + it->pos);
                if (d->d_reclen == 0 || it->pos + d->d_reclen > it->len)
                        return -EIO;
                it->pos += d->d_reclen;
                if (streq(d->d_name, ".") || streq(d->d_name, ".."))
                        continue;
                *name = d->d_name;
                *type = d->d_type;
                return 1;
        }
}

/* "gi12" -> 12 for prefix "gi"; false for anything else. */
static bool
parse_id_name(const char *name, const char *prefix, unsigned *ret)
{
        size_t n = strlen(prefix);
        unsigned long v;

        if (strncmp(name, prefix, n) != 0 || !nvh_gpus_parse_uint(name + n, NVH_GPUS_MAX_ID, &v))
                return false;
        /* Reject "gi01": the driver never writes leading zeros, so two names must not alias. */
        if (name[n] == '0' && name[n + 1] != '\0')
                return false;
        *ret = (unsigned)v;
        return true;
}

static int
cmp_mig(const void *a, const void *b)
{
        const struct nvh_mig *x = a, *y = b;

        if (x->gi != y->gi)
                return x->gi < y->gi ? -1 : 1;
        return x->ci < y->ci ? -1 : (x->ci > y->ci);
}

/* Collect the CIs of one GI. */
static int
scan_gi(struct nvh_gpus_ctx *c, struct nvh_gpu *gpu, int mig_fd, const char *rel_mig, unsigned gi,
        size_t *cap_migs)
{
        _cleanup_close_ int gi_fd = -1;
        struct nvh_gpus_dir_iter it = {.fd = -1};
        char rel[256], name_gi[16];
        struct nvh_capdev gi_cap;
        const char *name;
        unsigned char type;
        int r;

        snprintf(name_gi, sizeof(name_gi), "gi%u", gi);
        gi_fd = openat(mig_fd, name_gi, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (gi_fd < 0) {
                return nvh_err_errno(c->err, "open '%s/%s/%s'", c->proc, rel_mig, name_gi);
        }
        snprintf(rel, sizeof(rel), "%s/%s/access", rel_mig, name_gi);
        r = nvh_gpus_mig_read_cap(c, gi_fd, "access", rel, &gi_cap);
        if (r < 0)
                return r;
        if (gi_cap.minor < 0)
                return nvh_gpus_bad(c, rel, "missing");

        it.fd = gi_fd;
        while ((r = nvh_gpus_mig_dir_next(&it, &name, &type)) > 0) {
                struct nvh_capdev ci_cap;
                char rel_ci[32];
                unsigned ci;

                if (!parse_id_name(name, "ci", &ci))
                        continue;
                snprintf(rel_ci, sizeof(rel_ci), "ci%u/access", ci);
                snprintf(rel, sizeof(rel), "%s/%s/%s", rel_mig, name_gi, rel_ci);
                r = nvh_gpus_mig_read_cap(c, gi_fd, rel_ci, rel, &ci_cap);
                if (r < 0)
                        return r;
                if (ci_cap.minor < 0)
                        return nvh_gpus_bad(c, rel, "missing");
                if (gpu->n_migs >= NVH_GPUS_MAX_MIGS)
                        return nvh_err_set(c->err, -E2BIG, "more than %d mig devices on gpu '%s'",
                                           NVH_GPUS_MAX_MIGS, gpu->bus_id);
                if (gpu->n_migs == *cap_migs) {
                        size_t ncap = *cap_migs ? *cap_migs * 2 : 8;
                        struct nvh_mig *n = realloc(gpu->migs, ncap * sizeof(*n));
                        if (!n)
                                return nvh_err_set(c->err, -ENOMEM, "out of memory");
                        gpu->migs = n;
                        *cap_migs = ncap;
                }
                gpu->migs[gpu->n_migs++] =
                    (struct nvh_mig){.gi = gi, .ci = ci, .gi_access = gi_cap, .ci_access = ci_cap};
        }
        if (r < 0)
                return nvh_err_sys(c->err, r, "read directory '%s/%s/%s'", c->proc, rel_mig,
                                   name_gi);
        return 0;
}

int
nvh_gpus_mig_scan(struct nvh_gpus_ctx *c, int caps_fd, struct nvh_gpu *gpu)
{
        _cleanup_close_ int mig_fd = -1;
        struct stat st;
        struct nvh_gpus_dir_iter it = {.fd = -1};
        char rel_mig[96];
        size_t cap_migs = 0;
        const char *name;
        unsigned char type;
        int r;

        if (caps_fd < 0)
                return 0;
        snprintf(rel_mig, sizeof(rel_mig), "gpu%u/mig", gpu->minor);
        if (fstatat(caps_fd, rel_mig, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return nvh_err_errno(c->err, "stat '%s/" REL_CAPS "/%s'", c->proc, rel_mig);
        }
        if (!S_ISDIR(st.st_mode))
                return nvh_gpus_bad(c, REL_CAPS, "'%s' is not a directory", rel_mig);
        gpu->mig_capable = true;
        /* A directory's link count is 2 + its subdirectories on procfs (and ext4, tmpfs): 2
         * means no GPU instance, the common case, decided without opening it. Filesystems
         * that keep 1 for directories (btrfs) take the full scan. */
        if (st.st_nlink == 2)
                return 0;

        mig_fd = openat(caps_fd, rel_mig, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (mig_fd < 0) {
                return nvh_err_errno(c->err, "open '%s/" REL_CAPS "/%s'", c->proc, rel_mig);
        }
        snprintf(rel_mig, sizeof(rel_mig), REL_CAPS "/gpu%u/mig", gpu->minor);

        it.fd = mig_fd;
        while ((r = nvh_gpus_mig_dir_next(&it, &name, &type)) > 0) {
                unsigned gi;
                if (!parse_id_name(name, "gi", &gi))
                        continue;
                r = scan_gi(c, gpu, mig_fd, rel_mig, gi, &cap_migs);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return nvh_err_sys(c->err, r, "read directory '%s/%s'", c->proc, rel_mig);
        if (gpu->n_migs > 1) /* migs is NULL when there is none: qsort's pointer is nonnull */
                qsort(gpu->migs, gpu->n_migs, sizeof(*gpu->migs), cmp_mig);
        for (size_t i = 0; i < gpu->n_migs; i++)
                gpu->migs[i].index = (unsigned)i;
        return 0;
}
