/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plan.c on the generated fixtures: the real driver tree (ELF files, cache by ldconfig),
 * the fake procfs trees, and host device nodes built in memory (as tests/fixtures/mkdev.sh
 * makes them), so every test runs as any user: the plan reads nothing from the host.
 * Expectations are computed without the plan: libraries by listing the fixture directories
 * against the component tables (sonames read back from the ELF files), binaries and config
 * files from the tables, device numbers from the procfs trees' devices file and from the
 * generator's procfs.env, params lines from the host file. */
#include "testutil.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "components.h"
#include "driver.h"
#include "elf.h"
#include "gpus.h"
#include "host.h"
#include "macros.h"
#include "plan.h"
#include "request.h"
#include "select.h"

#define VER "580.159.04"
#define LIBDIR "/usr/lib/x86_64-linux-gnu"
#define LIBDIR32 "/usr/lib/i386-linux-gnu"
#define DLIB NVH_PLAN_LIB_DIR /* where the plan binds libraries: the driver directory */
#define DLIB32 NVH_PLAN_LIB32_DIR
#define FLAGS_RO (NVH_OPF_RDONLY | NVH_OPF_NOSUID | NVH_OPF_NODEV)

static struct nvh_driver *drv; /* every file of the operator tree (NVH_CAP_ALL) */
static char *driver_root;

static char *
fx(const char *name)
{
        char *p;

        assert_true(asprintf(&p, "%s/%s", tu_fixtures(), name) > 0);
        return p;
}

static int
setup(void **state)
{
        struct nvh_err err = {0};
        struct nvh_driver_opts o = {0};

        (void)state;
        driver_root = fx("driver");
        o.host_root = driver_root;
        o.version = VER;
        o.caps = NVH_CAP_ALL;
        o.host_ipc_root = tu_tmpdir(); /* no host IPC endpoints */
        if (nvh_driver_discover(&o, &drv, &err) < 0) {
                fprintf(stderr, "discover '%s': %s\n", driver_root, err.msg);
                return -1;
        }
        return 0;
}

static int
teardown(void **state)
{
        (void)state;
        nvh_driver_free(drv);
        free(driver_root);
        return 0;
}

/* ---- independent facts about the fixtures --------------------------------------------- */

/* Value of KEY=... in procfs.env (quotes stripped); caller frees. */
static char *
env_value(const char *key)
{
        _cleanup_free_ char *path = fx("procfs.env");
        char line[4096];
        FILE *f = fopen(path, "re");

        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                size_t n = strlen(key);
                if (strncmp(line, key, n) == 0 && line[n] == '=') {
                        char *v = line + n + 1;
                        v[strcspn(v, "\n")] = '\0';
                        if (*v == '\'') {
                                v++;
                                v[strcspn(v, "'")] = '\0';
                        }
                        fclose(f);
                        return strdup(v);
                }
        }
        fclose(f);
        fail_msg("%s not in procfs.env", key);
        return NULL;
}

/* The i-th space-separated word of KEY in procfs.env. */
static char *
env_word(const char *key, size_t i)
{
        _cleanup_free_ char *v = env_value(key);
        char *save = NULL, *w = strtok_r(v, " ", &save);

        while (w && i--)
                w = strtok_r(NULL, " ", &save);
        assert_non_null(w);
        return strdup(w);
}

/* A character major from <proc>/devices, by name (first match), -1 when absent. */
static int
proc_major(const char *proc, const char *name)
{
        _cleanup_free_ char *path = NULL;
        char line[256];
        int major = -1;
        FILE *f;

        assert_true(asprintf(&path, "%s/devices", proc) > 0);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char n[128];
                int m;
                if (strncmp(line, "Block", 5) == 0)
                        break;
                if (sscanf(line, "%d %127s", &m, n) == 2 && streq(n, name) && major < 0)
                        major = m;
        }
        fclose(f);
        return major;
}

static int
nvidia_major(const char *proc)
{
        int m = proc_major(proc, "nvidia");
        return m >= 0 ? m : proc_major(proc, "nvidia-frontend");
}

struct want_lib {
        char host[4096];
        char file[256];
        char soname[256];
        int cls;
};

/* Every library of the operator tree a plan with caps must inject: listed from the fixture
 * directory (regular files named <component>.so.<version>, or any <component>.so.* for
 * unversioned components), soname read from the file. */
static size_t
want_libs(unsigned caps, int cls, struct want_lib *out, size_t max)
{
        _cleanup_free_ char *dir = NULL;
        size_t n_libs, n = 0;
        const struct nvh_component_lib *libs = nvh_components_libs(&n_libs);
        DIR *d;
        struct dirent *e;

        assert_true(asprintf(&dir, "%s/usr/lib/%s", driver_root,
                             cls == 64 ? "x86_64-linux-gnu" : "i386-linux-gnu") > 0);
        d = opendir(dir);
        assert_non_null(d);
        while ((e = readdir(d))) {
                const struct nvh_component_lib *lib = NULL;
                char path[4096];
                struct stat st;

                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                for (size_t i = 0; i < n_libs; i++) {
                        size_t len = strlen(libs[i].name);
                        const char *rest = e->d_name + len;
                        if (strncmp(e->d_name, libs[i].name, len) != 0)
                                continue;
                        if ((libs[i].flags & NVH_COMPONENT_UNVERSIONED)
                                ? strncmp(rest, ".so.", 4) == 0
                                : streq(rest, ".so." VER))
                                lib = &libs[i];
                }
                if (!lib || !(lib->caps & caps))
                        continue;
                assert_true(n < max);
                struct want_lib *w = &out[n++];
                struct nvh_elf_info info = {0};
                struct nvh_err err = {0};
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(nvh_elf_read_fd(fd, path, &info, &err), 0);
                close(fd);
                assert_int_equal(info.elf_class, cls);
                assert_non_null(info.soname);
                snprintf(w->host, sizeof(w->host), "%s", path);
                snprintf(w->file, sizeof(w->file), "%s", e->d_name);
                snprintf(w->soname, sizeof(w->soname), "%s", info.soname);
                w->cls = cls;
                nvh_elf_info_clear(&info);
        }
        closedir(d);
        return n;
}

/* ---- plan queries ----------------------------------------------------------------------- */

static bool
starts_with(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t
count_ops(const struct nvh_plan *p, enum nvh_op_kind kind, const char *ctr_path)
{
        size_t n = 0;
        for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].kind == kind &&
                    (!ctr_path || (p->ops[i].ctr_path && streq(p->ops[i].ctr_path, ctr_path))))
                        n++;
        return n;
}

static const struct nvh_op *
find_op(const struct nvh_plan *p, enum nvh_op_kind kind, const char *ctr_path)
{
        for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].kind == kind && p->ops[i].ctr_path &&
                    streq(p->ops[i].ctr_path, ctr_path))
                        return &p->ops[i];
        return NULL;
}

static const struct nvh_op *
find_ldcache(const struct nvh_plan *p, const char *key, int cls)
{
        for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].kind == NVH_OP_LDCACHE && streq(p->ops[i].target, key) &&
                    p->ops[i].elf_class == cls)
                        return &p->ops[i];
        return NULL;
}

/* ---- building plans ------------------------------------------------------------------- */

struct setup {
        const char *proc_name; /* fixture ("proc-1gpu") or absolute path */
        const char *dev_name;  /* "dev-1gpu": the nodes mkdev.sh would make; NULL: none */
        unsigned caps;
        enum nvh_devsel sel;
        const char *const *devices; /* NULL-terminated */
        const char *libdir32;       /* NULL: LIBDIR32 */
        enum nvh_devsel mig_config_sel, mig_monitor_sel;
        const char *const *imex; /* NVIDIA_IMEX_CHANNELS list, NULL-terminated */
        bool imex_all;
        void (*edit_host)(struct nvh_host *host);       /* damage the host before planning */
        enum { LIBC_GLIBC, LIBC_MUSL, LIBC_NONE } libc; /* the image's loader */
};

struct built {
        struct nvh_system *sys;
        struct nvh_host *host;
        struct nvh_selection *sel;
        struct nvh_plan *plan;
        struct nvh_layout layout;
        char *proc, *dev;
        struct nvh_err err;
        int r;
};

/* A fixture by name, or an absolute path as it is. */
static char *
path_of(const char *name)
{
        return name[0] == '/' ? strdup(name) : fx(name);
}

static void
add_node(struct nvh_host *host, const char *name, mode_t perm, int major, unsigned minor)
{
        struct nvh_err err = {0};

        assert_true(major >= 0);
        assert_int_equal(
            nvh_host_add_node(host, name, S_IFCHR | perm, (unsigned)major, minor, &err), 0);
}

static void
add_cap(struct nvh_host *host, const struct nvh_system *sys, const struct nvh_capdev *cap)
{
        char name[64];

        if (cap->minor < 0)
                return;
        snprintf(name, sizeof(name), "nvidia-caps/nvidia-cap%d", cap->minor);
        add_node(host, name, cap->mode >= 0 ? (mode_t)cap->mode : 0444, sys->majors.nvidia_caps,
                 (unsigned)cap->minor);
}

