/* SPDX-License-Identifier: Apache-2.0 */
/* lib/driver.c on the fixture trees of tests/fixtures/mkdriver.sh (real ELF files, caches by
 * ldconfig): expected sets are computed from the component tables, so a table line without
 * a fixture file (or the reverse) fails here. */
#include "testutil.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "components.h"
#include "driver.h"
#include "driver_resolve.h"
#include "kfeatures.h"
#include "elf.h"
#include "log.h"
#include "macros.h"
#include "syscalls.h"

#define VER "580.159.04"

static const char *empty_ipc; /* a host IPC root with nothing in it */

enum layout { OPERATOR, PREFIX };

static char *
root_of(enum layout l)
{
        char *p;
        assert_true(
            asprintf(&p, "%s/%s", tu_fixtures(), l == OPERATOR ? "driver" : "driver-prefix") > 0);
        return p;
}

static struct nvh_driver *
discover_at(const char *root, const char *version, unsigned caps, const char *ipc)
{
        struct nvh_driver_opts o = {.host_root = root,
                                    .version = version,
                                    .caps = caps,
                                    .host_ipc_root = ipc ? ipc : empty_ipc};
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        int r = nvh_driver_discover(&o, &drv, &err);

        if (r < 0)
                fprintf(stderr, "discover: %s\n", err.msg);
        assert_int_equal(r, 0);
        assert_non_null(drv);
        return drv;
}

static size_t
count_kind(const struct nvh_driver *drv, enum nvh_file_kind kind, int elf_class)
{
        size_t n = 0;
        for (size_t i = 0; i < drv->n_files; i++)
                if (drv->files[i].kind == kind &&
                    (!elf_class || drv->files[i].elf_class == elf_class))
                        n++;
        return n;
}

static const struct nvh_driver_file *
find_lib(const struct nvh_driver *drv, const char *name, int elf_class)
{
        size_t len = strlen(name);
        for (size_t i = 0; i < drv->n_files; i++) {
                const struct nvh_driver_file *f = &drv->files[i];
                if (f->kind == NVH_FILE_LIB && f->elf_class == elf_class &&
                    strncmp(f->soname, name, len) == 0 && strncmp(f->soname + len, ".so", 3) == 0)
                        return f;
        }
        return NULL;
}

static const struct nvh_driver_file *
find_ctr(const struct nvh_driver *drv, const char *ctr_path)
{
        for (size_t i = 0; i < drv->n_files; i++)
                if (drv->files[i].ctr_path && streq(drv->files[i].ctr_path, ctr_path))
                        return &drv->files[i];
        return NULL;
}

