/* SPDX-License-Identifier: Apache-2.0 */
/* Host GPU discovery from procfs. Formats follow the open kernel modules' nv-procfs.c and
 * nv-caps.c; every file is treated as hostile (bounded reads, strict numbers, printable text). */
#include "gpus.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "gpus_internal.h"
#include "macros.h"
#include "pci.h"

#define DEVICES_MAX (256 * 1024) /* /proc/devices */

#define REL_VERSION "driver/nvidia/version"
#define REL_GPUS "driver/nvidia/gpus"
#define REL_PARAMS "driver/nvidia/params"
#define PARAMS_MAX (64 * 1024)

int
nvh_gpus_bad(struct nvh_gpus_ctx *c, const char *rel, const char *fmt, ...)
{
        char detail[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        return nvh_err_set(c->err, -EBADMSG, "bad '%s/%s': %s", c->proc, rel, detail);
}

int
nvh_gpus_read_small(struct nvh_gpus_ctx *c, int dir_fd, const char *rel, const char *what_rel,
                    char *buf, size_t size, bool quiet_enoent)
{
        _cleanup_close_ int fd = -1;
        size_t len = 0;

        fd = openat(dir_fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT && quiet_enoent)
                        return -ENOENT;
                return nvh_err_errno(c->err, "open '%s/%s'", c->proc, what_rel);
        }
        for (;;) {
                ssize_t n = read(fd, buf + len, size - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return nvh_err_errno(c->err, "read '%s/%s'", c->proc, what_rel);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len >= size - 1)
                        return nvh_err_set(c->err, -E2BIG, "read '%s/%s': larger than %zu bytes",
                                           c->proc, what_rel, size - 2);
                /* A short read is the end: procfs seq files hand out the whole record when it
                 * fits, regular files are short only at EOF. Saves a syscall per file, which
                 * is a third of the cost with 64 GPUs (systemd's read_virtual_file does the
                 * same). */
                break;
        }
        buf[len] = '\0';
        if (memchr(buf, '\0', len))
                return nvh_gpus_bad(c, what_rel, "contains a NUL byte");
        return (int)len;
}

bool
nvh_gpus_next_line(char **cursor, char **line)
{
        char *p = *cursor, *nl;

        if (!p || !*p)
                return false;
        nl = strchr(p, '\n');
        if (nl) {
                *nl = '\0';
                *cursor = nl + 1;
        } else {
                *cursor = p + strlen(p);
        }
        *line = p;
        return true;
}

char *
nvh_gpus_trim(char *s)
{
        size_t n;

        while (*s == ' ' || *s == '\t')
                s++;
        n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

static bool
is_printable(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
                        return false;
        return true;
}

bool
nvh_gpus_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        unsigned long v = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                if (v > (max - (unsigned long)(*s - '0')) / 10)
                        return false;
                v = v * 10 + (unsigned long)(*s - '0');
        }
        *ret = v;
        return true;
}

/* "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (...)"
 * or "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun  6 ... 2023";
 * the version is the first token made of digits and dots that holds a dot. */
static int
parse_version(struct nvh_gpus_ctx *c, char *buf, struct nvh_system *sys)
{
        static const char prefix[] = "NVRM version:";
        char *cursor = buf, *line, *tok, *save = NULL;

        if (!nvh_gpus_next_line(&cursor, &line) || strncmp(line, prefix, sizeof(prefix) - 1) != 0)
                return nvh_gpus_bad(c, REL_VERSION, "first line does not start with '%s'", prefix);
        if (!is_printable(line))
                return nvh_gpus_bad(c, REL_VERSION, "unprintable bytes in the version line");
        sys->open_module = strstr(line, "Open Kernel Module") != NULL;
        for (tok = strtok_r(line + sizeof(prefix) - 1, " \t", &save); tok;
             tok = strtok_r(NULL, " \t", &save)) {
                size_t n = strspn(tok, "0123456789.");
                if (n == strlen(tok) && tok[0] != '.' && strchr(tok, '.') && tok[n - 1] != '.' &&
                    !strstr(tok, ".."))
                        break;
        }
        if (!tok)
                return nvh_gpus_bad(c, REL_VERSION, "no driver version in the 'NVRM version' line");
        if (strlen(tok) >= sizeof(sys->driver_version))
                return nvh_gpus_bad(c, REL_VERSION, "driver version '%.32s...' too long", tok);
        strcpy(sys->driver_version, tok);

        while (nvh_gpus_next_line(&cursor, &line)) {
                static const char gcc[] = "GCC version:";
                if (strncmp(line, gcc, sizeof(gcc) - 1) != 0)
                        continue;
                char *v = nvh_gpus_trim(line + sizeof(gcc) - 1);
                if (!is_printable(v) || strlen(v) >= sizeof(sys->gcc_version))
                        return nvh_gpus_bad(c, REL_VERSION, "bad 'GCC version' line");
                strcpy(sys->gcc_version, v);
                break;
        }
        return 0;
}