/* The device nodes tests/fixtures/mkdev.sh makes for a procfs tree, in memory: control nodes,
 * one per GPU, IMEX channels 0 and 1, one per capability the driver reports (its mode). */
static struct nvh_host *
fake_host(const char *host_dev, const struct nvh_system *sys)
{
        struct nvh_host *host = nvh_host_new(host_dev);
        const struct nvh_majors *m = &sys->majors;

        assert_non_null(host);
        add_node(host, "nvidiactl", 0666, m->nvidia, 255);
        add_node(host, "nvidia-modeset", 0666, m->nvidia, 254);
        if (m->nvidia_uvm >= 0) {
                add_node(host, "nvidia-uvm", 0666, m->nvidia_uvm, 0);
                add_node(host, "nvidia-uvm-tools", 0666, m->nvidia_uvm, 1);
        }
        for (size_t i = 0; i < sys->n_gpus; i++) {
                char name[32];

                snprintf(name, sizeof(name), "nvidia%u", sys->gpus[i].minor);
                add_node(host, name, 0666, m->nvidia, sys->gpus[i].minor);
        }
        if (m->nvidia_caps_imex >= 0) {
                add_node(host, NVH_HOST_IMEX_DIR "/channel0", 0666, m->nvidia_caps_imex, 0);
                add_node(host, NVH_HOST_IMEX_DIR "/channel1", 0666, m->nvidia_caps_imex, 1);
        }
        if (m->nvidia_caps < 0)
                return host;
        add_cap(host, sys, &sys->mig_config);
        add_cap(host, sys, &sys->mig_monitor);
        add_cap(host, sys, &sys->imex_mgmt);
        for (size_t i = 0; i < sys->n_gpus; i++)
                for (size_t k = 0; k < sys->gpus[i].n_migs; k++) {
                        add_cap(host, sys, &sys->gpus[i].migs[k].gi_access);
                        add_cap(host, sys, &sys->gpus[i].migs[k].ci_access);
                }
        return host;
}

/* A host node, to damage. */
static struct nvh_host_node *
host_node(struct nvh_host *host, const char *name)
{
        struct nvh_host_node *n = (struct nvh_host_node *)nvh_host_find(host, name);

        if (!n)
                fail_msg("no host node '%s'", name);
        return n;
}

/* Remove a host node (renamed out of the way). */
static void
drop_node(struct nvh_host *host, const char *name)
{
        snprintf(host_node(host, name)->name, NVH_HOST_NAME_MAX, "gone-%s", name);
}

static void
build(const struct setup *s, struct built *b)
{
        static const char *const none[] = {NULL};
        struct nvh_request req = {0};
        struct nvh_plan_input in = {0};

        memset(b, 0, sizeof(*b));
        b->proc = path_of(s->proc_name);
        b->dev = path_of(s->dev_name ? s->dev_name : "empty-dev");
        assert_int_equal(nvh_gpus_discover(b->proc, &b->sys, &b->err), 0);
        b->host = s->dev_name ? fake_host(b->dev, b->sys) : nvh_host_new(b->dev);
        assert_non_null(b->host);
        if (s->edit_host)
                s->edit_host(b->host);
        snprintf(b->layout.libdir, sizeof(b->layout.libdir), "%s", LIBDIR);
        snprintf(b->layout.libdir32, sizeof(b->layout.libdir32), "%s",
                 s->libdir32 ? s->libdir32 : LIBDIR32);
        b->layout.has_ldcache = s->libc == LIBC_GLIBC;
        b->layout.glibc = s->libc == LIBC_GLIBC;
        b->layout.ldconf_d = s->libc == LIBC_GLIBC;
        b->layout.musl = s->libc == LIBC_MUSL;
        snprintf(b->layout.why, sizeof(b->layout.why), "test layout");

        req.gpu_container = true;
        req.sel = s->sel;
        req.devices = (char **)(s->devices ? s->devices : none);
        req.caps = s->caps;
        req.requires = (char **)none;
        req.require_names = (char **)none;
        req.mig_config = (char **)none;
        req.mig_monitor = (char **)none;
        req.mig_config_sel = s->mig_config_sel;
        req.mig_monitor_sel = s->mig_monitor_sel;
        req.imex_channels = (char **)(s->imex ? s->imex : none);
        req.imex_all = s->imex_all;
        req.source = "env";

        b->r = nvh_select_resolve(&req, b->sys, b->host, &b->sel, &b->err);
        if (b->r < 0)
                return;
        in.req = &req;
        in.sys = b->sys;
        in.host = b->host;
        in.sel = b->sel;
        in.drv = drv;
        in.layout = &b->layout;
        b->r = nvh_plan_build(&in, &b->plan, &b->err);
}

static void
built_free(struct built *b)
{
        nvh_plan_free(b->plan);
        nvh_select_free(b->sel);
        nvh_host_free(b->host);
        nvh_gpus_free(b->sys);
        free(b->proc);
        free(b->dev);
}

/* The capabilities a file must carry to be selected: what one capability implies (video the
 * CUDA libraries, display the graphics stack) is written in the component tables themselves,
 * not widened by the plan. */
static unsigned
effective(unsigned caps)
{
        return caps;
}

/* ---- checks --------------------------------------------------------------------------- */

/* Each selected library: one bind (ro,nosuid,nodev) into the class's driver directory, a
 * soname link next to it when the file is not named after its soname, one cache entry per
 * soname pointing there (and one for GLVND's indirect name); in the image's own directory
 * no bind, a soname link only for musl's loader (it reads no glibc cache), development links
 * only where there is a libc (and so maybe a linker); nothing of the other
 * class unless asked for (and the image has a 32-bit directory). The driver directory is one
 * tmpfs, the plan's first op. Returns the number of libraries. */
static size_t
check_libs(const struct nvh_plan *p, unsigned caps, const char *libdir32)
{
        static struct want_lib want[256];
        size_t total = 0;

        for (int cls = 32; cls <= 64; cls += 32) {
                const char *dir = cls == 64 ? DLIB : DLIB32;
                const char *imgdir = cls == 64 ? LIBDIR : libdir32;
                bool wanted = cls == 64 || ((caps & NVH_CAP_COMPAT32) && imgdir[0]);
                size_t glx = 0;
                size_t n = wanted ? want_libs(effective(caps), cls, want, ARRAY_SIZE(want)) : 0;
                size_t binds = 0;

                if (wanted && (effective(caps) & ~NVH_CAP_COMPAT32))
                        assert_true(n > 0); /* the fixture must have something to check */
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *ctr = NULL, *link = NULL;
                        assert_true(asprintf(&ctr, "%s/%s", dir, want[i].file) > 0);
                        assert_true(asprintf(&link, "%s/%s", dir, want[i].soname) > 0);
                        if (count_ops(p, NVH_OP_BIND, ctr) != 1)
                                fail_msg("%s: %zu binds, want 1", ctr,
                                         count_ops(p, NVH_OP_BIND, ctr));
                        const struct nvh_op *b = find_op(p, NVH_OP_BIND, ctr);
                        assert_string_equal(b->host_path, want[i].host);
                        assert_int_equal(b->flags, FLAGS_RO);

                        const struct nvh_op *c = find_ldcache(p, want[i].soname, cls);
                        if (!c)
                                fail_msg("no %d-bit cache entry for %s", cls, want[i].soname);
                        glx += streq(want[i].soname, "libGLX_nvidia.so.0");
                        _cleanup_free_ char *img = NULL;
                        assert_true(asprintf(&img, "%s/%s", imgdir, want[i].soname) > 0);
                        const struct nvh_op *il = find_op(p, NVH_OP_SYMLINK, img);
                        if (!p->layout.musl) {
                                assert_null(il);
                        } else {
                                assert_non_null(il);
                                assert_string_equal(il->target, link);
                                assert_int_equal(il->flags, NVH_OPF_KEEP_IMAGE_FILE);
                        }
                        if (streq(want[i].soname, "libcuda.so.1")) {
                                _cleanup_free_ char *dev = NULL;
                                assert_true(asprintf(&dev, "%s/libcuda.so", imgdir) > 0);
                                il = find_op(p, NVH_OP_SYMLINK, dev);
                                if (p->layout.glibc || p->layout.musl)
                                        assert_string_equal(il->target, link);
                                else
                                        assert_null(il); /* no libc, no linker */
                        }
                        if (streq(want[i].soname, want[i].file)) {
                                assert_string_equal(c->ctr_path, ctr);
                                assert_int_equal(count_ops(p, NVH_OP_SYMLINK, link), 0);
                        } else {
                                assert_string_equal(c->ctr_path, link);
                                assert_int_equal(count_ops(p, NVH_OP_SYMLINK, link), 1);
                                assert_string_equal(find_op(p, NVH_OP_SYMLINK, link)->target,
                                                    want[i].file);
                        }
                }
                /* nothing else lands in the directory as a bind, one cache entry each; the
                 * image's directory gets no bind at all */
                for (size_t i = 0; i < p->n_ops; i++) {
                        const struct nvh_op *op = &p->ops[i];
                        if (op->kind == NVH_OP_BIND && starts_with(op->ctr_path, dir) &&
                            op->ctr_path[strlen(dir)] == '/')
                                binds++;
                        if (op->kind == NVH_OP_BIND && imgdir[0] &&
                            starts_with(op->ctr_path, imgdir))
                                fail_msg("bind in the image's directory: '%s'", op->ctr_path);
                }
                size_t caches = 0;
                for (size_t i = 0; i < p->n_ops; i++)
                        caches += p->ops[i].kind == NVH_OP_LDCACHE && p->ops[i].elf_class == cls;
                assert_int_equal(binds, n);
                assert_int_equal(caches, n + glx);
                total += n;
        }
        assert_int_equal(p->n_libs, total);
        assert_int_equal(count_ops(p, NVH_OP_TMPFS, NVH_PLAN_DRIVER_DIR), total ? 1 : 0);
        assert_int_equal(count_ops(p, NVH_OP_FILE, NVH_PLAN_LDCONF),
                         total && p->layout.ldconf_d ? 1 : 0);
        if (total) {
                assert_int_equal(p->ops[0].kind, NVH_OP_TMPFS);
                assert_string_equal(p->ops[0].ctr_path, NVH_PLAN_DRIVER_DIR);
        }
        return total;
}

