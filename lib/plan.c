/* SPDX-License-Identifier: Apache-2.0 */
#include "plan.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caps.h"
#include "driver.h"
#include "fileio.h"
#include "gpus.h"
#include "host.h"
#include "ldcache.h"
#include "macros.h"
#include "request.h"
#include "select.h"

#define PLAN_MAX_OPS 65536

/* Control nodes a GPU container gets whatever GPUs it selected. */
#define NVIDIA_CTL_MINOR 255
#define NVIDIA_MODESET_MINOR 254

static struct nvh_op *plan_add(struct nvh_plan *plan, enum nvh_op_kind kind, const char *why_fmt,
                               ...) __attribute__((format(printf, 3, 4)));

static struct nvh_op *
plan_add(struct nvh_plan *plan, enum nvh_op_kind kind, const char *why_fmt, ...)
{
        struct nvh_op *op;
        va_list ap;

        if (plan->n_ops == plan->cap_ops) {
                size_t ncap = plan->cap_ops ? plan->cap_ops * 2 : 64;
                struct nvh_op *nops;

                if (ncap > PLAN_MAX_OPS)
                        return NULL;
                nops = realloc(plan->ops, ncap * sizeof(*nops));
                if (!nops)
                        return NULL;
                plan->ops = nops;
                plan->cap_ops = ncap;
        }
        op = &plan->ops[plan->n_ops++];
        memset(op, 0, sizeof(*op));
        op->kind = kind;
        va_start(ap, why_fmt);
        vsnprintf(op->why, sizeof(op->why), why_fmt, ap);
        va_end(ap);
        return op;
}