static bool
starts_with(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The libraries: exactly one per selected table entry and class, in the layout's directory,
 * named after the driver version (unless unversioned), whose ELF says what discovery says. */
static void
check_libs(const struct nvh_driver *drv, enum layout l, unsigned caps)
{
        _cleanup_free_ char *root = root_of(l), *dir64 = NULL, *dir32 = NULL;
        size_t n_libs, want64 = 0, want32 = 0;
        const struct nvh_component_lib *libs = nvh_components_libs(&n_libs);
        bool compat32 = (caps & NVH_CAP_COMPAT32) && l == OPERATOR;

        assert_true(
            asprintf(&dir64, "%s/%s/", root,
                     l == OPERATOR ? "usr/lib/x86_64-linux-gnu" : "usr/local/nvidia/lib64") > 0);
        assert_true(asprintf(&dir32, "%s/usr/lib/i386-linux-gnu/", root) > 0);
        for (size_t i = 0; i < n_libs; i++) {
                bool selected = libs[i].caps & caps;
                for (int cls = 32; cls <= 64; cls += 32) {
                        const struct nvh_driver_file *f = find_lib(drv, libs[i].name, cls);
                        bool want = selected && (cls == 64 || compat32);
                        if (!want) {
                                if (f)
                                        fprintf(stderr, "unexpected %s\n", f->host_path);
                                assert_null(f);
                                continue;
                        }
                        if (!f)
                                fprintf(stderr, "missing %s (%d-bit)\n", libs[i].name, cls);
                        assert_non_null(f);
                        want64 += cls == 64;
                        want32 += cls == 32;
                        assert_true(starts_with(f->host_path, cls == 64 ? dir64 : dir32));
                        const char *base = strrchr(f->host_path, '/') + 1;
                        assert_true(starts_with(base, libs[i].name));
                        if (!(libs[i].flags & NVH_COMPONENT_UNVERSIONED))
                                assert_string_equal(base + strlen(libs[i].name), ".so." VER);
                        assert_null(f->ctr_path);
                        assert_int_equal(f->caps, libs[i].caps);
                        assert_ptr_equal(f->why, libs[i].why);
                        assert_true(nvh_driver_file_selected(f, caps));

                        /* what discovery reports is what the file says */
                        struct nvh_elf_info info = {0};
                        struct nvh_err err = {0};
                        int fd = open(f->host_path, O_RDONLY | O_CLOEXEC);
                        assert_true(fd >= 0);
                        assert_int_equal(nvh_elf_read_fd(fd, f->host_path, &info, &err), 0);
                        close(fd);
                        assert_string_equal(info.soname, f->soname);
                        assert_int_equal(info.elf_class, cls);
                        nvh_elf_info_clear(&info);
                }
        }
        assert_int_equal(count_kind(drv, NVH_FILE_LIB, 64), want64);
        assert_int_equal(count_kind(drv, NVH_FILE_LIB, 32), want32);
        for (size_t i = 0; i < drv->n_files; i++) {
                assert_null(strstr(drv->files[i].host_path, "535"));
                assert_null(strstr(drv->files[i].host_path, "libexample"));
        }
}

static void
check_bins(const struct nvh_driver *drv, enum layout l, unsigned caps)
{
        _cleanup_free_ char *root = root_of(l);
        size_t n_bins, want = 0;
        const struct nvh_component_bin *bins = nvh_components_bins(&n_bins);

        for (size_t i = 0; i < n_bins; i++) {
                _cleanup_free_ char *ctr = NULL, *host = NULL;
                assert_true(asprintf(&ctr, "/usr/bin/%s", bins[i].name) > 0);
                assert_true(asprintf(&host, "%s/%s/%s", root,
                                     l == OPERATOR ? "usr/bin" : "usr/local/nvidia/bin",
                                     bins[i].name) > 0);
                const struct nvh_driver_file *f = find_ctr(drv, ctr);
                if (!(bins[i].caps & caps)) {
                        assert_null(f);
                        continue;
                }
                want++;
                assert_non_null(f);
                assert_int_equal(f->kind, NVH_FILE_BIN);
                assert_string_equal(f->host_path, host);
                assert_ptr_equal(f->why, bins[i].why);
        }
        assert_int_equal(count_kind(drv, NVH_FILE_BIN, 0), want);
}

static void
check_firmware(const struct nvh_driver *drv, enum layout l, unsigned caps)
{
        _cleanup_free_ char *root = root_of(l);
        static const char *const names[] = {"gsp_ga10x.bin", "gsp_tu10x.bin"};
        bool want = caps & (NVH_CAP_UTILITY | NVH_CAP_COMPUTE);

        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *ctr = NULL, *host = NULL;
                assert_true(asprintf(&ctr, "/lib/firmware/nvidia/" VER "/%s", names[i]) > 0);
                /* the operator root's lib -> usr/lib is resolved in host_path */
                assert_true(
                    asprintf(&host, "%s/%s/nvidia/" VER "/%s", root,
                             l == OPERATOR ? "usr/lib/firmware" : "usr/local/nvidia/firmware",
                             names[i]) > 0);
                const struct nvh_driver_file *f = find_ctr(drv, ctr);
                if (!want) {
                        assert_null(f);
                        continue;
                }
                assert_non_null(f);
                assert_int_equal(f->kind, NVH_FILE_FIRMWARE);
                assert_string_equal(f->host_path, host);
        }
        assert_int_equal(count_kind(drv, NVH_FILE_FIRMWARE, 0), want ? 2 : 0);
}