static void
check_bins(const struct nvh_plan *p, unsigned caps)
{
        size_t n_bins, want = 0;
        const struct nvh_component_bin *bins = nvh_components_bins(&n_bins);

        for (size_t i = 0; i < n_bins; i++) {
                _cleanup_free_ char *ctr = NULL, *host = NULL;
                assert_true(asprintf(&ctr, "/usr/bin/%s", bins[i].name) > 0);
                assert_true(asprintf(&host, "%s/usr/bin/%s", driver_root, bins[i].name) > 0);
                if (!(bins[i].caps & effective(caps))) {
                        assert_null(find_op(p, NVH_OP_BIND, ctr));
                        continue;
                }
                want++;
                assert_int_equal(count_ops(p, NVH_OP_BIND, ctr), 1);
                const struct nvh_op *b = find_op(p, NVH_OP_BIND, ctr);
                assert_string_equal(b->host_path, host);
                assert_int_equal(b->flags, FLAGS_RO);
        }
        size_t got = 0;
        for (size_t i = 0; i < p->n_ops; i++)
                got +=
                    p->ops[i].kind == NVH_OP_BIND && starts_with(p->ops[i].ctr_path, "/usr/bin/");
        assert_int_equal(got, want);
        assert_int_equal(p->n_bins, want);
        assert_null(find_op(p, NVH_OP_BIND, "/usr/bin/bash")); /* not NVIDIA's */
}

/* Firmware of the running version and configuration files: read-only and noexec. */
static void
check_data(const struct nvh_plan *p, unsigned caps)
{
        size_t n_fw, n_cf, want_fw = 0, want_cf = 0, got_fw = 0, got_cf = 0;
        const struct nvh_component_firmware *fw = nvh_components_firmware(&n_fw);
        const struct nvh_component_config *cf = nvh_components_configs(&n_cf);
        static const char *const bases[] = {"usr/share", "usr/local/share", "etc"};

        for (size_t i = 0; i < n_fw; i++) {
                _cleanup_free_ char *pat = NULL;
                glob_t g = {0};
                if (!(fw[i].caps & effective(caps)))
                        continue;
                assert_true(asprintf(&pat, "%s/usr/lib/firmware/nvidia/" VER "/%s", driver_root,
                                     fw[i].pattern) > 0);
                assert_int_equal(glob(pat, 0, NULL, &g), 0);
                for (size_t j = 0; j < g.gl_pathc; j++) {
                        _cleanup_free_ char *ctr = NULL;
                        assert_true(asprintf(&ctr, "/lib/firmware/nvidia/" VER "/%s",
                                             strrchr(g.gl_pathv[j], '/') + 1) > 0);
                        assert_int_equal(count_ops(p, NVH_OP_BIND, ctr), 1);
                        const struct nvh_op *b = find_op(p, NVH_OP_BIND, ctr);
                        assert_string_equal(b->host_path, g.gl_pathv[j]);
                        assert_int_equal(b->flags, FLAGS_RO | NVH_OPF_NOEXEC);
                        want_fw++;
                }
                globfree(&g);
        }
        for (size_t i = 0; i < n_cf; i++) {
                if (!(cf[i].caps & effective(caps)))
                        continue;
                for (size_t k = 0; k < ARRAY_SIZE(bases); k++) {
                        _cleanup_free_ char *pat = NULL;
                        glob_t g = {0};
                        size_t root_len = strlen(driver_root) + 1 + strlen(bases[k]) + 1;
                        assert_true(asprintf(&pat, "%s/%s/%s", driver_root, bases[k], cf[i].rel) >
                                    0);
                        if (glob(pat, 0, NULL, &g) != 0)
                                continue;
                        for (size_t j = 0; j < g.gl_pathc; j++) {
                                const char *base = cf[i].ctr_base           ? cf[i].ctr_base
                                                   : streq(bases[k], "etc") ? "/etc"
                                                                            : "/usr/share";
                                _cleanup_free_ char *ctr = NULL;
                                assert_true(
                                    asprintf(&ctr, "%s/%s", base, g.gl_pathv[j] + root_len) > 0);
                                if (count_ops(p, NVH_OP_BIND, ctr) != 1)
                                        fail_msg("config %s: %zu binds", ctr,
                                                 count_ops(p, NVH_OP_BIND, ctr));
                                const struct nvh_op *b = find_op(p, NVH_OP_BIND, ctr);
                                assert_string_equal(b->host_path, g.gl_pathv[j]);
                                assert_int_equal(b->flags, FLAGS_RO | NVH_OPF_NOEXEC);
                                want_cf++;
                        }
                        globfree(&g);
                }
        }
        for (size_t i = 0; i < p->n_ops; i++) {
                const struct nvh_op *op = &p->ops[i];
                if (op->kind != NVH_OP_BIND)
                        continue;
                if (starts_with(op->ctr_path, "/lib/firmware/"))
                        got_fw++;
                else if (starts_with(op->ctr_path, "/usr/share/") ||
                         starts_with(op->ctr_path, "/etc/"))
                        got_cf++;
                assert_null(strstr(op->host_path, "mesa"));
                assert_null(strstr(op->host_path, "535.54.03"));
        }
        assert_int_equal(got_fw, want_fw);
        assert_int_equal(p->n_firmware, want_fw);
        assert_int_equal(got_cf, want_cf);
        if (effective(caps) & (NVH_CAP_UTILITY | NVH_CAP_COMPUTE))
                assert_true(want_fw > 0);
        if (effective(caps) & NVH_CAP_GRAPHICS)
                assert_true(want_cf > 0);
}

/* Every bind is one of the kinds checked above (nothing unaccounted for). */
static void
check_binds_accounted(const struct nvh_plan *p, const char *libdir32)
{
        for (size_t i = 0; i < p->n_ops; i++) {
                const struct nvh_op *op = &p->ops[i];
                if (op->kind != NVH_OP_BIND)
                        continue;
                bool known = starts_with(op->ctr_path, DLIB "/") ||
                             (libdir32[0] && starts_with(op->ctr_path, DLIB32 "/")) ||
                             starts_with(op->ctr_path, "/usr/bin/") ||
                             starts_with(op->ctr_path, "/lib/firmware/") ||
                             starts_with(op->ctr_path, "/usr/share/") ||
                             starts_with(op->ctr_path, "/etc/");
                if (!known)
                        fail_msg("unexpected bind '%s'", op->ctr_path);
        }
}

struct want_node {
        const char *name;
        unsigned major, minor;
};

/* The ops in execution order: the driver directory, files and links, device nodes, proc
 * files, the ldconfig conf file, cache entries, then cgroup grants, each kind in one run. */
static void
check_order(const struct nvh_plan *p)
{
        static const enum nvh_op_kind stage[] = {
            [NVH_OP_TMPFS] = 0,   [NVH_OP_BIND] = 1,         [NVH_OP_SYMLINK] = 1,
            [NVH_OP_MKNOD] = 2,   [NVH_OP_PROC_FILE] = 3,    [NVH_OP_FILE] = 4,
            [NVH_OP_LDCACHE] = 5, [NVH_OP_CGROUP_ALLOW] = 6,
        };

        for (size_t i = 1; i < p->n_ops; i++)
                if (stage[p->ops[i].kind] < stage[p->ops[i - 1].kind])
                        fail_msg("op %zu (%s) after %s", i, nvh_plan_op_kind_name(p->ops[i].kind),
                                 nvh_plan_op_kind_name(p->ops[i - 1].kind));
}

/* The mknod ops are exactly want[] in that order, and the cgroup grants the same devices in
 * the same order, last. */