static int
set_major(struct nvh_gpus_ctx *c, int *field, unsigned long major, const char *name)
{
        if (*field >= 0 && *field != (int)major)
                return nvh_gpus_bad(c, "devices", "two majors for '%s' (%d and %lu)", name, *field,
                                    major);
        *field = (int)major;
        return 0;
}

/* The "Character devices:" section: lines "%3d %s". */
static int
parse_devices(struct nvh_gpus_ctx *c, char *buf, struct nvh_majors *m)
{
        char *cursor = buf, *line;
        bool in_char = false, seen_char = false;
        int r;

        while (nvh_gpus_next_line(&cursor, &line)) {
                if (streq(line, "Character devices:")) {
                        in_char = seen_char = true;
                        continue;
                }
                if (!in_char)
                        continue;
                if (line[0] == '\0' || streq(line, "Block devices:"))
                        break;

                char *p = line, *sp;
                unsigned long major;
                while (*p == ' ')
                        p++;
                sp = strchr(p, ' ');
                if (!sp)
                        return nvh_gpus_bad(c, "devices", "malformed line '%.64s'", line);
                *sp = '\0';
                if (!nvh_gpus_parse_uint(p, NVH_GPUS_MAX_MAJOR, &major))
                        return nvh_gpus_bad(c, "devices", "bad major '%.16s'", p);
                const char *name = sp + 1;
                if (streq(name, "nvidia") || streq(name, "nvidia-frontend"))
                        r = set_major(c, &m->nvidia, major, name);
                else if (streq(name, "nvidia-uvm"))
                        r = set_major(c, &m->nvidia_uvm, major, name);
                else if (streq(name, "nvidia-caps"))
                        r = set_major(c, &m->nvidia_caps, major, name);
                else if (streq(name, "nvidia-caps-imex-channels"))
                        r = set_major(c, &m->nvidia_caps_imex, major, name);
                else if (streq(name, "nvidia-nvswitch"))
                        r = set_major(c, &m->nvidia_nvswitch, major, name);
                else if (streq(name, "nvidia-nvlink"))
                        r = set_major(c, &m->nvidia_nvlink, major, name);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        if (!seen_char)
                return nvh_gpus_bad(c, "devices", "no 'Character devices:' section");
        return 0;
}

static int
copy_field(struct nvh_gpus_ctx *c, const char *rel, const char *key, const char *v, char *dst,
           size_t size)
{
        if (!is_printable(v))
                return nvh_gpus_bad(c, rel, "unprintable bytes in '%s'", key);
        if (strlen(v) >= size)
                return nvh_gpus_bad(c, rel, "'%s' longer than %zu bytes", key, size - 1);
        strcpy(dst, v);
        return 0;
}

/* gpus/<bus>/information: "Key: \t value" lines (nv-procfs.c nv_procfs_read_gpu_info). */
static int
parse_information(struct nvh_gpus_ctx *c, const char *rel, char *buf, struct nvh_gpu *gpu,
                  uint64_t *ret_key, bool *ret_excluded)
{
        char *cursor = buf, *line;
        bool have_minor = false, have_bus = false, have_model = false, have_uuid = false;
        int r;

        *ret_excluded = false;
        while (nvh_gpus_next_line(&cursor, &line)) {
                char *colon, *key, *v;

                if (nvh_gpus_trim(line)[0] == '\0')
                        continue;
                colon = strchr(line, ':');
                if (!colon)
                        return nvh_gpus_bad(c, rel, "line without ':'");
                *colon = '\0';
                key = nvh_gpus_trim(line);
                v = nvh_gpus_trim(colon + 1);

                if (streq(key, "Device Minor")) {
                        unsigned long minor;
                        if (have_minor)
                                return nvh_gpus_bad(c, rel, "two 'Device Minor' lines");
                        if (!nvh_gpus_parse_uint(v, NVH_GPUS_MAX_MINOR, &minor) ||
                            minor == NVH_GPUS_MINOR_CTL || minor == NVH_GPUS_MINOR_MODESET)
                                return nvh_gpus_bad(c, rel, "bad 'Device Minor' '%.16s'", v);
                        gpu->minor = (unsigned)minor;
                        have_minor = true;
                } else if (streq(key, "Bus Location")) {
                        if (have_bus)
                                return nvh_gpus_bad(c, rel, "two 'Bus Location' lines");
                        if (nvh_pci_parse(v, strlen(v), ret_key) < 0)
                                return nvh_gpus_bad(c, rel, "bad 'Bus Location' '%.32s'", v);
                        have_bus = true;
                } else if (streq(key, "Model")) {
                        if (have_model)
                                return nvh_gpus_bad(c, rel, "two 'Model' lines");
                        r = copy_field(c, rel, key, v, gpu->model, sizeof(gpu->model));
                        if (r < 0)
                                return r;
                        have_model = true;
                } else if (streq(key, "GPU UUID")) {
                        if (have_uuid)
                                return nvh_gpus_bad(c, rel, "two 'GPU UUID' lines");
                        have_uuid = true;
                        /* An uninitialized GPU shows "GPU-????????-...": unknown, not bad. */
                        if (strchr(v, '?'))
                                continue;
                        if (strspn(v, "0123456789abcdefABCDEF-GPU") != strlen(v) ||
                            strncmp(v, "GPU-", 4) != 0 || strlen(v) <= 4)
                                return nvh_gpus_bad(c, rel, "bad 'GPU UUID' '%.48s'", v);
                        r = copy_field(c, rel, key, v, gpu->uuid, sizeof(gpu->uuid));
                        if (r < 0)
                                return r;
                } else if (streq(key, "GPU Firmware")) {
                        r = copy_field(c, rel, key, v, gpu->firmware, sizeof(gpu->firmware));
                        if (r < 0)
                                return r;
                } else if (streq(key, "Video BIOS")) {
                        r = copy_field(c, rel, key, v, gpu->vbios, sizeof(gpu->vbios));
                        if (r < 0)
                                return r;
                } else if (streq(key, "GPU Excluded") || streq(key, "Blacklisted")) {
                        if (streq(v, "Yes"))
                                *ret_excluded = true;
                        else if (!streq(v, "No"))
                                return nvh_gpus_bad(c, rel, "bad '%s' '%.8s'", key, v);
                }
                /* IRQ, Bus Type, DMA Size, DMA Mask, BARn (debug builds): not needed. */
        }
        if (!have_minor)
                return nvh_gpus_bad(c, rel, "no 'Device Minor' line");
        if (!have_bus)
                return nvh_gpus_bad(c, rel, "no 'Bus Location' line");
        if (!have_model)
                return nvh_gpus_bad(c, rel, "no 'Model' line");
        return 0;
}

/* Normalized bus ids sort as their PCI addresses: every part is fixed width except the domain,
 * which is 4 hex digits or, above 0xffff, longer without leading zeros. */
static int
cmp_gpu(const void *a, const void *b)
{
        const struct nvh_gpu *x = a, *y = b;
        size_t lx = strlen(x->bus_id), ly = strlen(y->bus_id);

        if (lx != ly)
                return lx < ly ? -1 : 1;
        return strcmp(x->bus_id, y->bus_id);
}

/* The GPU directories, sorted by PCI address: names only, no information file read. */
static int
list_gpus(struct nvh_gpus_ctx *c, struct nvh_system *sys)
{
        struct nvh_gpus_dir_iter it = {.fd = -1};
        size_t cap = 0;
        const char *name;
        unsigned char type;
        int r;

        sys->gpus_fd =
            openat(c->proc_fd, REL_GPUS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sys->gpus_fd < 0) {
                if (errno == ENOENT)
                        return 0; /* driver loaded, no GPU bound */
                return nvh_err_errno(c->err, "open '%s/%s'", c->proc, REL_GPUS);
        }
        it.fd = sys->gpus_fd;
        while ((r = nvh_gpus_mig_dir_next(&it, &name, &type)) > 0) {
                struct nvh_gpu *g;
                uint64_t key;

                if (strlen(name) >= sizeof(g->proc_name) ||
                    nvh_pci_parse(name, strlen(name), &key) < 0) {
                        char rel[128];
                        snprintf(rel, sizeof(rel), REL_GPUS "/%.64s", name);
                        return nvh_gpus_bad(c, rel, "not a pci bus id");
                }
                if (sys->n_gpus == NVH_GPUS_MAX)
                        return nvh_err_set(c->err, -E2BIG, "more than %d gpus in '%s/%s'",
                                           NVH_GPUS_MAX, c->proc, REL_GPUS);
                if (sys->n_gpus == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        struct nvh_gpu *n = realloc(sys->gpus, ncap * sizeof(*n));
                        if (!n)
                                return nvh_err_set(c->err, -ENOMEM, "out of memory");
                        sys->gpus = n;
                        cap = ncap;
                }
                g = &sys->gpus[sys->n_gpus++];
                memset(g, 0, sizeof(*g));
                strcpy(g->proc_name, name);
                nvh_pci_format(key, g->bus_id, sizeof(g->bus_id));
        }
        if (r < 0)
                return nvh_err_sys(c->err, r, "read directory '%s/%s'", c->proc, REL_GPUS);
        if (sys->n_gpus > 0)
                qsort(sys->gpus, sys->n_gpus, sizeof(*sys->gpus), cmp_gpu);
        for (size_t i = 0; i < sys->n_gpus; i++) {
                if (i > 0 && streq(sys->gpus[i - 1].bus_id, sys->gpus[i].bus_id))
                        return nvh_gpus_bad(c, REL_GPUS, "'%s' and '%s' are one pci address",
                                            sys->gpus[i - 1].proc_name, sys->gpus[i].proc_name);
                sys->gpus[i].index = (unsigned)i;
        }
        return 0;
}

/* For load_gpu, after parsing into *g_: the information file's bus matches the directory,
 * minor and uuid are unique, MIG devices scanned (an excluded GPU has none). */
static int
check_loaded(struct nvh_gpus_ctx *c, const struct nvh_system *sys, const struct nvh_gpu *gpu,
             struct nvh_gpu *g_, uint64_t key, const char *rel, bool *ret_excluded)
{
        struct nvh_gpu g = *g_;
        uint64_t dir_key;
        int r;

        (void)nvh_pci_parse(gpu->bus_id, strlen(gpu->bus_id), &dir_key);
        if (key != dir_key)
                return nvh_gpus_bad(c, rel, "'Bus Location' does not match the directory name");
        for (size_t j = 0; j < sys->n_gpus; j++) {
                const struct nvh_gpu *o = &sys->gpus[j];
                if (o == gpu || !o->loaded)
                        continue;
                if (o->minor == g.minor)
                        return nvh_err_set(c->err, -EBADMSG,
                                           "bad '%s/%s': gpus '%s' and '%s' share minor %u",
                                           c->proc, REL_GPUS, o->proc_name, g.proc_name, g.minor);
                if (g.uuid[0] && strcasecmp(o->uuid, g.uuid) == 0)
                        return nvh_err_set(c->err, -EBADMSG,
                                           "bad '%s/%s': gpus '%s' and '%s' share uuid '%s'",
                                           c->proc, REL_GPUS, o->proc_name, g.proc_name, g.uuid);
        }
        if (!*ret_excluded) {
                r = nvh_gpus_mig_scan(c, sys->caps_fd, &g);
                if (r < 0) {
                        free(g.migs);
                        return r;
                }
        }
        *g_ = g;
        return 0;
}

/* Read one GPU's information file and MIG capabilities. */
static int
load_gpu(struct nvh_system *sys, struct nvh_gpu *gpu, bool *ret_excluded, struct nvh_err *err)
{
        struct nvh_gpus_ctx c = {.proc = sys->host_proc, .proc_fd = sys->proc_fd, .err = err};
        char rel[128], rel_info[64], buf[SMALL_FILE_MAX];
        struct nvh_gpu g = *gpu;
        uint64_t key;
        int r;

        snprintf(rel_info, sizeof(rel_info), "%s/information", gpu->proc_name);
        snprintf(rel, sizeof(rel), REL_GPUS "/%s", rel_info);
        r = nvh_gpus_read_small(&c, sys->gpus_fd, rel_info, rel, buf, sizeof(buf), false);
        if (r < 0)
                return r;
        g.info = strdup(buf); /* parse_information cuts buf into lines */
        if (!g.info)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        r = parse_information(&c, rel, buf, &g, &key, ret_excluded);
        if (r >= 0)
                r = check_loaded(&c, sys, gpu, &g, key, rel, ret_excluded);
        if (r < 0 || *ret_excluded) {
                free(g.info);
                g.info = NULL;
        }
        if (r < 0)
                return r;
        g.loaded = true;
        *gpu = g;
        return 0;
}

int
nvh_gpus_load(struct nvh_system *sys, size_t i, struct nvh_err *err)
{
        bool excluded;
        int r;

        if (i >= sys->n_gpus)
                return nvh_err_set(err, -ENOENT, "no gpu with index %zu (%zu gpus)", i,
                                   sys->n_gpus);
        if (sys->gpus[i].loaded)
                return 0;
        r = load_gpu(sys, &sys->gpus[i], &excluded, err);
        if (r < 0)
                return r;
        /* Only nvh_gpus_open leaves GPUs unloaded, and only when the driver's parameters
         * exclude none: an excluded GPU now means the index computed without it is wrong. */
        if (excluded)
                return nvh_err_set(err, -EBADMSG,
                                   "bad '%s/" REL_GPUS "/%s/information': gpu excluded by the "
                                   "driver, but 'driver/nvidia/params' excludes none",
                                   sys->host_proc, sys->gpus[i].proc_name);
        return 0;
}

int
nvh_gpus_load_all(struct nvh_system *sys, struct nvh_err *err)
{
        size_t n = 0;
        int r;

        for (size_t i = 0; i < sys->n_gpus; i++) {
                bool excluded = false;

                if (!sys->gpus[i].loaded) {
                        r = load_gpu(sys, &sys->gpus[i], &excluded, err);
                        if (r < 0)
                                return r;
                }
                if (excluded) {
                        sys->n_excluded++;
                        continue;
                }
                if (n != i)
                        sys->gpus[n] = sys->gpus[i];
                sys->gpus[n].index = (unsigned)n;
                n++;
        }
        sys->n_gpus = n;
        return 0;
}

/* Whether the driver's parameters exclude no GPU ("ExcludedGpus: \"\"", and the older
 * "GpuBlacklist: \"\"" empty or absent). False when the file is missing or unclear. */
static bool
excludes_none(const char *params)
{
        _cleanup_free_ char *buf = strdup(params);
        char *cursor = buf, *line;
        bool excluded_empty = false, blacklist_set = false;

        if (!buf)
                return false;
        while (nvh_gpus_next_line(&cursor, &line)) {
                if (strncmp(line, "ExcludedGpus:", 13) == 0)
                        excluded_empty = streq(nvh_gpus_trim(line + 13), "\"\"");
                else if (strncmp(line, "GpuBlacklist:", 13) == 0)
                        blacklist_set = !streq(nvh_gpus_trim(line + 13), "\"\"");
        }
        return excluded_empty && !blacklist_set;
}

/* driver/nvidia/params, kept whole for the plan (the container gets a copy); "" when the
 * file is missing. ret_ok: whether it could be read. */
static int
read_params(struct nvh_gpus_ctx *c, struct nvh_system *sys, bool *ret_ok)
{
        char buf[PARAMS_MAX];
        int r;

        r = nvh_gpus_read_small(c, c->proc_fd, REL_PARAMS, REL_PARAMS, buf, sizeof(buf), true);
        *ret_ok = r >= 0;
        if (r < 0 && r != -ENOENT)
                return r;
        sys->params = strdup(r >= 0 ? buf : "");
        if (!sys->params)
                return nvh_err_set(c->err, -ENOMEM, "out of memory");
        return 0;
}

static int
open_system(const char *host_proc, bool lazy, struct nvh_system **ret_sys, struct nvh_err *err)
{
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_free_ char *devices = NULL;
        char buf[SMALL_FILE_MAX];
        struct nvh_gpus_ctx c = {.err = err};
        struct nvh_err ierr = {};
        int r;

        if (!host_proc)
                host_proc = "/proc";
        sys = calloc(1, sizeof(*sys));
        if (!sys)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        sys->proc_fd = sys->caps_fd = sys->gpus_fd = -1;
        sys->majors = (struct nvh_majors){-1, -1, -1, -1, -1, -1};
        sys->host_proc = strdup(host_proc);
        if (!sys->host_proc)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        c.proc = sys->host_proc;
        sys->proc_fd = open(host_proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sys->proc_fd < 0) {
                return nvh_err_errno(err, "open '%s'", host_proc);
        }
        c.proc_fd = sys->proc_fd;

        r = nvh_gpus_read_small(&c, sys->proc_fd, REL_VERSION, REL_VERSION, buf, sizeof(buf), true);
        if (r == -ENOENT)
                return nvh_err_set(err, -ENOENT, "no NVIDIA driver loaded ('%s/%s' missing)",
                                   host_proc, REL_VERSION);
        if (r < 0)
                return r;
        r = parse_version(&c, buf, sys);
        if (r < 0)
                return r;

        r = nvh_fileio_read_at(sys->proc_fd, "devices", DEVICES_MAX, 1, &devices, NULL, &ierr);
        if (r < 0)
                return r == -E2BIG
                           ? nvh_err_set(err, r, "read '%s/devices': file too large", host_proc)
                           : nvh_err_sys(err, r, "read '%s/devices'", host_proc);
        r = parse_devices(&c, devices, &sys->majors);
        if (r < 0)
                return r;

        r = nvh_gpus_mig_read_cap(&c, sys->proc_fd, REL_CAPS "/mig/config", REL_CAPS "/mig/config",
                                  &sys->mig_config);
        if (r < 0)
                return r;
        r = nvh_gpus_mig_read_cap(&c, sys->proc_fd, REL_CAPS "/mig/monitor",
                                  REL_CAPS "/mig/monitor", &sys->mig_monitor);
        if (r < 0)
                return r;
        r = nvh_gpus_mig_read_cap(&c, sys->proc_fd, REL_CAPS "/fabric-imex-mgmt",
                                  REL_CAPS "/fabric-imex-mgmt", &sys->imex_mgmt);
        if (r < 0)
                return r;
        sys->caps_fd =
            openat(sys->proc_fd, REL_CAPS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sys->caps_fd < 0 && errno != ENOENT) {
                return nvh_err_errno(err, "open '%s/%s'", host_proc, REL_CAPS);
        }

        r = list_gpus(&c, sys);
        if (r < 0)
                return r;
        {
                bool params_ok = false;
                struct nvh_err perr = {0};

                /* Only the lazy index depends on it: without it, everything is loaded. */
                c.err = lazy ? err : &perr;
                r = read_params(&c, sys, &params_ok);
                c.err = err;
                if (r < 0 && (lazy || r == -ENOMEM))
                        return r;
                if (!sys->params && !(sys->params = strdup("")))
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                lazy = lazy && params_ok && excludes_none(sys->params);
        }
        if (!lazy) {
                r = nvh_gpus_load_all(sys, err);
                if (r < 0)
                        return r;
        }

        *ret_sys = TAKE_PTR(sys);
        return 0;
}

int
nvh_gpus_discover(const char *host_proc, struct nvh_system **ret_sys, struct nvh_err *err)
{
        return open_system(host_proc, false, ret_sys, err);
}

int
nvh_gpus_open(const char *host_proc, struct nvh_system **ret_sys, struct nvh_err *err)
{
        return open_system(host_proc, true, ret_sys, err);
}

void
nvh_gpus_free(struct nvh_system *sys)
{
        if (!sys)
                return;
        for (size_t i = 0; i < sys->n_gpus; i++) {
                free(sys->gpus[i].migs);
                free(sys->gpus[i].info);
        }
        free(sys->gpus);
        if (sys->proc_fd >= 0)
                close(sys->proc_fd);
        if (sys->caps_fd >= 0)
                close(sys->caps_fd);
        if (sys->gpus_fd >= 0)
                close(sys->gpus_fd);
        free(sys->host_proc);
        free(sys->params);
        free(sys);
}