static void
check_configs(const struct nvh_driver *drv, enum layout l, unsigned caps)
{
        _cleanup_free_ char *root = root_of(l);
        bool graphics = caps & (NVH_CAP_GRAPHICS | NVH_CAP_DISPLAY);
        bool compute = caps & NVH_CAP_COMPUTE;
        struct {
                const char *ctr, *host_rel;
                bool want;
        } cases[] = {
            {"/usr/share/vulkan/icd.d/nvidia_icd.json",
             l == OPERATOR ? "usr/share/vulkan/icd.d/nvidia_icd.json"
                           : "usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json",
             graphics},
            {"/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
             l == OPERATOR ? "usr/share/glvnd/egl_vendor.d/10_nvidia.json"
                           : "usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json",
             graphics},
            {"/usr/share/vulkan/implicit_layer.d/nvidia_layers.json",
             "usr/share/vulkan/implicit_layer.d/nvidia_layers.json", graphics && l == OPERATOR},
            {"/usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json",
             "usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json",
             graphics && l == OPERATOR},
            {"/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json",
             "usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json", graphics && l == OPERATOR},
            {"/usr/share/egl/egl_external_platform.d/20_nvidia_xcb.json",
             "usr/share/egl/egl_external_platform.d/20_nvidia_xcb.json", graphics && l == OPERATOR},
            {"/usr/share/egl/egl_external_platform.d/20_nvidia_xlib.json",
             "usr/share/egl/egl_external_platform.d/20_nvidia_xlib.json",
             graphics && l == OPERATOR},
            {"/usr/share/nvidia/nvoptix.bin", "usr/share/nvidia/nvoptix.bin",
             graphics && l == OPERATOR},
            {"/etc/OpenCL/vendors/nvidia.icd", "etc/OpenCL/vendors/nvidia.icd",
             compute && l == OPERATOR},
        };
        size_t want = 0;

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const struct nvh_driver_file *f = find_ctr(drv, cases[i].ctr);
                if (!cases[i].want) {
                        assert_null(f);
                        continue;
                }
                want++;
                if (!f)
                        fprintf(stderr, "missing %s\n", cases[i].ctr);
                assert_non_null(f);
                _cleanup_free_ char *host = NULL;
                assert_true(asprintf(&host, "%s/%s", root, cases[i].host_rel) > 0);
                assert_string_equal(f->host_path, host);
                assert_int_equal(f->kind, NVH_FILE_CONFIG);
        }
        assert_int_equal(count_kind(drv, NVH_FILE_CONFIG, 0), want);
        for (size_t i = 0; i < drv->n_files; i++)
                assert_null(strstr(drv->files[i].host_path, "mesa"));
}

static void
check_all(enum layout l, unsigned caps)
{
        _cleanup_free_ char *root = root_of(l);
        struct nvh_driver *drv = discover_at(root, VER, caps, NULL);

        check_libs(drv, l, caps);
        check_bins(drv, l, caps);
        check_firmware(drv, l, caps);
        check_configs(drv, l, caps);
        assert_int_equal(count_kind(drv, NVH_FILE_SOCKET, 0) + count_kind(drv, NVH_FILE_DIR, 0), 0);
        assert_int_equal(drv->n_skipped, 0);
        assert_string_equal(drv->version, VER);
        assert_string_equal(drv->host_root, root);
        /* no duplicates */
        for (size_t i = 0; i < drv->n_files; i++)
                for (size_t j = i + 1; j < drv->n_files; j++)
                        assert_string_not_equal(drv->files[i].host_path, drv->files[j].host_path);
        nvh_driver_free(drv);
}

static const unsigned cap_sets[] = {
    NVH_CAP_UTILITY,
    NVH_CAP_COMPUTE,
    NVH_CAP_VIDEO,
    NVH_CAP_GRAPHICS,
    NVH_CAP_DISPLAY,
    NVH_CAP_NGX,
    NVH_CAP_COMPAT32,
    NVH_CAP_UTILITY | NVH_CAP_COMPUTE,
    NVH_CAP_COMPUTE | NVH_CAP_COMPAT32,
    NVH_CAP_GRAPHICS | NVH_CAP_COMPAT32,
    NVH_CAP_ALL,
    NVH_CAP_ALL & ~NVH_CAP_COMPAT32,
};

static void
test_operator_layout(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(cap_sets); i++)
                check_all(OPERATOR, cap_sets[i]);
}

static void
test_prefix_layout(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(cap_sets); i++)
                check_all(PREFIX, cap_sets[i]);
}