static int
set_str(char **dst, const char *src)
{
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

static int
add_bind(struct nvh_plan *plan, const char *host_path, const char *ctr_path, unsigned flags,
         const char *why, struct nvh_err *err)
{
        struct nvh_op *op = plan_add(plan, NVH_OP_BIND, "%s", why);

        if (!op || set_str(&op->host_path, host_path) < 0 || set_str(&op->ctr_path, ctr_path) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op->flags = flags;
        return 0;
}

static int
add_symlink(struct nvh_plan *plan, const char *ctr_path, const char *target, const char *why,
            struct nvh_err *err)
{
        struct nvh_op *op = plan_add(plan, NVH_OP_SYMLINK, "%s", why);

        if (!op || set_str(&op->ctr_path, ctr_path) < 0 || set_str(&op->target, target) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        return 0;
}

static int
add_ldcache(struct nvh_plan *plan, const char *key, const char *ctr_path, int elf_class,
            struct nvh_err *err)
{
        struct nvh_op *op = plan_add(plan, NVH_OP_LDCACHE, "linker cache entry");

        if (!op || set_str(&op->ctr_path, ctr_path) < 0 || set_str(&op->target, key) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op->elf_class = elf_class;
        return 0;
}

/* A device node the container gets: it must exist on the host with the expected numbers,
 * so that we never grant a device the host does not have. Missing optional nodes are
 * skipped. */
static bool
has_op(const struct nvh_plan *plan, enum nvh_op_kind kind, const char *ctr_path)
{
        for (size_t i = 0; i < plan->n_ops; i++)
                if (plan->ops[i].kind == kind && plan->ops[i].ctr_path &&
                    streq(plan->ops[i].ctr_path, ctr_path))
                        return true;
        return false;
}

/* The node (host_path NULL: none on the host) and its cgroup rule. */
static int
add_node_ops(struct nvh_plan *plan, const char *name, const char *host_path, const char *ctr_path,
             unsigned major, unsigned minor, mode_t mode, const char *why, struct nvh_err *err)
{
        struct nvh_op *op = plan_add(plan, NVH_OP_MKNOD, "%s", why);

        if (!op || set_str(&op->host_path, host_path) < 0 || set_str(&op->ctr_path, ctr_path) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op->major = major;
        op->minor = minor;
        op->mode = mode & 0777;
        plan->n_nodes++;

        op = plan_add(plan, NVH_OP_CGROUP_ALLOW, "device %s", name);
        if (!op || set_str(&op->ctr_path, ctr_path) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op->major = major;
        op->minor = minor;
        return 0;
}

/* An optional node the driver reports (its major is in /proc/devices) but nobody made on the
 * host (nvidia-modprobe did not run): the container gets it anyway, mode 0666, as the driver's
 * own nodes are; CUDA would otherwise fail later, far from the cause. */
static int
add_missing_node(struct nvh_plan *plan, const char *name, const char *ctr_path, unsigned major,
                 unsigned minor, const char *why, struct nvh_err *err)
{
        char buf[sizeof(((struct nvh_op *)0)->why)];

        snprintf(buf, sizeof(buf), "%s (no host node)", why);
        return add_node_ops(plan, name, NULL, ctr_path, major, minor, 0666, buf, err);
}

/* mode < 0: the host node's permission bits. A node already in the plan is not added again
 * (MIG devices of one GPU instance share its access capability). */
static int
add_node_mode(struct nvh_plan *plan, const struct nvh_host *host, const char *name, unsigned major,
              unsigned minor, bool required, int mode, const char *why, struct nvh_err *err)
{
        _cleanup_free_ char *host_path = nvh_fileio_path_join(host->host_dev, name);
        _cleanup_free_ char *ctr_path = nvh_fileio_path_join("/dev", name);
        const struct nvh_host_node *node = nvh_host_find(host, name);

        if (!host_path || !ctr_path)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        if (has_op(plan, NVH_OP_MKNOD, ctr_path))
                return 0;
        if (!node && !required)
                return 0;
        if (!node || node->error < 0)
                return nvh_err_sys(err, node ? node->error : -ENOENT, "device node '%s'",
                                   host_path);
        if (!S_ISCHR(node->mode) || node->major != major || node->minor != minor)
                return nvh_err_set(err, -EINVAL,
                                   "device node '%s' is not the char device %u:%u the driver "
                                   "reports",
                                   host_path, major, minor);
        return add_node_ops(plan, name, host_path, ctr_path, major, minor,
                            mode < 0 ? node->mode : (mode_t)mode, why, err);
}

static int
add_node(struct nvh_plan *plan, const struct nvh_host *host, const char *name, unsigned major,
         unsigned minor, bool required, const char *why, struct nvh_err *err)
{
        return add_node_mode(plan, host, name, major, minor, required, -1, why, err);
}

/* An optional control node: skipped when the host has none, or made (create_missing_nodes). */
static int
add_optional_node(struct nvh_plan *plan, const struct nvh_plan_input *in, const char *name,
                  unsigned major, unsigned minor, const char *why, struct nvh_err *err)
{
        _cleanup_free_ char *ctr_path = nvh_fileio_path_join("/dev", name);
        const struct nvh_host_node *node = nvh_host_find(in->host, name);

        if (!ctr_path)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        if (in->create_missing_nodes && !has_op(plan, NVH_OP_MKNOD, ctr_path) &&
            (!node || node->error == -ENOENT))
                return add_missing_node(plan, name, ctr_path, major, minor, why, err);
        return add_node(plan, in->host, name, major, minor, false, why, err);
}

/* /dev/nvidia-caps/nvidia-cap<minor>, mode as the driver gives it (DeviceFileMode), else
 * 0444 (what the driver uses for access capabilities). */
static int
add_cap_node(struct nvh_plan *plan, const struct nvh_system *sys, const struct nvh_host *host,
             const struct nvh_capdev *cap, const char *what, struct nvh_err *err)
{
        char name[64];

        if (cap->minor < 0)
                return nvh_err_set(err, -ENOENT, "no %s capability", what);
        if (sys->majors.nvidia_caps < 0)
                return nvh_err_set(err, -ENOENT, "%s: no 'nvidia-caps' major in devices", what);
        snprintf(name, sizeof(name), "nvidia-caps/nvidia-cap%d", cap->minor);
        return add_node_mode(plan, host, name, (unsigned)sys->majors.nvidia_caps,
                             (unsigned)cap->minor, true, cap->mode >= 0 ? cap->mode : 0444, what,
                             err);
}

static const char *
base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* The development link name for a soname that has one ("libcuda.so.1" -> "libcuda.so"). */
static const char *const dev_links[] = {
    "libcuda.so.1",               /* CUDA programs link with -lcuda */
    "libnvidia-opticalflow.so.1", /* Optical Flow SDK links with -lnvidia-opticalflow */
    "libnvidia-encode.so.1",      /* NVENC SDK samples link with -lnvidia-encode */
    "libnvcuvid.so.1",            /* Video Codec SDK links with -lnvcuvid */
    "libnvidia-ml.so.1",          /* NVML users link with -lnvidia-ml */
};

/* A link the image gets, in a directory its loader or linker searches by name, pointing into
 * the driver directory. The image's own file of that name, if it has one, stays. */
static int
add_image_link(struct nvh_plan *plan, const char *dir, const char *name, const char *target,
               const char *why, struct nvh_err *err)
{
        _cleanup_free_ char *link = nvh_fileio_path_join(dir, name);
        int r;

        if (!link)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        r = add_symlink(plan, link, target, why, err);
        if (r >= 0)
                plan->ops[plan->n_ops - 1].flags = NVH_OPF_KEEP_IMAGE_FILE;
        return r;
}

/* A library goes into the driver directory's tmpfs (NVH_PLAN_LIB_DIR or NVH_PLAN_LIB32_DIR)
 * with its soname link next to it, and the linker cache maps the soname there: that is how a
 * glibc loader finds it (dlopen("libcuda.so.1"), DT_NEEDED), and the conf file
 * (NVH_PLAN_LDCONF) keeps it there when the container runs ldconfig itself. The image's own
 * library directory (the one its loader searches by default) gets only links, and only where
 * the image has a libc: the development names that GNU ld's -l searches for, and, for musl
 * (whose loader reads no glibc cache), the soname. An image without any libc has no loader
 * and no linker: the cache is what a glibc loader brought in later reads. */
static int
plan_library(struct nvh_plan *plan, const struct nvh_driver_file *f, struct nvh_err *err)
{
        bool is32 = f->elf_class == 32;
        const char *libdir = is32 ? plan->layout.libdir32 : plan->layout.libdir;
        const char *dir = is32 ? NVH_PLAN_LIB32_DIR : NVH_PLAN_LIB_DIR;
        _cleanup_free_ char *ctr_path = NULL, *lookup = NULL;
        const char *file = base_name(f->host_path);
        const char *key = f->soname ? f->soname : file;
        bool has_libc = plan->layout.glibc || plan->layout.musl;
        int r;

        if (!libdir[0])
                return 0; /* no 32-bit directory in this image: nothing could load it */
        ctr_path = nvh_fileio_path_join(dir, file);
        lookup = nvh_fileio_path_join(dir, key);
        if (!ctr_path || !lookup)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        r = add_bind(plan, f->host_path, ctr_path, NVH_OPF_RDONLY | NVH_OPF_NOSUID | NVH_OPF_NODEV,
                     f->why, err);
        if (r < 0)
                return r;
        plan->n_libs++;
        plan->n_libs32 += is32;
        if (!streq(key, file))
                r = add_symlink(plan, lookup, file, "soname link", err);
        if (r >= 0)
                r = add_ldcache(plan, key, lookup, f->elf_class, err);
        if (r >= 0 && plan->layout.musl)
                r = add_image_link(plan, libdir, key, lookup, "soname link (musl loader)", err);
        for (size_t i = 0; r >= 0 && f->soname && has_libc && i < ARRAY_SIZE(dev_links); i++) {
                if (!streq(f->soname, dev_links[i]))
                        continue;
                /* "libcuda.so.1" -> "libcuda.so" */
                _cleanup_free_ char *dev = strndup(f->soname, strlen(f->soname) - 2);
                if (!dev)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                r = add_image_link(plan, libdir, dev, lookup, "development link", err);
        }
        if (r >= 0 && f->soname && streq(f->soname, "libGLX_nvidia.so.0")) {
                /* libglvnd dlopens the indirect-rendering vendor by this name. */
                static const char indirect[] = "libGLX_indirect.so.0";
                _cleanup_free_ char *link = nvh_fileio_path_join(dir, indirect);
                if (!link)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                r = add_symlink(plan, link, f->soname, "GLVND indirect rendering", err);
                if (r >= 0)
                        r = add_ldcache(plan, indirect, link, f->elf_class, err);
                if (r >= 0 && plan->layout.musl)
                        r = add_image_link(plan, libdir, indirect, link,
                                           "GLVND indirect rendering (musl loader)", err);
        }
        return r;
}

/* The driver directory's tmpfs, when a library goes there, and the conf file naming its
 * directories for the image's own ldconfig. */
static int
plan_driver_dir(struct nvh_plan *plan, struct nvh_err *err)
{
        struct nvh_op *op;
        _cleanup_free_ char *conf = NULL;

        if (plan->n_libs == 0)
                return 0;
        op = plan_add(plan, NVH_OP_TMPFS, "driver directory (mount targets and links)");
        if (!op || set_str(&op->ctr_path, NVH_PLAN_DRIVER_DIR) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        if (!plan->layout.ldconf_d)
                return 0;
        if (asprintf(&conf, "# nvhook: the injected NVIDIA driver libraries\n%s%s",
                     plan->n_libs > plan->n_libs32 ? NVH_PLAN_LIB_DIR "\n" : "",
                     plan->n_libs32 ? NVH_PLAN_LIB32_DIR "\n" : "") < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op = plan_add(plan, NVH_OP_FILE, "the driver directory for the image's ldconfig");
        if (!op || set_str(&op->ctr_path, NVH_PLAN_LDCONF) < 0 || set_str(&op->target, conf) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        return 0;
}

static int
plan_files(struct nvh_plan *plan, const struct nvh_driver *drv, unsigned caps, struct nvh_err *err)
{
        for (size_t i = 0; i < drv->n_files; i++) {
                const struct nvh_driver_file *f = &drv->files[i];
                int r = 0;

                if (!nvh_driver_file_selected(f, caps))
                        continue;
                switch (f->kind) {
                case NVH_FILE_LIB:
                        r = plan_library(plan, f, err);
                        break;
                case NVH_FILE_BIN:
                        r = add_bind(plan, f->host_path, f->ctr_path,
                                     NVH_OPF_RDONLY | NVH_OPF_NOSUID | NVH_OPF_NODEV, f->why, err);
                        plan->n_bins++;
                        break;
                case NVH_FILE_FIRMWARE:
                        r = add_bind(plan, f->host_path, f->ctr_path,
                                     NVH_OPF_RDONLY | NVH_OPF_NOSUID | NVH_OPF_NODEV |
                                         NVH_OPF_NOEXEC,
                                     f->why, err);
                        plan->n_firmware++;
                        break;
                case NVH_FILE_CONFIG:
                        r = add_bind(plan, f->host_path, f->ctr_path,
                                     NVH_OPF_RDONLY | NVH_OPF_NOSUID | NVH_OPF_NODEV |
                                         NVH_OPF_NOEXEC,
                                     f->why, err);
                        break;
                case NVH_FILE_SOCKET:
                        r = add_bind(plan, f->host_path, f->ctr_path,
                                     NVH_OPF_NOSUID | NVH_OPF_NODEV | NVH_OPF_NOEXEC, f->why, err);
                        break;
                case NVH_FILE_DIR:
                        r = add_bind(plan, f->host_path, f->ctr_path,
                                     NVH_OPF_NOSUID | NVH_OPF_NODEV | NVH_OPF_NOEXEC | NVH_OPF_DIR,
                                     f->why, err);
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int
add_proc_file(struct nvh_plan *plan, const char *rel, const char *host_path, const char *content,
              struct nvh_err *err)
{
        struct nvh_op *op;

        if (has_op(plan, NVH_OP_PROC_FILE, rel))
                return 0;
        op = plan_add(plan, NVH_OP_PROC_FILE, "mask /proc/driver/nvidia");
        if (!op || set_str(&op->ctr_path, rel) < 0 || set_str(&op->host_path, host_path) < 0 ||
            set_str(&op->target, content) < 0)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        op->mode = 0444;
        return 0;
}

/* /proc/driver/nvidia inside the container: the driver's version and registry, params with
 * ModifyDeviceFiles forced to 0 (so that no CUDA library tries to create device nodes the
 * cgroup would refuse), and only the selected GPUs. */
static int
add_proc_copy(struct nvh_plan *plan, const char *dir, const char *rel, struct nvh_err *err)
{
        _cleanup_free_ char *host = nvh_fileio_path_join(dir, rel);

        if (!host)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        return add_proc_file(plan, rel, host, NULL, err);
}

/* What CUDA reads to find the capability minors of the MIG devices it may open (and, when
 * granted, of MIG config and monitor): the capability files of exactly those. */
static int
plan_proc_mig(struct nvh_plan *plan, const char *dir, const struct nvh_select_mig *migs,
              size_t n_migs, bool config, bool monitor, struct nvh_err *err)
{
        int r;

        for (size_t i = 0; i < n_migs; i++) {
                const struct nvh_mig *m = migs[i].mig;
                _cleanup_free_ char *gi = NULL, *ci = NULL;

                if (asprintf(&gi, "capabilities/gpu%u/mig/gi%u/access", migs[i].gpu->minor, m->gi) <
                        0 ||
                    asprintf(&ci, "capabilities/gpu%u/mig/gi%u/ci%u/access", migs[i].gpu->minor,
                             m->gi, m->ci) < 0)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                r = add_proc_copy(plan, dir, gi, err);
                if (r >= 0)
                        r = add_proc_copy(plan, dir, ci, err);
                if (r < 0)
                        return r;
        }
        r = config ? add_proc_copy(plan, dir, "capabilities/mig/config", err) : 0;
        if (r >= 0 && monitor)
                r = add_proc_copy(plan, dir, "capabilities/mig/monitor", err);
        return r;
}

/* params with ModifyDeviceFiles forced to 0, every other line kept in order. */
static int
params_content(const char *params, char **ret, struct nvh_err *err)
{
        size_t len = strlen(params), o = 0;
        bool seen = false;
        /* Each rewritten line (>= 18 bytes in) grows by at most 3, a missing final newline
         * adds 1 and a missing ModifyDeviceFiles line 21. */
        _cleanup_free_ char *out = malloc(len + len / 6 + 64);

        if (!out)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        for (const char *line = params; *line;) {
                const char *nl = strchr(line, '\n');
                size_t ll = nl ? (size_t)(nl - line) : strlen(line);

                if (ll >= 18 && strncmp(line, "ModifyDeviceFiles:", 18) == 0) {
                        o += (size_t)sprintf(out + o, "ModifyDeviceFiles: 0\n");
                        seen = true;
                } else {
                        memcpy(out + o, line, ll);
                        o += ll;
                        out[o++] = '\n';
                }
                line += ll + (nl ? 1 : 0);
        }
        if (!seen)
                o += (size_t)sprintf(out + o, "ModifyDeviceFiles: 0\n");
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int
plan_proc(struct nvh_plan *plan, const struct nvh_system *sys, const struct nvh_selection *sel,
          bool config, bool monitor, struct nvh_err *err)
{
        _cleanup_free_ char *dir = nvh_fileio_path_join(sys->host_proc, "driver/nvidia");
        _cleanup_free_ char *params = NULL;
        static const char *const plain[] = {"version", "registry"};
        int r;

        if (!dir)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
                _cleanup_free_ char *p = nvh_fileio_path_join(dir, plain[i]);
                if (!p)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                r = add_proc_file(plan, plain[i], p, NULL, err);
                if (r < 0)
                        return r;
        }
        r = params_content(sys->params ? sys->params : "", &params, err);
        if (r >= 0)
                r = add_proc_file(plan, "params", NULL, params, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sel->n_gpus; i++) {
                _cleanup_free_ char *rel = NULL, *host = NULL;
                if (asprintf(&rel, "gpus/%s/information", sel->gpus[i]->proc_name) < 0)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                host = nvh_fileio_path_join(dir, rel);
                if (!host)
                        return nvh_err_set(err, -ENOMEM, "plan: out of memory");
                /* The bytes discovery read serve the copy: the driver makes this file anew
                 * on every read (~0.2 ms a GPU on an H200), so it is read once. */
                r = add_proc_file(plan, rel, host, sel->gpus[i]->info, err);
                if (r < 0)
                        return r;
        }
        return plan_proc_mig(plan, dir, sel->migs, sel->n_migs, config, monitor, err);
}

/* MIG devices: the GI and CI access capabilities of each (the parent GPU's node comes with
 * the selected GPUs); MIG config and monitor when asked for (privileged containers only: the
 * request parser refuses them otherwise). */
static int
plan_mig_nodes(struct nvh_plan *plan, const struct nvh_plan_input *in, struct nvh_err *err)
{
        const struct nvh_system *sys = in->sys;
        const struct nvh_selection *sel = in->sel;
        int r;

        for (size_t i = 0; i < sel->n_migs; i++) {
                const struct nvh_mig *m = sel->migs[i].mig;
                char what[64];

                snprintf(what, sizeof(what), "mig gi%u access on gpu %u", m->gi,
                         sel->migs[i].gpu->index);
                r = add_cap_node(plan, sys, in->host, &m->gi_access, what, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "mig gi%u/ci%u access on gpu %u", m->gi, m->ci,
                         sel->migs[i].gpu->index);
                r = add_cap_node(plan, sys, in->host, &m->ci_access, what, err);
                if (r < 0)
                        return r;
        }
        if (in->req->mig_config_sel != NVH_DEVSEL_NONE) {
                r = add_cap_node(plan, sys, in->host, &sys->mig_config, "mig config", err);
                if (r < 0)
                        return r;
        }
        if (in->req->mig_monitor_sel != NVH_DEVSEL_NONE) {
                r = add_cap_node(plan, sys, in->host, &sys->mig_monitor, "mig monitor", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* NVIDIA_IMEX_CHANNELS: /dev/nvidia-caps-imex-channels/channel<N>, the minor being N, for the
 * selected channels ("all": every channel node the host has). */
static int
plan_imex(struct nvh_plan *plan, const struct nvh_plan_input *in, struct nvh_err *err)
{
        const struct nvh_request *req = in->req;
        int major = in->sys->majors.nvidia_caps_imex;

        if (!req->imex_all && in->sel->n_imex == 0)
                return 0;
        if (major < 0)
                return nvh_err_set(err, -ENODEV,
                                   "imex channels requested, but the driver has no '%s' device",
                                   NVH_HOST_IMEX_DIR);
        for (size_t i = 0; i < in->sel->n_imex; i++) {
                char name[64];
                int r;

                snprintf(name, sizeof(name), NVH_HOST_IMEX_DIR "/channel%u", in->sel->imex[i]);
                r = add_node(plan, in->host, name, (unsigned)major, in->sel->imex[i], true,
                             "IMEX channel", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The stage of each kind, which is the order the executor (lib/inject.c) runs them in: the
 * driver directory's tmpfs (its targets and links made while it is empty of mounts), files
 * and links, device nodes, the /proc/driver/nvidia tmpfs (one mount for the whole run), the
 * ldconfig conf file, the linker cache (one rewrite), then cgroup grants (the only change
 * outside the container, after leaving its namespace). */
#define STAGE_LAST 7

static unsigned
op_stage(enum nvh_op_kind kind)
{
        switch (kind) {
        case NVH_OP_TMPFS:
                return 0;
        case NVH_OP_BIND:
        case NVH_OP_SYMLINK:
                return 1;
        case NVH_OP_MKNOD:
                return 2;
        case NVH_OP_PROC_FILE:
                return 3;
        case NVH_OP_FILE:
                return 4;
        case NVH_OP_LDCACHE:
                return 5;
        case NVH_OP_CGROUP_ALLOW:
                return 6;
        }
        return STAGE_LAST;
}

/* Put the ops in execution order, keeping the order within each stage, so that what
 * `nvhook explain` prints is what runs. */
static int
plan_order(struct nvh_plan *plan, struct nvh_err *err)
{
        _cleanup_free_ struct nvh_op *ops = calloc(plan->n_ops + 1, sizeof(*ops));
        size_t n = 0;

        if (!ops)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        for (unsigned stage = 0; stage <= STAGE_LAST; stage++)
                for (size_t i = 0; i < plan->n_ops; i++)
                        if (op_stage(plan->ops[i].kind) == stage)
                                ops[n++] = plan->ops[i];
        free(plan->ops);
        plan->ops = TAKE_PTR(ops);
        plan->cap_ops = plan->n_ops + 1;
        return 0;
}

/* The nodes every GPU container gets, then those of the selected GPUs. */
static int
plan_nodes(struct nvh_plan *plan, const struct nvh_plan_input *in, struct nvh_err *err)
{
        const struct nvh_system *sys = in->sys;
        unsigned nv = (unsigned)sys->majors.nvidia;
        int r;

        r = add_node(plan, in->host, "nvidiactl", nv, NVIDIA_CTL_MINOR, true, "control device",
                     err);
        if (r >= 0 && sys->majors.nvidia_uvm >= 0) {
                unsigned uvm = (unsigned)sys->majors.nvidia_uvm;

                r = add_optional_node(plan, in, "nvidia-uvm", uvm, 0, "unified memory", err);
                if (r >= 0)
                        r = add_optional_node(plan, in, "nvidia-uvm-tools", uvm, 1,
                                              "unified memory tools", err);
        }
        if (r >= 0 && (plan->caps & NVH_CAP_DISPLAY))
                r = add_optional_node(plan, in, "nvidia-modeset", nv, NVIDIA_MODESET_MINOR,
                                      "display: modeset", err);
        for (size_t i = 0; r >= 0 && i < in->sel->n_gpus; i++) {
                char name[32];

                snprintf(name, sizeof(name), "nvidia%u", in->sel->gpus[i]->minor);
                r = add_node(plan, in->host, name, nv, in->sel->gpus[i]->minor, true,
                             "selected GPU", err);
        }
        if (r >= 0)
                r = plan_mig_nodes(plan, in, err);
        if (r >= 0)
                r = plan_imex(plan, in, err);
        return r;
}

int
nvh_plan_build(const struct nvh_plan_input *in, struct nvh_plan **ret, struct nvh_err *err)
{
        _cleanup_plan_ struct nvh_plan *plan = calloc(1, sizeof(*plan));
        int r;

        if (!plan)
                return nvh_err_set(err, -ENOMEM, "plan: out of memory");
        plan->layout = *in->layout;
        plan->layout.ldcache = NULL; /* the probe's, not the plan's (pure data) */
        /* What a capability implies (video runs on the CUDA libraries, display on the
         * graphics stack) is in the component tables: each file lists every capability that
         * selects it, so discovery and the plan agree. */
        plan->caps = in->req->caps;
        plan->n_gpus = in->sel->n_gpus;
        plan->n_migs = in->sel->n_migs;

        r = plan_files(plan, in->drv, plan->caps, err);
        if (r >= 0)
                r = plan_driver_dir(plan, err);
        if (r >= 0)
                r = plan_nodes(plan, in, err);
        if (r >= 0)
                r = plan_proc(plan, in->sys, in->sel, in->req->mig_config_sel != NVH_DEVSEL_NONE,
                              in->req->mig_monitor_sel != NVH_DEVSEL_NONE, err);
        if (r >= 0)
                r = plan_order(plan, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(plan);
        return 0;
}

void
nvh_plan_free(struct nvh_plan *plan)
{
        if (!plan)
                return;
        for (size_t i = 0; i < plan->n_ops; i++) {
                free(plan->ops[i].host_path);
                free(plan->ops[i].ctr_path);
                free(plan->ops[i].target);
        }
        free(plan->ops);
        free(plan);
}

const char *
nvh_plan_op_kind_name(enum nvh_op_kind kind)
{
        switch (kind) {
        case NVH_OP_TMPFS:
                return "tmpfs";
        case NVH_OP_BIND:
                return "bind";
        case NVH_OP_SYMLINK:
                return "symlink";
        case NVH_OP_MKNOD:
                return "mknod";
        case NVH_OP_PROC_FILE:
                return "proc-file";
        case NVH_OP_FILE:
                return "file";
        case NVH_OP_LDCACHE:
                return "ldcache";
        case NVH_OP_CGROUP_ALLOW:
                return "cgroup-allow";
        }
        return "unknown";
}

static json_t *
flags_json(unsigned flags)
{
        json_t *a = json_array();
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {{NVH_OPF_RDONLY, "ro"},
                     {NVH_OPF_NOSUID, "nosuid"},
                     {NVH_OPF_NODEV, "nodev"},
                     {NVH_OPF_NOEXEC, "noexec"},
                     {NVH_OPF_DIR, "dir"}};

        for (size_t i = 0; a && i < ARRAY_SIZE(names); i++)
                if (flags & names[i].bit)
                        json_array_append_new(a, json_string(names[i].name));
        return a;
}

char *
nvh_plan_to_json(const struct nvh_plan *plan, unsigned json_flags)
{
        json_t *root = json_object(), *ops = json_array(), *layout = json_object();
        char capbuf[128];
        char *out;

        if (!root || !ops || !layout) {
                json_decref(root);
                json_decref(ops);
                json_decref(layout);
                return NULL;
        }
        json_object_set_new(root, "capabilities",
                            json_string(nvh_caps_format(plan->caps, capbuf, sizeof(capbuf))));
        json_object_set_new(layout, "libdir", json_string(plan->layout.libdir));
        json_object_set_new(layout, "libdir32", json_string(plan->layout.libdir32));
        json_object_set_new(layout, "has_ldcache", json_boolean(plan->layout.has_ldcache));
        json_object_set_new(layout, "musl", json_boolean(plan->layout.musl));
        json_object_set_new(layout, "glibc", json_boolean(plan->layout.glibc));
        json_object_set_new(layout, "ldconf_d", json_boolean(plan->layout.ldconf_d));
        json_object_set_new(layout, "why", json_string(plan->layout.why));
        json_object_set_new(root, "layout", layout);
        json_object_set_new(root, "gpus", json_integer((json_int_t)plan->n_gpus));
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                json_t *o = json_object();
                char dev[32];

                if (!o)
                        break;
                json_object_set_new(o, "op", json_string(nvh_plan_op_kind_name(op->kind)));
                switch (op->kind) {
                case NVH_OP_BIND:
                        json_object_set_new(o, "source", json_string(op->host_path));
                        json_object_set_new(o, "target", json_string(op->ctr_path));
                        json_object_set_new(o, "flags", flags_json(op->flags));
                        break;
                case NVH_OP_SYMLINK:
                        json_object_set_new(o, "path", json_string(op->ctr_path));
                        json_object_set_new(o, "target", json_string(op->target));
                        if (op->flags & NVH_OPF_KEEP_IMAGE_FILE)
                                json_object_set_new(o, "keep_image_file", json_true());
                        break;
                case NVH_OP_MKNOD:
                        snprintf(dev, sizeof(dev), "%u:%u", op->major, op->minor);
                        json_object_set_new(o, "path", json_string(op->ctr_path));
                        json_object_set_new(o, "device", json_string(dev));
                        json_object_set_new(o, "host", json_string(op->host_path));
                        break;
                case NVH_OP_PROC_FILE:
                        json_object_set_new(o, "path", json_string(op->ctr_path));
                        if (op->host_path)
                                json_object_set_new(o, "source", json_string(op->host_path));
                        else
                                json_object_set_new(o, "content", json_string(op->target));
                        break;
                case NVH_OP_TMPFS:
                        json_object_set_new(o, "path", json_string(op->ctr_path));
                        break;
                case NVH_OP_FILE:
                        json_object_set_new(o, "path", json_string(op->ctr_path));
                        json_object_set_new(o, "content", json_string(op->target));
                        break;
                case NVH_OP_LDCACHE:
                        json_object_set_new(o, "key", json_string(op->target));
                        json_object_set_new(o, "value", json_string(op->ctr_path));
                        json_object_set_new(o, "class", json_integer(op->elf_class));
                        break;
                case NVH_OP_CGROUP_ALLOW:
                        snprintf(dev, sizeof(dev), "c %u:%u rw", op->major, op->minor);
                        json_object_set_new(o, "rule", json_string(dev));
                        break;
                }
                json_object_set_new(o, "why", json_string(op->why));
                json_array_append_new(ops, o);
        }
        json_object_set_new(root, "operations", ops);
        out = json_dumps(root, json_flags);
        json_decref(root);
        return out;
}

int
nvh_plan_add_ldcache(struct nvh_plan *plan, const char *key, const char *value, int elf_class,
                     const char *why, struct nvh_err *err)
{
        int r = add_ldcache(plan, key, value, elf_class, err);

        if (r < 0)
                return r;
        snprintf(plan->ops[plan->n_ops - 1].why, sizeof(plan->ops[0].why), "%s", why);
        /* Back into execution order: after the driver's cache entries (so it wins over them),
         * before the cgroup grants. */
        return plan_order(plan, err);
}