static void
check_nodes(const struct built *b, const struct want_node *want, size_t n)
{
        const struct nvh_plan *p = b->plan;
        const char *dev = b->dev;
        size_t k = 0, g = 0;

        check_order(p);
        for (size_t i = 0; i < p->n_ops; i++) {
                const struct nvh_op *op = &p->ops[i];
                if (op->kind == NVH_OP_CGROUP_ALLOW) {
                        assert_true(g < n);
                        assert_int_equal(op->major, want[g].major);
                        assert_int_equal(op->minor, want[g].minor);
                        g++;
                        continue;
                }
                if (op->kind != NVH_OP_MKNOD)
                        continue;
                if (k >= n)
                        fail_msg("unexpected node '%s'", op->ctr_path);
                _cleanup_free_ char *ctr = NULL, *host = NULL;
                assert_true(asprintf(&ctr, "/dev/%s", want[k].name) > 0);
                assert_true(asprintf(&host, "%s/%s", dev, want[k].name) > 0);
                assert_string_equal(op->ctr_path, ctr);
                assert_string_equal(op->host_path, host);
                assert_int_equal(op->major, want[k].major);
                assert_int_equal(op->minor, want[k].minor);
                const struct nvh_host_node *hn = nvh_host_find(b->host, want[k].name);
                assert_non_null(hn);
                assert_int_equal(op->mode, hn->mode & 0777);
                k++;
        }
        assert_int_equal(k, n);
        assert_int_equal(g, n);
        assert_int_equal(p->n_nodes, n);
}

/* Lines of a file, for comparing params. */
static char **
read_lines(const char *path, size_t *ret_n)
{
        FILE *f = fopen(path, "re");
        char **v = NULL, line[4096];
        size_t n = 0;

        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                v = realloc(v, (n + 2) * sizeof(*v));
                assert_non_null(v);
                v[n++] = strdup(line);
                v[n] = NULL;
        }
        fclose(f);
        *ret_n = n;
        return v;
}

/* version, registry, params (ModifyDeviceFiles: 0, every other host line kept, in order),
 * and the information file of exactly the selected GPUs (bus ids given). */
static void
check_proc(const struct nvh_plan *p, const char *proc, char *const *buses, size_t n_buses)
{
        static const char *const plain[] = {"version", "registry"};
        size_t n_proc = 0;

        for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
                _cleanup_free_ char *host = NULL;
                assert_true(asprintf(&host, "%s/driver/nvidia/%s", proc, plain[i]) > 0);
                assert_int_equal(count_ops(p, NVH_OP_PROC_FILE, plain[i]), 1);
                assert_string_equal(find_op(p, NVH_OP_PROC_FILE, plain[i])->host_path, host);
        }

        assert_int_equal(count_ops(p, NVH_OP_PROC_FILE, "params"), 1);
        const struct nvh_op *par = find_op(p, NVH_OP_PROC_FILE, "params");
        assert_null(par->host_path);
        assert_non_null(par->target);
        _cleanup_free_ char *host_params = NULL;
        assert_true(asprintf(&host_params, "%s/driver/nvidia/params", proc) > 0);
        size_t n_lines = 0;
        _cleanup_strv_ char **lines = read_lines(host_params, &n_lines);
        _cleanup_free_ char *content = strdup(par->target);
        char *save = NULL;
        size_t k = 0;
        bool modify_seen = false;
        assert_true(n_lines > 10);
        for (char *l = strtok_r(content, "\n", &save); l; l = strtok_r(NULL, "\n", &save), k++) {
                assert_true(k < n_lines);
                if (starts_with(lines[k], "ModifyDeviceFiles:")) {
                        assert_string_equal(l, "ModifyDeviceFiles: 0");
                        modify_seen = true;
                } else {
                        assert_string_equal(l, lines[k]);
                }
        }
        assert_int_equal(k, n_lines);
        assert_true(modify_seen);
        assert_null(strstr(par->target, "ModifyDeviceFiles: 1"));

        for (size_t i = 0; i < n_buses; i++) {
                _cleanup_free_ char *rel = NULL, *host = NULL;
                assert_true(asprintf(&rel, "gpus/%s/information", buses[i]) > 0);
                assert_true(asprintf(&host, "%s/driver/nvidia/%s", proc, rel) > 0);
                assert_int_equal(count_ops(p, NVH_OP_PROC_FILE, rel), 1);
                assert_string_equal(find_op(p, NVH_OP_PROC_FILE, rel)->host_path, host);
        }
        for (size_t i = 0; i < p->n_ops; i++) {
                if (p->ops[i].kind != NVH_OP_PROC_FILE)
                        continue;
                n_proc++;
                assert_int_equal(p->ops[i].mode, 0444);
        }
        assert_int_equal(n_proc, 3 + n_buses);
}

/* Control nodes of a proc tree: nvidiactl, nvidia-uvm, nvidia-uvm-tools, [nvidia-modeset]. */
static size_t
control_nodes(const char *proc, bool display, struct want_node *out)
{
        unsigned nv = (unsigned)nvidia_major(proc);
        int uvm = proc_major(proc, "nvidia-uvm");
        size_t n = 0;

        assert_true(nv > 0 && uvm > 0);
        out[n++] = (struct want_node){"nvidiactl", nv, 255};
        out[n++] = (struct want_node){"nvidia-uvm", (unsigned)uvm, 0};
        out[n++] = (struct want_node){"nvidia-uvm-tools", (unsigned)uvm, 1};
        if (display)
                out[n++] = (struct want_node){"nvidia-modeset", nv, 254};
        return n;
}

static void
check_everything_files(const struct nvh_plan *p, unsigned caps, const char *libdir32)
{
        check_libs(p, caps, libdir32);
        check_bins(p, caps);
        check_data(p, caps);
        check_binds_accounted(p, libdir32);
        assert_int_equal(p->caps, effective(caps));
}

/* ---- tests ---------------------------------------------------------------------------- */

static const unsigned cap_sets[] = {
    NVH_CAP_UTILITY | NVH_CAP_COMPUTE,
    NVH_CAP_UTILITY,
    NVH_CAP_COMPUTE,
    NVH_CAP_VIDEO,
    NVH_CAP_GRAPHICS,
    NVH_CAP_DISPLAY,
    NVH_CAP_NGX,
    NVH_CAP_COMPUTE | NVH_CAP_COMPAT32,
    NVH_CAP_GRAPHICS | NVH_CAP_COMPAT32,
    NVH_CAP_ALL,
    NVH_CAP_ALL & ~NVH_CAP_COMPAT32,
};

/* Driver files for every capability set, with and without a 32-bit directory; selection
 * "none" so that no device node is needed. */
static void
test_files(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(cap_sets); i++) {
                for (int v = 0; v < 4; v++) {
                        bool no32 = v == 1;
                        struct setup s = {.proc_name = "proc-1gpu",
                                          .dev_name = "dev-1gpu",
                                          .caps = cap_sets[i],
                                          .sel = NVH_DEVSEL_NONE,
                                          .libdir32 = no32 ? "" : NULL,
                                          .libc = v == 2   ? LIBC_MUSL
                                                  : v == 3 ? LIBC_NONE
                                                           : LIBC_GLIBC};
                        struct built b;
                        build(&s, &b);
                        if (b.r < 0)
                                fail_msg("caps %#x: %s", cap_sets[i], b.err.msg);
                        check_everything_files(b.plan, cap_sets[i], no32 ? "" : LIBDIR32);
                        built_free(&b);
                }
        }
}

/* The common request: utility,compute on the 1-GPU host, by index. */
static void
test_compute_1gpu(void **state)
{
        static const char *const devs[] = {"0", NULL};
        struct setup s = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs};
        struct want_node nodes[8];
        struct built b;
        (void)state;

        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        check_everything_files(b.plan, s.caps, LIBDIR32);

        /* no 32-bit library without compat32 */
        for (size_t i = 0; i < b.plan->n_ops; i++) {
                assert_false(starts_with(b.plan->ops[i].ctr_path, LIBDIR32 "/"));
                assert_false(starts_with(b.plan->ops[i].ctr_path, DLIB32 "/"));
                if (b.plan->ops[i].kind == NVH_OP_LDCACHE)
                        assert_int_equal(b.plan->ops[i].elf_class, 64);
        }

        /* development links, in the image's directory (where GNU ld's -l looks): exactly
         * those of the selected libraries with a dev name, into the driver directory */
        const struct nvh_op *l = find_op(b.plan, NVH_OP_SYMLINK, LIBDIR "/libcuda.so");
        assert_non_null(l);
        assert_string_equal(l->target, DLIB "/libcuda.so.1");
        assert_int_equal(l->flags, NVH_OPF_KEEP_IMAGE_FILE);
        l = find_op(b.plan, NVH_OP_SYMLINK, LIBDIR "/libnvidia-ml.so");
        assert_non_null(l);
        assert_string_equal(l->target, DLIB "/libnvidia-ml.so.1");
        assert_null(find_op(b.plan, NVH_OP_SYMLINK, LIBDIR "/libnvcuvid.so"));      /* video */
        assert_null(find_op(b.plan, NVH_OP_SYMLINK, DLIB "/libGLX_indirect.so.0")); /* gfx */
        assert_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvidia-glcore.so." VER));
        /* the conf file names the 64-bit driver directory only */
        const struct nvh_op *conf = find_op(b.plan, NVH_OP_FILE, NVH_PLAN_LDCONF);
        assert_non_null(conf);
        assert_non_null(strstr(conf->target, "\n" DLIB "\n"));
        assert_null(strstr(conf->target, DLIB32));

        size_t n = control_nodes(b.proc, false, nodes);
        _cleanup_free_ char *minor = env_value("NVH_PROC_1GPU_MINOR");
        nodes[n++] =
            (struct want_node){"nvidia0", (unsigned)nvidia_major(b.proc), (unsigned)atoi(minor)};
        assert_string_equal(minor, "0");
        check_nodes(&b, nodes, n);

        _cleanup_free_ char *bus = env_value("NVH_PROC_1GPU_BUS");
        char *buses[] = {bus};
        check_proc(b.plan, b.proc, buses, 1);
        assert_int_equal(b.plan->n_gpus, 1);
        built_free(&b);
}