/* Absolute numbers, so that a table and fixture that shrank together still fail. */
static void
test_counts(void **state)
{
        _cleanup_free_ char *op = root_of(OPERATOR), *pre = root_of(PREFIX);
        struct nvh_driver *drv;
        _cleanup_free_ char *want_prefix = NULL;

        drv = discover_at(op, VER, NVH_CAP_ALL, NULL);
        assert_int_equal(count_kind(drv, NVH_FILE_LIB, 64), 39);
        assert_int_equal(count_kind(drv, NVH_FILE_LIB, 32), 39);
        assert_int_equal(drv->n_files, 39 * 2 + 6 + 2 + 9);
        nvh_driver_free(drv);

        drv = discover_at(pre, VER, NVH_CAP_ALL, NULL);
        assert_int_equal(drv->n_files, 39 + 6 + 2 + 2);
        assert_true(asprintf(&want_prefix, "%s/usr/local/nvidia", pre) > 0);
        assert_string_equal(drv->host_prefix, want_prefix);
        nvh_driver_free(drv);

        /* video brings the CUDA libraries, not the compute binaries or the OpenCL ICD */
        drv = discover_at(op, VER, NVH_CAP_VIDEO, NULL);
        assert_non_null(find_lib(drv, "libcuda", 64));
        assert_non_null(find_lib(drv, "libnvcuvid", 64));
        assert_null(find_ctr(drv, "/usr/bin/nvidia-cuda-mps-control"));
        assert_null(find_ctr(drv, "/etc/OpenCL/vendors/nvidia.icd"));
        assert_null(find_lib(drv, "libnvidia-ml", 64));
        nvh_driver_free(drv);

        /* compat32 alone selects nothing */
        drv = discover_at(op, VER, NVH_CAP_COMPAT32, NULL);
        assert_int_equal(drv->n_files, 0);
        nvh_driver_free(drv);
}

/* The same tree with another running version: the leftovers are the driver now. */
static void
test_other_version(void **state)
{
        _cleanup_free_ char *op = root_of(OPERATOR);
        struct nvh_driver *drv = discover_at(op, "535.54.03", NVH_CAP_ALL, NULL);
        const struct nvh_driver_file *f;

        f = find_lib(drv, "libcuda", 64);
        assert_non_null(f);
        assert_true(strstr(f->host_path, "/usr/lib/nvidia-535/libcuda.so.535.54.03") != NULL);
        assert_string_equal(f->soname, "libcuda.so.1");
        assert_non_null(find_lib(drv, "libnvidia-glcore", 64));
        /* versioned libraries of 580 are not taken; the unversioned EGL platforms are */
        assert_null(find_lib(drv, "libnvidia-ml", 64));
        assert_null(find_lib(drv, "libcuda", 32));
        assert_non_null(find_lib(drv, "libnvidia-egl-wayland", 64));
        assert_int_equal(count_kind(drv, NVH_FILE_LIB, 64), 2 + 5);
        assert_int_equal(count_kind(drv, NVH_FILE_FIRMWARE, 0), 1);
        assert_non_null(find_ctr(drv, "/lib/firmware/nvidia/535.54.03/gsp_ga10x.bin"));
        nvh_driver_free(drv);
}

static void
test_errors(void **state)
{
        _cleanup_free_ char *op = root_of(OPERATOR);
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        struct nvh_driver_opts o = {.host_root = op,
                                    .version = VER,
                                    .caps = NVH_CAP_ALL,
                                    .rel_ldcache = "etc/no-such.cache"};

        assert_true(nvh_driver_discover(&o, &drv, &err) == -ENOENT);
        assert_null(drv);
        assert_non_null(strstr(err.msg, "no-such.cache"));
        assert_non_null(strstr(err.msg, op));

        /* a corrupt cache is the cache module's -EBADMSG, naming the file */
        _cleanup_free_ char *bad = NULL;
        assert_true(asprintf(&bad, "%s/bad.cache", tu_tmpdir()) > 0);
        tu_write_file(bad, "glibc-ld.so.cache1.1 garbage", 28);
        o.host_root = tu_tmpdir();
        o.rel_ldcache = "bad.cache";
        assert_true(nvh_driver_discover(&o, &drv, &err) < 0);
        assert_non_null(strstr(err.msg, "bad.cache"));

        o.host_root = "/nonexistent-driver-root";
        o.rel_ldcache = NULL;
        assert_int_equal(nvh_driver_discover(&o, &drv, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "/nonexistent-driver-root"));

        o.host_root = "relative/root";
        assert_int_equal(nvh_driver_discover(&o, &drv, &err), -EINVAL);

        o.host_root = op;
        o.version = "../../etc";
        assert_int_equal(nvh_driver_discover(&o, &drv, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "../../etc"));
        o.version = "";
        assert_int_equal(nvh_driver_discover(&o, &drv, &err), -EINVAL);
        o.version = NULL;
        assert_int_equal(nvh_driver_discover(&o, &drv, &err), -EINVAL);
        assert_null(drv);
}

