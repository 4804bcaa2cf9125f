/* SPDX-License-Identifier: Apache-2.0 */
#include "cdi.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macros.h"

bool
nvh_cdi_is_nvhook(const char *hook_path)
{
        const char *base;

        if (!hook_path)
                return false;
        base = strrchr(hook_path, '/');
        return streq(base ? base + 1 : hook_path, "nvhook");
}

bool
nvh_cdi_name_ok(const char *name)
{
        if (!name || !name[0] ||
            !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
                        return false;
        return true;
}

static int
push_unique(char ***v, size_t *n, const char *s)
{
        char **nv;

        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], s))
                        return 0;
        nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

int
nvh_cdi_hook_devices(const char *buf, size_t len, char ***ret, struct nvh_err *err)
{
        static const char *const stages[] = {"prestart", "createRuntime"};
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        json_t *hooks = json_object_get(root, "hooks");
        size_t n = 0;
        int r = 0;

        if (!v) {
                json_decref(root);
                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        for (size_t s = 0; s < ARRAY_SIZE(stages) && json_is_object(hooks); s++) {
                json_t *list = json_object_get(hooks, stages[s]), *h;
                size_t i;

                json_array_foreach(list, i, h)
                {
                        json_t *args = json_object_get(h, "args");
                        size_t na = json_array_size(args);

                        if (!nvh_cdi_is_nvhook(json_string_value(json_object_get(h, "path"))))
                                continue;
                        for (size_t a = 0; a + 1 < na && r == 0; a++) {
                                const char *k = json_string_value(json_array_get(args, a));
                                const char *t = json_string_value(json_array_get(args, a + 1));

                                if (k && t && streq(k, NVH_CDI_ARG))
                                        r = push_unique(&v, &n, t);
                        }
                }
        }
        json_decref(root);
        if (r < 0)
                return nvh_err_set(err, r, "out of memory");
        *ret = TAKE_PTR(v);
        return 0;
}

int
nvh_cdi_replace_file(const char *path, const char *buf, size_t len, unsigned mode,
                     struct nvh_err *err)
{
        _cleanup_free_ char *tmp = NULL;
        int fd, r;

        if (asprintf(&tmp, "%s.nvhook-XXXXXX", path) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return nvh_err_errno(err, "create a temporary file next to '%s'", path);
        r = fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
        if (r == 0)
                r = nvh_fileio_write_all(fd, buf, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return nvh_err_sys(err, r, "write '%s'", path);
        }
        return 0;
}
