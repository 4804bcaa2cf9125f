/* SPDX-License-Identifier: Apache-2.0 */
#include "compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpus.h"
#include "macros.h"
#include "plan.h"
#include "rootfs.h"

#define COMPAT_MAX_FILES 64

/* The soname of the compat libraries that have a shorter one; others are their own soname. */
static const struct {
        const char *stem, *soname;
} sonames[] = {
    {"libcuda.so", "libcuda.so.1"},
    {"libcudadebugger.so", "libcudadebugger.so.1"},
    {"libnvidia-nvvm.so", "libnvidia-nvvm.so.4"},
    {"libnvidia-ptxjitcompiler.so", "libnvidia-ptxjitcompiler.so.1"},
};

/* "580.159.04" > "575.51.03": component by component, numerically; "580.1" < "580.1.2". */
static int
version_cmp(const char *a, const char *b)
{
        for (;;) {
                char *ea = NULL, *eb = NULL;
                unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
                bool more_a, more_b;

                if (x != y)
                        return x < y ? -1 : 1;
                more_a = *ea == '.';
                more_b = *eb == '.';
                if (!more_a || !more_b)
                        return more_a - more_b;
                a = ea + 1;
                b = eb + 1;
        }
}

static bool
version_ok(const char *v)
{
        size_t n = strlen(v);

        if (n == 0 || n >= sizeof(((struct nvh_compat *)0)->version) || v[0] == '.' ||
            v[n - 1] == '.')
                return false;
        return strspn(v, "0123456789.") == n;
}

int
nvh_compat_probe_fd(int root_fd, const char *driver_version, struct nvh_compat *ret,
                    struct nvh_err *err)
{
        static const char prefix[] = "libcuda.so.";
        _cleanup_close_ int fd = -1;
        struct nvh_compat c = {0};
        struct dirent *de;
        DIR *d;

        *ret = c;
        if (nvh_rootfs_resolve(root_fd, NVH_COMPAT_DIR, O_RDONLY | O_DIRECTORY, &fd, err) < 0) {
                nvh_err_clear(err); /* no compat directory: nothing to do */
                return 0;
        }
        d = fdopendir(fd);
        if (!d)
                return nvh_err_errno(err, "read '%s'", NVH_COMPAT_DIR);
        fd = -1;
        /* The newest regular libcuda.so.<version>. */
        while ((de = readdir(d))) {
                const char *v = de->d_name + strlen(prefix);
                struct stat st;

                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || !version_ok(v) ||
                    !strchr(v, '.'))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                if (!c.version[0] || version_cmp(v, c.version) > 0)
                        snprintf(c.version, sizeof(c.version), "%s", v);
        }
        if (!c.version[0] || version_cmp(c.version, driver_version) <= 0) {
                closedir(d);
                return 0;
        }
        c.files = calloc(COMPAT_MAX_FILES + 1, sizeof(char *));
        if (!c.files) {
                closedir(d);
                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        rewinddir(d);
        while ((de = readdir(d)) && c.n_files < COMPAT_MAX_FILES) {
                const char *dot = strstr(de->d_name, ".so.");
                struct stat st;

                if (!dot || !streq(dot + 4, c.version) || strchr(de->d_name, '/'))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                c.files[c.n_files] = strdup(de->d_name);
                if (!c.files[c.n_files]) {
                        closedir(d);
                        nvh_compat_free(&c);
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                }
                c.n_files++;
        }
        closedir(d);
        *ret = c;
        return 0;
}

bool
nvh_compat_gpu_supported(const struct nvh_gpu *gpu)
{
        static const char *const client[] = {"GeForce", "Quadro", "TITAN", "RTX"};

        for (size_t i = 0; i < ARRAY_SIZE(client); i++)
                if (strstr(gpu->model, client[i]))
                        return false;
        return true;
}

int
nvh_compat_plan(struct nvh_plan *plan, const struct nvh_compat *c, const struct nvh_gpu **gpus,
                size_t n_gpus, const char *driver_version, struct nvh_err *err)
{
        int n = 0;

        if (!c->version[0] || n_gpus == 0)
                return 0;
        for (size_t i = 0; i < n_gpus; i++)
                if (!nvh_compat_gpu_supported(gpus[i]))
                        return 0;
        for (size_t i = 0; i < c->n_files; i++) {
                const char *f = c->files[i], *key = f;
                char value[256], why[96];
                int r;

                for (size_t k = 0; k < ARRAY_SIZE(sonames); k++) {
                        size_t len = strlen(sonames[k].stem);
                        if (strncmp(f, sonames[k].stem, len) == 0 && f[len] == '.')
                                key = sonames[k].soname;
                }
                snprintf(value, sizeof(value), "%s/%s", NVH_COMPAT_DIR, f);
                snprintf(why, sizeof(why), "cuda forward compat: image's %s > driver %s",
                         c->version, driver_version);
                r = nvh_plan_add_ldcache(plan, key, value, 64, why, err);
                if (r < 0)
                        return r;
                n++;
        }
        return n;
}

void
nvh_compat_free(struct nvh_compat *c)
{
        if (!c)
                return;
        strv_free(c->files);
        c->files = NULL;
        c->n_files = 0;
        c->version[0] = '\0';
}