/* compat32: every selected 32-bit library goes to the 32-bit directory. */
static void
test_compat32(void **state)
{
        struct setup s = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE | NVH_CAP_COMPAT32,
                          .sel = NVH_DEVSEL_ALL};
        struct built b;
        (void)state;

        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        size_t n = check_libs(b.plan, s.caps, LIBDIR32);
        const struct nvh_op *c = find_ldcache(b.plan, "libcuda.so.1", 32);
        assert_non_null(c);
        assert_string_equal(c->ctr_path, DLIB32 "/libcuda.so.1");
        assert_string_equal(find_op(b.plan, NVH_OP_SYMLINK, LIBDIR32 "/libcuda.so")->target,
                            DLIB32 "/libcuda.so.1");
        assert_non_null(strstr(find_op(b.plan, NVH_OP_FILE, NVH_PLAN_LDCONF)->target, DLIB32));
        /* as many 32-bit as 64-bit libraries in the fixture */
        size_t n32 = 0;
        for (size_t i = 0; i < b.plan->n_ops; i++)
                n32 += b.plan->ops[i].kind == NVH_OP_LDCACHE && b.plan->ops[i].elf_class == 32;
        assert_int_equal(n32 * 2, n);
        built_free(&b);
}

/* video brings the CUDA libraries; display brings graphics and the modeset node. */
static void
test_video_display(void **state)
{
        struct want_node nodes[8];
        struct built b;
        (void)state;

        struct setup v = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_VIDEO,
                          .sel = NVH_DEVSEL_ALL};
        build(&v, &b);
        assert_int_equal(b.r, 0);
        /* The CUDA libraries come with video (the tables say so), the MPS binaries do not. */
        assert_null(find_op(b.plan, NVH_OP_BIND, "/usr/bin/nvidia-cuda-mps-control"));
        assert_non_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libcuda.so." VER));
        assert_non_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvidia-ptxjitcompiler.so." VER));
        assert_non_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvcuvid.so." VER));
        assert_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvidia-ml.so." VER));
        assert_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvidia-glcore.so." VER));
        assert_non_null(find_op(b.plan, NVH_OP_SYMLINK, LIBDIR "/libnvcuvid.so"));
        assert_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-modeset"));
        check_everything_files(b.plan, v.caps, LIBDIR32);
        built_free(&b);

        struct setup d = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_DISPLAY,
                          .sel = NVH_DEVSEL_ALL};
        build(&d, &b);
        assert_int_equal(b.r, 0);
        assert_non_null(find_op(b.plan, NVH_OP_BIND, DLIB "/libnvidia-glcore.so." VER));
        const struct nvh_op *l = find_op(b.plan, NVH_OP_SYMLINK, DLIB "/libGLX_indirect.so.0");
        assert_non_null(l);
        assert_string_equal(l->target, "libGLX_nvidia.so.0");
        assert_string_equal(find_ldcache(b.plan, "libGLX_indirect.so.0", 64)->ctr_path,
                            DLIB "/libGLX_indirect.so.0");
        check_everything_files(b.plan, d.caps, LIBDIR32);
        size_t n = control_nodes(b.proc, true, nodes);
        nodes[n++] = (struct want_node){"nvidia0", (unsigned)nvidia_major(b.proc), 0};
        check_nodes(&b, nodes, n);
        built_free(&b);
}

/* proc-8gpu: minors out of bus order, older device names; GPUs by index, UUID and bus id,
 * in request order. */
static void
test_8gpu_order(void **state)
{
        static const size_t idx[] = {7, 0, 3, 1};
        char *devs[ARRAY_SIZE(idx) + 1] = {0};
        char *buses[ARRAY_SIZE(idx)];
        struct want_node nodes[16];
        char names[ARRAY_SIZE(idx)][32];
        struct built b;
        (void)state;

        for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
                buses[i] = env_word("NVH_PROC_8GPU_BUSES", idx[i]);
                if (i % 3 == 0)
                        assert_true(asprintf(&devs[i], "%zu", idx[i]) > 0);
                else if (i % 3 == 1)
                        devs[i] = env_word("NVH_PROC_8GPU_UUIDS", idx[i]);
                else
                        devs[i] = strdup(buses[i]);
        }
        struct setup s = {.proc_name = "proc-8gpu",
                          .dev_name = "dev-8gpu",
                          .caps = NVH_CAP_UTILITY,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = (const char *const *)devs};
        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        size_t n = control_nodes(b.proc, false, nodes);
        assert_int_equal(nodes[0].major, 195);
        for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
                _cleanup_free_ char *minor = env_word("NVH_PROC_8GPU_MINORS", idx[i]);
                snprintf(names[i], sizeof(names[i]), "nvidia%s", minor);
                nodes[n++] = (struct want_node){names[i], 195, (unsigned)atoi(minor)};
        }
        /* the fixture really has minors out of bus order */
        assert_int_not_equal(nodes[n - ARRAY_SIZE(idx)].minor, idx[0]);
        check_nodes(&b, nodes, n);
        check_proc(b.plan, b.proc, buses, ARRAY_SIZE(idx));
        assert_int_equal(b.plan->n_gpus, ARRAY_SIZE(idx));
        built_free(&b);
        for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
                free(devs[i]);
                free(buses[i]);
        }
}

/* "all": every GPU in bus order. */
static void
test_all_gpus(void **state)
{
        struct want_node nodes[80];
        char names[64][32];
        char *buses[64];
        struct built b;
        (void)state;

        struct setup s8 = {.proc_name = "proc-8gpu",
                           .dev_name = "dev-8gpu",
                           .caps = NVH_CAP_COMPUTE,
                           .sel = NVH_DEVSEL_ALL};
        build(&s8, &b);
        assert_int_equal(b.r, 0);
        size_t n = control_nodes(b.proc, false, nodes);
        for (size_t i = 0; i < 8; i++) {
                _cleanup_free_ char *minor = env_word("NVH_PROC_8GPU_MINORS", i);
                snprintf(names[i], sizeof(names[i]), "nvidia%s", minor);
                nodes[n++] = (struct want_node){names[i], 195, (unsigned)atoi(minor)};
                buses[i] = env_word("NVH_PROC_8GPU_BUSES", i);
        }
        check_nodes(&b, nodes, n);
        check_proc(b.plan, b.proc, buses, 8);
        for (size_t i = 0; i < 8; i++)
                free(buses[i]);
        built_free(&b);

        /* 64 GPUs: the minor of the i-th by bus is (i * 37) % 64 (tests/fixtures/mkprocfs.sh) */
        struct setup s64 = {.proc_name = "proc-64gpu",
                            .dev_name = "dev-64gpu",
                            .caps = NVH_CAP_COMPUTE,
                            .sel = NVH_DEVSEL_ALL};
        build(&s64, &b);
        assert_int_equal(b.r, 0);
        n = control_nodes(b.proc, false, nodes);
        unsigned nv = (unsigned)nvidia_major(b.proc);
        for (size_t i = 0; i < 64; i++) {
                snprintf(names[i], sizeof(names[i]), "nvidia%zu", (i * 37) % 64);
                nodes[n++] = (struct want_node){names[i], nv, (unsigned)((i * 37) % 64)};
        }
        check_nodes(&b, nodes, n);
        assert_int_equal(b.plan->n_gpus, 64);
        built_free(&b);
}

/* "none": driver files and control nodes, no GPU. */
static void
test_devsel_none(void **state)
{
        struct want_node nodes[8];
        struct built b;
        (void)state;

        struct setup s = {.proc_name = "proc-8gpu",
                          .dev_name = "dev-8gpu",
                          .caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE,
                          .sel = NVH_DEVSEL_NONE};
        build(&s, &b);
        assert_int_equal(b.r, 0);
        size_t n = control_nodes(b.proc, false, nodes);
        check_nodes(&b, nodes, n);
        check_proc(b.plan, b.proc, NULL, 0);
        assert_int_equal(b.plan->n_gpus, 0);
        assert_true(b.plan->n_libs > 0);
        built_free(&b);
}