/* A copy of the operator tree, damaged after ldconfig ran: the cache still names the files. */
static char *
copy_tree(const char *name)
{
        _cleanup_free_ char *op = root_of(OPERATOR);
        char *dst;

        assert_true(asprintf(&dst, "%s/%s", tu_tmpdir(), name) > 0);
        assert_int_equal(tu_sh("rm -rf '%s' && cp -a '%s' '%s'", dst, op, dst), 0);
        return dst;
}

/* Decision: a corrupt candidate is skipped with a warning and counted in n_skipped; the rest
 * of the driver is still injected (one broken file must not take every GPU container down). */
static void
test_corrupt_lib_skipped(void **state)
{
        _cleanup_free_ char *root = copy_tree("corrupt");
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/usr/lib/x86_64-linux-gnu/libnvidia-cfg.so." VER, root) > 0);
        tu_write_file(path, "not an ELF file\n", 16);
        /* and a truncated one */
        assert_int_equal(
            tu_sh("truncate -s 100 '%s/usr/lib/x86_64-linux-gnu/libnvidia-nscq.so." VER "'", root),
            0);
        /* a 32-bit file where the cache says 64-bit */
        assert_int_equal(tu_sh("cp '%s/usr/lib/i386-linux-gnu/libcuda.so." VER "' "
                               "'%s/usr/lib/x86_64-linux-gnu/libcuda.so." VER "'",
                               root, root),
                         0);
        /* another machine (e_machine = EM_AARCH64) */
        free(path);
        assert_true(asprintf(&path, "%s/usr/lib/x86_64-linux-gnu/libnvidia-opencl.so." VER, root) >
                    0);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        uint16_t em = EM_AARCH64;
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, &em, sizeof(em), offsetof(Elf64_Ehdr, e_machine)), 2);
        close(fd);

        nvh_log_set_level(NVH_LOG_ERROR); /* the warnings are expected */
        struct nvh_driver *drv = discover_at(root, VER, NVH_CAP_UTILITY | NVH_CAP_COMPUTE, NULL);
        nvh_log_set_level(NVH_LOG_WARN);
        assert_int_equal(drv->n_skipped, 4);
        assert_null(find_lib(drv, "libnvidia-cfg", 64));
        assert_null(find_lib(drv, "libnvidia-nscq", 64));
        assert_null(find_lib(drv, "libcuda", 64));
        assert_null(find_lib(drv, "libnvidia-opencl", 64));
        assert_non_null(find_lib(drv, "libnvidia-ml", 64));
        assert_non_null(find_lib(drv, "libcudadebugger", 64));
        nvh_driver_free(drv);
}