static void
expect_unknown(const char *proc_name, const char *token, int want_r)
{
        const char *devs[] = {"0", token, NULL};
        struct setup s = {.proc_name = proc_name,
                          .caps = NVH_CAP_COMPUTE,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs};
        struct built b;

        build(&s, &b);
        assert_int_equal(b.r, want_r);
        assert_null(b.plan);
        if (!strstr(b.err.msg, token))
                fail_msg("message '%s' does not name '%s'", b.err.msg, token);
        built_free(&b);
}

/* Unknown devices fail before anything needs a device node, naming the token. */
static void
test_unknown_device(void **state)
{
        (void)state;
        expect_unknown("proc-1gpu", "1", -ENOENT);
        expect_unknown("proc-8gpu", "8", -ENOENT);
        expect_unknown("proc-1gpu", "GPU-00000000-1111-2222-3333-444444444444", -ENOENT);
        expect_unknown("proc-1gpu", "0000:99:00.0", -ENOENT);
        expect_unknown("proc-1gpu", "GPU-zz", -EINVAL); /* whole UUIDs only */
        expect_unknown("proc-1gpu", "abc", -EINVAL);
}

/* The same GPU by index, UUID and bus id is selected once, at its first position. */
static void
test_select_dedup(void **state)
{
        _cleanup_free_ char *proc = fx("proc-8gpu");
        _cleanup_free_ char *uuid2 = env_word("NVH_PROC_8GPU_UUIDS", 2);
        _cleanup_free_ char *bus2 = env_word("NVH_PROC_8GPU_BUSES", 2);
        _cleanup_free_ char *bus5 = env_word("NVH_PROC_8GPU_BUSES", 5);
        const char *devs[] = {"2", "5", uuid2, bus2, "5", bus5, NULL};
        static const char *const none[] = {NULL};
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_host_ struct nvh_host *host = nvh_host_new("/dev");
        struct nvh_request req = {0};
        struct nvh_selection *sel = NULL;
        struct nvh_err err = {0};
        (void)state;

        assert_int_equal(nvh_gpus_discover(proc, &sys, &err), 0);
        req.sel = NVH_DEVSEL_LIST;
        req.devices = (char **)devs;
        req.imex_channels = (char **)none;
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 2);
        assert_string_equal(sel->gpus[0]->bus_id, bus2);
        assert_string_equal(sel->gpus[0]->uuid, uuid2);
        assert_string_equal(sel->gpus[1]->bus_id, bus5);
        nvh_select_free(sel);

        /* every GPU, each once, even when the list names all of them twice */
        const char *twice[17] = {0};
        char idx[16][4];
        for (int i = 0; i < 16; i++) {
                snprintf(idx[i], sizeof(idx[i]), "%d", (i * 3) % 8);
                twice[i] = idx[i];
        }
        req.devices = (char **)twice;
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 8);
        for (size_t i = 0; i < sel->n_gpus; i++)
                assert_int_equal(sel->gpus[i]->index, (i * 3) % 8);
        nvh_select_free(sel);

        req.sel = NVH_DEVSEL_NONE;
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 0);
        nvh_select_free(sel);
        req.sel = NVH_DEVSEL_ALL;
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 8);
        nvh_select_free(sel);
}

static void
drop_uvm_tools(struct nvh_host *host)
{
        drop_node(host, "nvidia-uvm-tools");
}

static void
drop_gpu0(struct nvh_host *host)
{
        drop_uvm_tools(host);
        drop_node(host, "nvidia0");
}

static void
renumber_gpu0(struct nvh_host *host)
{
        host_node(host, "nvidia0")->minor = 7;
}

static void
regular_gpu0(struct nvh_host *host)
{
        host_node(host, "nvidia0")->mode = S_IFREG | 0644;
}

static void
unreadable_gpu0(struct nvh_host *host)
{
        host_node(host, "nvidia0")->error = -EACCES;
}

/* A missing GPU node is an error naming it; a missing optional node is skipped; a node with
 * the wrong numbers or type, or that could not be stat'ed, is refused. */
static void
test_host_nodes(void **state)
{
        struct built b;
        (void)state;

        /* no nodes: nvidiactl is required */
        struct setup s = {.proc_name = "proc-1gpu",
                          .dev_name = NULL,
                          .caps = NVH_CAP_DISPLAY,
                          .sel = NVH_DEVSEL_ALL};
        build(&s, &b);
        assert_int_equal(b.r, -ENOENT);
        assert_null(b.plan);
        assert_non_null(strstr(b.err.msg, "nvidiactl"));
        built_free(&b);

        s.dev_name = "dev-1gpu";
        s.edit_host = drop_uvm_tools;
        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-uvm"));
        assert_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-uvm-tools"));
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-modeset"));
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia0"));
        built_free(&b);

        /* the GPU node missing: an error naming it */
        s.edit_host = drop_gpu0;
        build(&s, &b);
        assert_int_equal(b.r, -ENOENT);
        assert_null(b.plan);
        assert_non_null(strstr(b.err.msg, "nvidia0': No such file or directory"));
        built_free(&b);

        /* wrong numbers (a host whose node does not match what the driver reports) */
        s.edit_host = renumber_gpu0;
        build(&s, &b);
        assert_int_equal(b.r, -EINVAL);
        assert_null(b.plan);
        assert_non_null(strstr(b.err.msg, "nvidia0"));
        built_free(&b);

        /* a regular file where the node should be */
        s.edit_host = regular_gpu0;
        build(&s, &b);
        assert_int_equal(b.r, -EINVAL);
        assert_null(b.plan);
        built_free(&b);

        /* a node discovery could not stat: its error */
        s.edit_host = unreadable_gpu0;
        build(&s, &b);
        assert_int_equal(b.r, -EACCES);
        assert_non_null(strstr(b.err.msg, "nvidia0': Permission denied"));
        built_free(&b);
}

/* params: ModifyDeviceFiles forced to 0 whatever the host file looks like; added when the
 * host has none; no host file gives just that line. */
static void
test_params(void **state)
{
        _cleanup_free_ char *proc = NULL, *params = NULL;
        struct built b;
        (void)state;

        assert_true(asprintf(&proc, "%s/proc-params", tu_tmpdir()) > 0);
        assert_true(asprintf(&params, "%s/driver/nvidia/params", proc) > 0);
        assert_int_equal(
            tu_sh("rm -rf '%s' && cp -a '%s/proc-1gpu' '%s'", proc, tu_fixtures(), proc), 0);
        static const struct {
                const char *host, *want;
        } cases[] = {
            {"A: 1\nModifyDeviceFiles: 1\nB: 2\n", "A: 1\nModifyDeviceFiles: 0\nB: 2\n"},
            {"A: 1\nB: 2", "A: 1\nB: 2\nModifyDeviceFiles: 0\n"},
            {"ModifyDeviceFiles:1", "ModifyDeviceFiles: 0\n"},
            {"", "ModifyDeviceFiles: 0\n"},
            {NULL, "ModifyDeviceFiles: 0\n"}, /* no params file */
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                if (cases[i].host)
                        tu_write_file(params, cases[i].host, strlen(cases[i].host));
                else
                        assert_int_equal(unlink(params), 0);
                struct setup s = {.proc_name = proc,
                                  .dev_name = "dev-1gpu",
                                  .caps = NVH_CAP_UTILITY,
                                  .sel = NVH_DEVSEL_NONE};
                build(&s, &b);
                if (b.r < 0)
                        fail_msg("%s", b.err.msg);
                const struct nvh_op *op = find_op(b.plan, NVH_OP_PROC_FILE, "params");
                assert_non_null(op);
                assert_string_equal(op->target, cases[i].want);
                built_free(&b);
        }
}

/* A params file of many short ModifyDeviceFiles lines (each rewritten longer): the rewrite
 * must size its buffer for the output, not the input. */