/* Symlinks inside the driver root never lead out of it. */
static void
test_symlinks_stay_in_root(void **state)
{
        _cleanup_free_ char *root = copy_tree("links");
        _cleanup_free_ char *want = NULL;
        const char *dir = "usr/lib/x86_64-linux-gnu";

        /* absolute target: resolved against the driver root, not the host */
        assert_int_equal(
            tu_sh("cd '%s/%s' && ln -sfn /%s/libcuda.so." VER " libcuda.so.1", root, dir, dir), 0);
        /* ".." beyond the root stays at the root */
        assert_int_equal(
            tu_sh("cd '%s/%s' && ln -sfn ../../../../../../../../%s/libnvidia-ml.so." VER
                  " libnvidia-ml.so.1",
                  root, dir, dir),
            0);
        /* a link to a host file that exists on the host only: dangling inside the root */
        assert_int_equal(tu_sh("cd '%s/%s' && ln -sfn /etc/hostname libnvidia-cfg.so.1", root, dir),
                         0);
        nvh_log_set_level(NVH_LOG_ERROR);
        struct nvh_driver *drv = discover_at(root, VER, NVH_CAP_UTILITY | NVH_CAP_COMPUTE, NULL);
        nvh_log_set_level(NVH_LOG_WARN);

        assert_true(asprintf(&want, "%s/%s/libcuda.so." VER, root, dir) > 0);
        assert_string_equal(find_lib(drv, "libcuda", 64)->host_path, want);
        free(want);
        assert_true(asprintf(&want, "%s/%s/libnvidia-ml.so." VER, root, dir) > 0);
        assert_string_equal(find_lib(drv, "libnvidia-ml", 64)->host_path, want);
        assert_null(find_lib(drv, "libnvidia-cfg", 64));
        assert_int_equal(drv->n_skipped, 1);
        for (size_t i = 0; i < drv->n_files; i++)
                assert_true(starts_with(drv->files[i].host_path, root));
        nvh_driver_free(drv);
}

static void
test_resolve(void **state)
{
        const char *t = tu_tmpdir();
        _cleanup_free_ char *r = NULL;
        struct nvh_err err = {0};
        int root_fd;

        assert_int_equal(tu_sh("mkdir -p %s/rr/a/b && touch %s/rr/a/b/f && ln -sfn /a %s/rr/abs && "
                               "ln -sfn loop2 %s/rr/loop1 && ln -sfn loop1 %s/rr/loop2 && "
                               "ln -sfn ../../../.. %s/rr/a/up && ln -sfn b/f %s/rr/a/rel",
                               t, t, t, t, t, t, t),
                         0);
        char path[4096];
        snprintf(path, sizeof(path), "%s/rr", t);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);

        assert_int_equal(nvh_driver_resolve(root_fd, "/abs/b/f", &r, &err), 0);
        assert_string_equal(r, "a/b/f");
        free(r);
        assert_int_equal(nvh_driver_resolve(root_fd, "a/up/a/./b/../rel", &r, &err), 0);
        assert_string_equal(r, "a/b/f");
        free(r);
        assert_int_equal(nvh_driver_resolve(root_fd, "a/up", &r, &err), 0);
        assert_string_equal(r, "");
        free(r);
        r = NULL;
        assert_int_equal(nvh_driver_resolve(root_fd, "loop1", &r, &err), -ELOOP);
        assert_non_null(strstr(err.msg, "loop1"));
        assert_int_equal(nvh_driver_resolve(root_fd, "a/b/f/x", &r, &err), -ENOTDIR);
        assert_int_equal(nvh_driver_resolve(root_fd, "a/missing", &r, &err), -ENOENT);
        assert_null(r);
        close(root_fd);
}

/* The walker-only open (no openat2, as on kernels before 5.6 or under a seccomp filter that
 * refuses it) finds exactly the same driver. */
static void
test_fallback_same_result(void **state)
{
        nvh_kfeatures_force_fallbacks(true);
        for (size_t i = 0; i < ARRAY_SIZE(cap_sets); i++) {
                check_all(OPERATOR, cap_sets[i]);
                check_all(PREFIX, cap_sets[i]);
        }
        test_corrupt_lib_skipped(state);
        test_symlinks_stay_in_root(state);
        nvh_kfeatures_force_fallbacks(false);
}

/* Cache values whose cheap name (the memoised directory plus one link target) is not the
 * file: the walker's answer must win, with and without openat2. */
static void
check_tricky_links(const char *root)
{
        const char *dir = "usr/lib/x86_64-linux-gnu";
        _cleanup_free_ char *want = NULL;

        nvh_log_set_level(NVH_LOG_ERROR);
        struct nvh_driver *drv =
            discover_at(root, VER, NVH_CAP_UTILITY | NVH_CAP_COMPUTE | NVH_CAP_COMPAT32, NULL);
        nvh_log_set_level(NVH_LOG_WARN);
        /* soname -> "<lib>.so.535.54.03" -> the 580 file: taken, by its real name */
        assert_true(asprintf(&want, "%s/%s/libcuda.so." VER, root, dir) > 0);
        assert_non_null(find_lib(drv, "libcuda", 64));
        assert_string_equal(find_lib(drv, "libcuda", 64)->host_path, want);
        /* soname -> "<lib>.so.580.159.04" -> "<lib>.so.real": not named for the version */
        assert_null(find_lib(drv, "libnvidia-ml", 64));
        /* a link target with a directory in it */
        free(want);
        assert_true(asprintf(&want, "%s/%s/libnvidia-ptxjitcompiler.so." VER, root, dir) > 0);
        assert_string_equal(find_lib(drv, "libnvidia-ptxjitcompiler", 64)->host_path, want);
        /* a FIFO where the library should be: skipped, never waited on */
        assert_null(find_lib(drv, "libnvidia-cfg", 64));
        /* the 32-bit libcuda: dangling link, a warning as before */
        assert_null(find_lib(drv, "libcuda", 32));
        assert_int_equal(drv->n_skipped, 2);
        for (size_t i = 0; i < drv->n_files; i++)
                assert_true(starts_with(drv->files[i].host_path, root));
        nvh_driver_free(drv);
}

static void
test_tricky_links(void **state)
{
        _cleanup_free_ char *root = copy_tree("tricky");
        const char *dir = "usr/lib/x86_64-linux-gnu";

        assert_int_equal(tu_sh("cd '%s/%s' && ln -sfn libcuda.so." VER " libcuda.so.535.54.03 && "
                               "ln -sfn libcuda.so.535.54.03 libcuda.so.1 && "
                               "mv libnvidia-ml.so." VER " libnvidia-ml.so.real && "
                               "ln -sfn libnvidia-ml.so.real libnvidia-ml.so." VER " && "
                               "ln -sfn ../x86_64-linux-gnu/libnvidia-ptxjitcompiler.so." VER
                               " libnvidia-ptxjitcompiler.so.1 && "
                               "rm libnvidia-cfg.so." VER " && mkfifo libnvidia-cfg.so." VER " && "
                               "rm ../i386-linux-gnu/libcuda.so." VER,
                               root, dir),
                         0);
        check_tricky_links(root);
        nvh_kfeatures_force_fallbacks(true);
        check_tricky_links(root);
        nvh_kfeatures_force_fallbacks(false);
}

/* The open refuses a link anywhere in the path when openat2 is there (a directory swapped
 * for a link after it was resolved), and the last component in either case. */
static void
test_resolve_open(void **state)
{
        const char *t = tu_tmpdir();
        char path[4096];
        struct nvh_open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
        int root_fd, fd;
        bool have_openat2;

        assert_int_equal(tu_sh("mkdir -p %s/ro/a/b && echo x > %s/ro/a/b/f && "
                               "ln -sfn a %s/ro/dirlink && ln -sfn b/f %s/ro/a/flink",
                               t, t, t, t),
                         0);
        snprintf(path, sizeof(path), "%s/ro", t);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        fd = nvh_sys_openat2(root_fd, "a/b/f", &how, sizeof(how));
        have_openat2 = fd >= 0;
        if (fd >= 0)
                close(fd);

        for (int fallback = 0; fallback <= 1; fallback++) {
                nvh_kfeatures_force_fallbacks(fallback);
                fd = nvh_driver_resolve_open(root_fd, "a/b/f");
                assert_true(fd >= 0);
                close(fd);
                assert_int_equal(nvh_driver_resolve_open(root_fd, "a/flink"), -ELOOP);
                assert_int_equal(nvh_driver_resolve_open(root_fd, "a/missing"), -ENOENT);
                fd = nvh_driver_resolve_open(root_fd, "dirlink/b/f");
                if (have_openat2 && !fallback) {
                        assert_int_equal(fd, -ELOOP);
                } else {
                        assert_true(fd >= 0);
                        close(fd);
                }
        }
        nvh_kfeatures_force_fallbacks(false);

        /* the cheap name: memo miss, plain name, link with a directory in it */
        struct nvh_driver_memo memo = {0};
        struct nvh_err err = {0};
        char *r = NULL;
        bool verified = false;
        assert_int_equal(nvh_driver_resolve_guess(root_fd, "dirlink/flink", &memo, &r, &verified),
                         1);
        assert_int_equal(nvh_driver_resolve_cached(root_fd, "dirlink/flink", &memo, &r, &err), 0);
        assert_string_equal(r, "a/b/f");
        free(r);
        assert_int_equal(nvh_driver_resolve_guess(root_fd, "dirlink/flink", &memo, &r, &verified),
                         1);
        assert_int_equal(nvh_driver_resolve_guess(root_fd, "dirlink/b", &memo, &r, &verified), 0);
        assert_string_equal(r, "a/b");
        assert_true(verified);
        free(r);
        assert_int_equal(nvh_driver_resolve_guess(root_fd, "dirlink/..", &memo, &r, &verified), 1);
        nvh_driver_resolve_memo_clear(&memo);
        close(root_fd);
}