static void
test_params_growth(void **state)
{
        _cleanup_free_ char *proc = NULL, *params = NULL, *host = NULL, *want = NULL;
        const size_t lines = 3000;
        struct built b;
        (void)state;

        assert_true(asprintf(&proc, "%s/proc-growth", tu_tmpdir()) > 0);
        assert_true(asprintf(&params, "%s/driver/nvidia/params", proc) > 0);
        assert_int_equal(
            tu_sh("rm -rf '%s' && cp -a '%s/proc-1gpu' '%s'", proc, tu_fixtures(), proc), 0);
        host = malloc(lines * 19 + 1);
        want = malloc(lines * 21 + 1);
        assert_non_null(host);
        assert_non_null(want);
        for (size_t i = 0; i < lines; i++) {
                memcpy(host + i * 19, "ModifyDeviceFiles:\n", 19);
                memcpy(want + i * 21, "ModifyDeviceFiles: 0\n", 21);
        }
        tu_write_file(params, host, lines * 19);
        want[lines * 21] = '\0';
        /* in a child: an overflow corrupts the heap, which must not take the other tests */
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct setup s = {.proc_name = proc,
                                  .dev_name = "dev-1gpu",
                                  .caps = NVH_CAP_UTILITY,
                                  .sel = NVH_DEVSEL_NONE};
                build(&s, &b);
                if (b.r < 0)
                        _exit(2);
                const struct nvh_op *op = find_op(b.plan, NVH_OP_PROC_FILE, "params");
                bool same = op && op->target && streq(op->target, want);
                built_free(&b);
                _exit(same ? 0 : 3);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("params with %zu short ModifyDeviceFiles lines: child %s %d", lines,
                         WIFEXITED(st) ? "exited" : "killed by signal",
                         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* The JSON form: valid, one entry per op in order, the fields of each kind. */
static void
test_json(void **state)
{
        static const char *const devs[] = {"0", NULL};
        struct setup s = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_ALL,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs};
        struct built b;
        json_error_t jerr;
        (void)state;

        build(&s, &b);
        assert_int_equal(b.r, 0);
        _cleanup_free_ char *text = nvh_plan_to_json(b.plan, JSON_COMPACT);
        assert_non_null(text);
        json_t *root = json_loads(text, 0, &jerr);
        if (!root)
                fail_msg("plan json: %s", jerr.text);
        json_t *ops = json_object_get(root, "operations");
        assert_true(json_is_array(ops));
        assert_int_equal(json_array_size(ops), b.plan->n_ops);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(root, "layout"), "libdir")), LIBDIR);
        assert_int_equal(json_integer_value(json_object_get(root, "gpus")), 1);
        char capbuf[128];
        assert_string_equal(json_string_value(json_object_get(root, "capabilities")),
                            nvh_caps_format(NVH_CAP_ALL, capbuf, sizeof(capbuf)));
        size_t seen[NVH_OP_CGROUP_ALLOW + 1] = {0};
        for (size_t i = 0; i < b.plan->n_ops; i++) {
                const struct nvh_op *op = &b.plan->ops[i];
                json_t *o = json_array_get(ops, i);
                const char *kind = json_string_value(json_object_get(o, "op"));
                assert_non_null(kind);
                assert_string_equal(kind, nvh_plan_op_kind_name(op->kind));
                assert_string_equal(json_string_value(json_object_get(o, "why")), op->why);
                seen[op->kind]++;
                switch (op->kind) {
                case NVH_OP_BIND: {
                        json_t *fl = json_object_get(o, "flags");
                        assert_string_equal(json_string_value(json_object_get(o, "source")),
                                            op->host_path);
                        assert_string_equal(json_string_value(json_object_get(o, "target")),
                                            op->ctr_path);
                        assert_true(json_is_array(fl));
                        assert_int_equal(json_array_size(fl), __builtin_popcount(op->flags));
                        assert_string_equal(json_string_value(json_array_get(fl, 0)), "ro");
                        break;
                }
                case NVH_OP_SYMLINK:
                        assert_string_equal(json_string_value(json_object_get(o, "path")),
                                            op->ctr_path);
                        assert_string_equal(json_string_value(json_object_get(o, "target")),
                                            op->target);
                        break;
                case NVH_OP_MKNOD: {
                        char want[32];
                        snprintf(want, sizeof(want), "%u:%u", op->major, op->minor);
                        assert_string_equal(json_string_value(json_object_get(o, "device")), want);
                        break;
                }
                case NVH_OP_CGROUP_ALLOW: {
                        char want[40];
                        snprintf(want, sizeof(want), "c %u:%u rw", op->major, op->minor);
                        assert_string_equal(json_string_value(json_object_get(o, "rule")), want);
                        break;
                }
                case NVH_OP_PROC_FILE:
                        assert_string_equal(json_string_value(json_object_get(o, "path")),
                                            op->ctr_path);
                        if (!op->host_path)
                                assert_string_equal(
                                    json_string_value(json_object_get(o, "content")), op->target);
                        break;
                case NVH_OP_TMPFS:
                        assert_string_equal(json_string_value(json_object_get(o, "path")),
                                            op->ctr_path);
                        break;
                case NVH_OP_FILE:
                        assert_string_equal(json_string_value(json_object_get(o, "path")),
                                            op->ctr_path);
                        assert_string_equal(json_string_value(json_object_get(o, "content")),
                                            op->target);
                        break;
                case NVH_OP_LDCACHE:
                        assert_string_equal(json_string_value(json_object_get(o, "key")),
                                            op->target);
                        assert_string_equal(json_string_value(json_object_get(o, "value")),
                                            op->ctr_path);
                        assert_int_equal(json_integer_value(json_object_get(o, "class")),
                                         op->elf_class);
                        break;
                }
        }
        for (size_t k = 0; k < ARRAY_SIZE(seen); k++)
                if (!seen[k])
                        fail_msg("no '%s' op in an all-capabilities plan",
                                 nvh_plan_op_kind_name((enum nvh_op_kind)k));
        json_decref(root);
        built_free(&b);
}

/* ---- MIG -------------------------------------------------------------------------------- */

/* proc-mig (tests/fixtures/mkprocfs.sh): GPU index 0 is 0000:19:00.0, minor 1, with GI 1 (CI 0),
 * GI 2 (CIs 0..2) and GI 13 (CI 0), MIG index in (gi, ci) order; index 2 is 0000:5d:00.0,
 * minor 2, not MIG capable. Cap minors follow the driver's static table: gpu<M>/gi<G>/access is
 * 3 + M * 135 + G * 9 and its ci<C>/access that + 1 + C. */
static unsigned
gi_minor(unsigned gpu_minor, unsigned gi)
{
        return 3 + gpu_minor * 135 + gi * 9;
}

static unsigned
ci_minor(unsigned gpu_minor, unsigned gi, unsigned ci)
{
        return gi_minor(gpu_minor, gi) + 1 + ci;
}

static void
want_cap(struct want_node *w, char names[][48], size_t k, unsigned caps_major, unsigned minor)
{
        snprintf(names[k], 48, "nvidia-caps/nvidia-cap%u", minor);
        *w = (struct want_node){names[k], caps_major, minor};
}

static void
check_proc_copy(const struct nvh_plan *p, const char *proc, const char *rel)
{
        _cleanup_free_ char *host = NULL;

        assert_true(asprintf(&host, "%s/driver/nvidia/%s", proc, rel) > 0);
        if (count_ops(p, NVH_OP_PROC_FILE, rel) != 1)
                fail_msg("proc file '%s' %zu times", rel, count_ops(p, NVH_OP_PROC_FILE, rel));
        assert_string_equal(find_op(p, NVH_OP_PROC_FILE, rel)->host_path, host);
        assert_int_equal(access(host, R_OK), 0);
}

/* MIG devices by "<gpu>:<mig>" and "<gpu>:<gi>:<ci>", mixed with a whole GPU: the parent's
 * node once, the GI and CI access caps (a GI shared by two CIs once), the capability files
 * CUDA reads, and nothing of the MIG devices not asked for. */
static void
test_mig(void **state)
{
        static const char *const devs[] = {"0:1", "0:2", "0:2:1", "2", "0:13:0", "0:1", NULL};
        struct setup s = {.proc_name = "proc-mig",
                          .dev_name = "dev-mig",
                          .caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs};
        struct want_node nodes[16];
        char names[8][48];
        struct built b;
        (void)state;

        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        unsigned nv = (unsigned)nvidia_major(b.proc);
        int caps = proc_major(b.proc, "nvidia-caps");
        assert_true(caps > 0);
        size_t n = control_nodes(b.proc, false, nodes);
        nodes[n++] = (struct want_node){"nvidia1", nv, 1}; /* parent of 0:* (index 0) */
        nodes[n++] = (struct want_node){"nvidia2", nv, 2}; /* index 2, whole */
        size_t k = 0;
        want_cap(&nodes[n++], names, k++, (unsigned)caps, gi_minor(1, 2)); /* 0:1 = gi2/ci0 */
        want_cap(&nodes[n++], names, k++, (unsigned)caps, ci_minor(1, 2, 0));
        want_cap(&nodes[n++], names, k++, (unsigned)caps, ci_minor(1, 2, 1)); /* 0:2 = gi2/ci1 */
        want_cap(&nodes[n++], names, k++, (unsigned)caps, gi_minor(1, 13));
        want_cap(&nodes[n++], names, k++, (unsigned)caps, ci_minor(1, 13, 0));
        check_nodes(&b, nodes, n);
        for (size_t i = 0; i < b.plan->n_ops; i++)
                if (b.plan->ops[i].kind == NVH_OP_MKNOD &&
                    starts_with(b.plan->ops[i].ctr_path, "/dev/nvidia-caps/"))
                        assert_int_equal(b.plan->ops[i].mode, 0444); /* DeviceFileMode 292 */
        assert_int_equal(b.plan->n_gpus, 2);
        assert_int_equal(b.plan->n_migs, 3);

        static const char *const mig_files[] = {
            "capabilities/gpu1/mig/gi2/access", "capabilities/gpu1/mig/gi2/ci0/access",
            "capabilities/gpu1/mig/gi2/ci1/access", "capabilities/gpu1/mig/gi13/access",
            "capabilities/gpu1/mig/gi13/ci0/access"};
        for (size_t i = 0; i < ARRAY_SIZE(mig_files); i++)
                check_proc_copy(b.plan, b.proc, mig_files[i]);
        assert_int_equal(count_ops(b.plan, NVH_OP_PROC_FILE, "capabilities/gpu1/mig/gi1/access"),
                         0);
        assert_int_equal(count_ops(b.plan, NVH_OP_PROC_FILE, "capabilities/mig/config"), 0);
        assert_int_equal(count_ops(b.plan, NVH_OP_PROC_FILE, "capabilities/mig/monitor"), 0);
        char *buses[] = {"0000:19:00.0", "0000:5d:00.0"};
        check_proc_copy(b.plan, b.proc, "gpus/0000:19:00.0/information");
        check_proc_copy(b.plan, b.proc, "gpus/0000:5d:00.0/information");
        assert_int_equal(count_ops(b.plan, NVH_OP_PROC_FILE, NULL),
                         3 + ARRAY_SIZE(buses) + ARRAY_SIZE(mig_files));
        built_free(&b);
}

/* MIG config and monitor (privileged containers): their cap nodes with the driver's modes and
 * their capability files. */
static void
test_mig_config_monitor(void **state)
{
        static const char *const devs[] = {"0:0", NULL};
        struct setup s = {.proc_name = "proc-mig",
                          .dev_name = "dev-mig",
                          .caps = NVH_CAP_UTILITY,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs,
                          .mig_config_sel = NVH_DEVSEL_ALL,
                          .mig_monitor_sel = NVH_DEVSEL_ALL};
        struct want_node nodes[16];
        char names[8][48];
        struct built b;
        (void)state;

        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        unsigned caps = (unsigned)proc_major(b.proc, "nvidia-caps");
        size_t n = control_nodes(b.proc, false, nodes), k = 0;
        nodes[n++] = (struct want_node){"nvidia1", (unsigned)nvidia_major(b.proc), 1};
        want_cap(&nodes[n++], names, k++, caps, gi_minor(1, 1)); /* 0:0 = gi1/ci0 */
        want_cap(&nodes[n++], names, k++, caps, ci_minor(1, 1, 0));
        want_cap(&nodes[n++], names, k++, caps, 1); /* mig/config */
        want_cap(&nodes[n++], names, k++, caps, 2); /* mig/monitor */
        check_nodes(&b, nodes, n);
        assert_int_equal(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps/nvidia-cap1")->mode, 0400);
        assert_int_equal(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps/nvidia-cap2")->mode, 0444);
        check_proc_copy(b.plan, b.proc, "capabilities/mig/config");
        check_proc_copy(b.plan, b.proc, "capabilities/mig/monitor");
        check_proc_copy(b.plan, b.proc, "capabilities/gpu1/mig/gi1/ci0/access");
        built_free(&b);

        /* monitor only */
        s.mig_config_sel = NVH_DEVSEL_NONE;
        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        assert_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps/nvidia-cap1"));
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps/nvidia-cap2"));
        assert_int_equal(count_ops(b.plan, NVH_OP_PROC_FILE, "capabilities/mig/config"), 0);
        check_proc_copy(b.plan, b.proc, "capabilities/mig/monitor");
        built_free(&b);
}

/* MIG devices that do not exist fail naming the token, before any node is looked at. */
static void
test_mig_unknown(void **state)
{
        (void)state;
        expect_unknown("proc-mig", "0:5", -ENOENT);   /* GPU 0 has 5 MIG devices */
        expect_unknown("proc-mig", "0:2:3", -ENOENT); /* GI 2 has CIs 0..2 */
        expect_unknown("proc-mig", "0:3:0", -ENOENT); /* no GI 3 */
        expect_unknown("proc-mig", "1:0", -ENOENT);   /* MIG mode, no instances */
        expect_unknown("proc-mig", "2:0", -ENOENT);   /* not MIG capable */
        expect_unknown("proc-mig", "3:0", -ENOENT);   /* no GPU 3 */
        expect_unknown("proc-1gpu", "0:0", -ENOENT);  /* no MIG at all */
        expect_unknown("proc-mig", "MIG-4f1c9b1e-5a4d-5a4f-9f1e-2b3c4d5e6f70", -EOPNOTSUPP);
}

static void
drop_cap157(struct nvh_host *host)
{
        drop_node(host, "nvidia-caps/nvidia-cap157");
}

static void
renumber_cap157(struct nvh_host *host)
{
        host_node(host, "nvidia-caps/nvidia-cap157")->minor = 158;
}

/* The host must have the cap nodes the driver reports, with those numbers. */
static void
test_mig_host_nodes(void **state)
{
        static const char *const devs[] = {"0:1", NULL};
        struct built b;
        (void)state;

        struct setup s = {.proc_name = "proc-mig",
                          .dev_name = "dev-mig",
                          .caps = NVH_CAP_COMPUTE,
                          .sel = NVH_DEVSEL_LIST,
                          .devices = devs,
                          .edit_host = drop_cap157};
        build(&s, &b);
        assert_int_equal(b.r, -ENOENT);
        assert_null(b.plan);
        if (!strstr(b.err.msg, "nvidia-cap157"))
                fail_msg("message '%s' does not name nvidia-cap157", b.err.msg);
        built_free(&b);

        /* a node with other numbers than the capability file gives */
        s.edit_host = renumber_cap157;
        build(&s, &b);
        assert_int_equal(b.r, -EINVAL);
        assert_null(b.plan);
        if (!strstr(b.err.msg, "nvidia-cap157"))
                fail_msg("message '%s' does not name nvidia-cap157", b.err.msg);
        built_free(&b);

        /* and with it right, the plan builds */
        s.edit_host = NULL;
        build(&s, &b);
        if (b.r < 0)
                fail_msg("%s", b.err.msg);
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps/nvidia-cap157"));
        built_free(&b);
}

/* The cgroup grant of a device node. */
static const struct nvh_op *
grant_of(const struct nvh_plan *p, const struct nvh_op *node)
{
        for (size_t i = 0; i < p->n_ops; i++)
                if (p->ops[i].kind == NVH_OP_CGROUP_ALLOW && p->ops[i].major == node->major &&
                    p->ops[i].minor == node->minor)
                        return &p->ops[i];
        return NULL;
}

/* NVIDIA_IMEX_CHANNELS: channel<N> nodes of the nvidia-caps-imex-channels major, each with its
 * cgroup rule; "all" is every channel the host has; a channel the host lacks is an error. */
static void
test_imex(void **state)
{
        static const char *const one[] = {"1", NULL};
        static const char *const missing[] = {"5", NULL};
        struct built b;
        (void)state;

        struct setup s = {.proc_name = "proc-1gpu",
                          .dev_name = "dev-1gpu",
                          .caps = NVH_CAP_UTILITY,
                          .sel = NVH_DEVSEL_NONE,
                          .imex = one};
        build(&s, &b);
        assert_int_equal(b.r, 0);
        int major = b.sys->majors.nvidia_caps_imex;
        assert_true(major > 0);
        const struct nvh_op *n =
            find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps-imex-channels/channel1");
        assert_non_null(n);
        assert_int_equal(n->major, major);
        assert_int_equal(n->minor, 1);
        const struct nvh_op *c = grant_of(b.plan, n);
        assert_non_null(c);
        assert_int_equal(c->kind, NVH_OP_CGROUP_ALLOW);
        assert_int_equal(c->major, major);
        assert_int_equal(c->minor, 1);
        assert_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps-imex-channels/channel0"));
        built_free(&b);

        s.imex = NULL;
        s.imex_all = true;
        build(&s, &b);
        assert_int_equal(b.r, 0);
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps-imex-channels/channel0"));
        assert_non_null(find_op(b.plan, NVH_OP_MKNOD, "/dev/nvidia-caps-imex-channels/channel1"));
        built_free(&b);

        s.imex_all = false;
        s.imex = missing;
        build(&s, &b);
        assert_true(b.r < 0);
        assert_non_null(strstr(b.err.msg, "channel5"));
        built_free(&b);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_files),
            cmocka_unit_test(test_compute_1gpu),
            cmocka_unit_test(test_compat32),
            cmocka_unit_test(test_video_display),
            cmocka_unit_test(test_8gpu_order),
            cmocka_unit_test(test_all_gpus),
            cmocka_unit_test(test_devsel_none),
            cmocka_unit_test(test_unknown_device),
            cmocka_unit_test(test_select_dedup),
            cmocka_unit_test(test_host_nodes),
            cmocka_unit_test(test_params),
            cmocka_unit_test(test_params_growth),
            cmocka_unit_test(test_json),
            cmocka_unit_test(test_mig),
            cmocka_unit_test(test_mig_config_monitor),
            cmocka_unit_test(test_mig_unknown),
            cmocka_unit_test(test_mig_host_nodes),
            cmocka_unit_test(test_imex),
        };

        tu_fixtures();
        return cmocka_run_group_tests(tests, setup, teardown);
}