static void
make_socket(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
}

static void
test_ipc(void **state)
{
        _cleanup_free_ char *op = root_of(OPERATOR), *ipc = NULL, *p = NULL;
        struct nvh_driver *drv;
        const struct nvh_driver_file *f;

        assert_true(asprintf(&ipc, "%s/ipc", tu_tmpdir()) > 0);
        assert_int_equal(tu_sh("mkdir -p %s/run/nvidia-persistenced %s/run/nvidia-fabricmanager "
                               "%s/tmp/nvidia-mps",
                               ipc, ipc, ipc),
                         0);
        assert_true(asprintf(&p, "%s/run/nvidia-persistenced/socket", ipc) > 0);
        make_socket(p);
        free(p);
        /* not a socket: ignored */
        assert_true(asprintf(&p, "%s/run/nvidia-fabricmanager/socket", ipc) > 0);
        tu_write_file(p, "x", 1);

        drv = discover_at(op, VER, NVH_CAP_UTILITY, ipc);
        f = find_ctr(drv, "/run/nvidia-persistenced/socket");
        assert_non_null(f);
        assert_int_equal(f->kind, NVH_FILE_SOCKET);
        assert_true(starts_with(f->host_path, ipc));
        assert_null(find_ctr(drv, "/tmp/nvidia-mps"));
        nvh_driver_free(drv);

        drv = discover_at(op, VER, NVH_CAP_COMPUTE, ipc);
        assert_null(find_ctr(drv, "/run/nvidia-persistenced/socket"));
        assert_null(find_ctr(drv, "/run/nvidia-fabricmanager/socket"));
        f = find_ctr(drv, "/tmp/nvidia-mps");
        assert_non_null(f);
        assert_int_equal(f->kind, NVH_FILE_DIR);
        nvh_driver_free(drv);
}

static void
test_selected(void **state)
{
        struct nvh_driver_file lib32 = {
            .kind = NVH_FILE_LIB, .caps = NVH_CAP_COMPUTE, .elf_class = 32};
        struct nvh_driver_file lib64 = {
            .kind = NVH_FILE_LIB, .caps = NVH_CAP_COMPUTE, .elf_class = 64};

        assert_false(nvh_driver_file_selected(&lib32, NVH_CAP_COMPUTE));
        assert_true(nvh_driver_file_selected(&lib32, NVH_CAP_COMPUTE | NVH_CAP_COMPAT32));
        assert_false(nvh_driver_file_selected(&lib32, NVH_CAP_COMPAT32));
        assert_true(nvh_driver_file_selected(&lib64, NVH_CAP_COMPUTE));
        assert_false(nvh_driver_file_selected(&lib64, NVH_CAP_UTILITY));
        assert_string_equal(nvh_driver_file_kind_name(NVH_FILE_FIRMWARE), "firmware");
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_operator_layout),
            cmocka_unit_test(test_prefix_layout),
            cmocka_unit_test(test_counts),
            cmocka_unit_test(test_other_version),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_corrupt_lib_skipped),
            cmocka_unit_test(test_symlinks_stay_in_root),
            cmocka_unit_test(test_resolve),
            cmocka_unit_test(test_fallback_same_result),
            cmocka_unit_test(test_tricky_links),
            cmocka_unit_test(test_resolve_open),
            cmocka_unit_test(test_ipc),
            cmocka_unit_test(test_selected),
        };
        static char ipc[4096];

        tu_fixtures();
        snprintf(ipc, sizeof(ipc), "%s/empty-ipc", tu_tmpdir());
        if (mkdir(ipc, 0755) < 0)
                return 1;
        empty_ipc = ipc;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
