/* SPDX-License-Identifier: Apache-2.0 */
/* GPU discovery from procfs (lib/gpus.c) on the trees tests/fixtures/mkprocfs.sh generates,
 * and on copies of them damaged one way at a time. The trees are files, not procfs: the real
 * /proc/driver/nvidia needs the NVIDIA kernel module, which this machine cannot load. */
#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpus.h"
#include "host.h"
#include "pci.h"
#include "select.h"
#include "macros.h"

static char *
fx(const char *name)
{
        char *p;

        assert_true(asprintf(&p, "%s/%s", tu_fixtures(), name) > 0);
        return p;
}

/* A private copy of a fixture tree, to damage. */
static char *
copy_tree(const char *name)
{
        static int n;
        char *dst;

        assert_true(asprintf(&dst, "%s/%s-%d", tu_tmpdir(), name, n++) > 0);
        assert_int_equal(tu_sh("cp -a '%s/%s' '%s'", tu_fixtures(), name, dst), 0);
        return dst;
}

/* Write dir/rel, creating parents (without a shell: test_gpu_limit writes 1025 files). */
static void
write_str(const char *dir, const char *rel, const char *s)
{
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *p = '/';
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
        close(fd);
}

/* Value of KEY=... in procfs.env (quotes stripped); caller frees. */
static char *
env_value(const char *key)
{
        char path[4096], line[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/procfs.env", tu_fixtures());
        f = fopen(path, "re");
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
        fail_msg("no %s in procfs.env", key);
        return NULL;
}

static size_t
split_words(char *s, char **words, size_t max)
{
        size_t n = 0;

        for (char *save = NULL, *w = strtok_r(s, " ", &save); w && n < max;
             w = strtok_r(NULL, " ", &save))
                words[n++] = w;
        return n;
}

static struct nvh_system *
discover_ok(const char *proc)
{
        struct nvh_system *sys = NULL;
        struct nvh_err err = {};
        int r;

        r = nvh_gpus_discover(proc, &sys, &err);
        if (r < 0)
                fail_msg("discover '%s': %d %s", proc, r, err.msg);
        assert_non_null(sys);
        return sys;
}

/* Discover must fail with code, and its message must hold every needle. */
static void
discover_fails(const char *proc, int code, const char *needle1, const char *needle2)
{
        struct nvh_system *sys = NULL;
        struct nvh_err err = {};
        int r;

        r = nvh_gpus_discover(proc, &sys, &err);
        if (r != code)
                fail_msg("discover '%s': want %d, got %d '%s'", proc, code, r, err.msg);
        assert_null(sys);
        assert_int_equal(err.code, code);
        if (needle1 && !strstr(err.msg, needle1))
                fail_msg("message '%s' lacks '%s'", err.msg, needle1);
        if (needle2 && !strstr(err.msg, needle2))
                fail_msg("message '%s' lacks '%s'", err.msg, needle2);
        assert_null(strchr(err.msg, '\n'));
}

static void
test_1gpu(void **state)
{
        _cleanup_free_ char *proc = fx("proc-1gpu");
        _cleanup_free_ char *uuid = env_value("NVH_PROC_1GPU_UUID");
        _cleanup_free_ char *bus = env_value("NVH_PROC_1GPU_BUS");
        _cleanup_free_ char *version = env_value("NVH_PROC_DRIVER_VERSION");
        _cleanup_gpus_ struct nvh_system *sys = discover_ok(proc);
        const struct nvh_gpu *g;

        assert_string_equal(sys->driver_version, version);
        assert_true(sys->open_module);
        assert_string_equal(sys->gcc_version, "gcc version 15.3.0 (GCC)");
        assert_int_equal(sys->n_gpus, 1);
        assert_int_equal(sys->n_excluded, 0);
        g = &sys->gpus[0];
        assert_int_equal(g->index, 0);
        assert_int_equal(g->minor, 0);
        assert_string_equal(g->uuid, uuid);
        assert_string_equal(g->bus_id, bus);
        assert_string_equal(g->proc_name, bus);
        assert_string_equal(g->model, "NVIDIA H200");
        assert_string_equal(g->firmware, "580.159.04");
        assert_string_equal(g->vbios, "96.00.a5.00.1a");
        assert_true(g->mig_capable);
        assert_int_equal(g->n_migs, 0);
        assert_null(g->migs);

        /* Current drivers' /proc/devices names. */
        assert_int_equal(sys->majors.nvidia, 195);
        assert_int_equal(sys->majors.nvidia_uvm, 238);
        assert_int_equal(sys->majors.nvidia_nvswitch, 239);
        assert_int_equal(sys->majors.nvidia_nvlink, 240);
        assert_int_equal(sys->majors.nvidia_caps, 241);
        assert_int_equal(sys->majors.nvidia_caps_imex, 242);

        assert_int_equal(sys->mig_config.minor, 1);
        assert_int_equal(sys->mig_config.mode, 0400);
        assert_int_equal(sys->mig_monitor.minor, 2);
        assert_int_equal(sys->mig_monitor.mode, 0444);
        assert_int_equal(sys->imex_mgmt.minor, 4323);
        assert_int_equal(sys->imex_mgmt.mode, 0400);
}

static void
test_8gpu_order(void **state)
{
        _cleanup_free_ char *proc = fx("proc-8gpu");
        _cleanup_free_ char *buses = env_value("NVH_PROC_8GPU_BUSES");
        _cleanup_free_ char *minors = env_value("NVH_PROC_8GPU_MINORS");
        _cleanup_free_ char *uuids = env_value("NVH_PROC_8GPU_UUIDS");
        _cleanup_gpus_ struct nvh_system *sys = discover_ok(proc);
        char *bus[8], *minor[8], *uuid[8];
        bool minor_order = true;

        assert_int_equal(split_words(buses, bus, 8), 8);
        assert_int_equal(split_words(minors, minor, 8), 8);
        assert_int_equal(split_words(uuids, uuid, 8), 8);
        assert_int_equal(sys->n_gpus, 8);
        for (size_t i = 0; i < 8; i++) {
                const struct nvh_gpu *g = &sys->gpus[i];

                /* The fixture lists bus ids in PCI order: index i is the i-th of them. */
                if (i > 0)
                        assert_true(strcmp(bus[i - 1], bus[i]) < 0);
                if (i > 0 && atoi(minor[i - 1]) > atoi(minor[i]))
                        minor_order = false;
                assert_int_equal(g->index, i);
                assert_string_equal(g->bus_id, bus[i]);
                assert_int_equal(g->minor, (unsigned)atoi(minor[i]));
                assert_string_equal(g->uuid, uuid[i]);
                assert_string_equal(g->model, "NVIDIA H200");
                assert_string_equal(g->firmware, "580.159.04");
                assert_true(g->mig_capable);
        }
        /* Otherwise sorting by minor would pass too. */
        assert_false(minor_order);

        /* Older drivers' /proc/devices names: nvidia-frontend, no nvswitch or nvlink. */
        assert_int_equal(sys->majors.nvidia, 195);
        assert_int_equal(sys->majors.nvidia_uvm, 509);
        assert_int_equal(sys->majors.nvidia_caps, 508);
        assert_int_equal(sys->majors.nvidia_caps_imex, 507);
        assert_int_equal(sys->majors.nvidia_nvswitch, -1);
        assert_int_equal(sys->majors.nvidia_nvlink, -1);
}

static void
test_64gpu(void **state)
{
        _cleanup_free_ char *proc = fx("proc-64gpu");
        _cleanup_gpus_ struct nvh_system *sys = discover_ok(proc);

        assert_int_equal(sys->n_gpus, 64);
        for (size_t i = 0; i < 64; i++) {
                const struct nvh_gpu *g = &sys->gpus[i];
                char bus[32];

                assert_int_equal(g->index, i);
                /* mkprocfs.sh: the i-th GPU by bus has domain i/16, minor (i * 37) % 64. */
                snprintf(bus, sizeof(bus), "%04zx:%02zx:00.0", i / 16, 0x10 + (i % 16) * 0x0b);
                assert_string_equal(g->bus_id, bus);
                assert_int_equal(g->minor, (i * 37) % 64);
                assert_int_equal(strncmp(g->uuid, "GPU-", 4), 0);
                assert_int_equal(strlen(g->uuid), 40);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(sys->gpus[j].uuid, g->uuid);
        }

        /* How fast this is, is a benchmark's business, not a test's: bench/bench.sh times
         * discovery and the whole hook on this 64-GPU tree. */
}

static void
test_mig(void **state)
{
        _cleanup_free_ char *proc = fx("proc-mig");
        _cleanup_gpus_ struct nvh_system *sys = discover_ok(proc);
        /* (gi, ci) in index order; minors from the driver's static table (nv-caps.c):
         * gpu<M>/gi<G>/access = 3 + M*135 + G*9, its ci<C>/access = that + 1 + C. */
        static const unsigned want[][2] = {{1, 0}, {2, 0}, {2, 1}, {2, 2}, {13, 0}};
        const struct nvh_gpu *g;
        const struct nvh_mig *m;
        struct nvh_err err = {};

        assert_int_equal(sys->n_gpus, 3);
        g = &sys->gpus[0];
        assert_string_equal(g->bus_id, "0000:19:00.0");
        assert_int_equal(g->minor, 1);
        assert_true(g->mig_capable);
        assert_int_equal(g->n_migs, ARRAY_SIZE(want));
        for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                m = &g->migs[i];
                assert_int_equal(m->index, i);
                assert_int_equal(m->gi, want[i][0]);
                assert_int_equal(m->ci, want[i][1]);
                assert_int_equal(m->gi_access.minor, 3 + 135 + want[i][0] * 9);
                assert_int_equal(m->ci_access.minor, 3 + 135 + want[i][0] * 9 + 1 + want[i][1]);
                assert_int_equal(m->gi_access.mode, 0444);
                assert_int_equal(m->ci_access.mode, 0444);
        }
        /* MIG enabled, no instances; then a GPU that is not MIG capable at all. */
        assert_int_equal(sys->gpus[1].minor, 0);
        assert_true(sys->gpus[1].mig_capable);
        assert_int_equal(sys->gpus[1].n_migs, 0);
        assert_int_equal(sys->gpus[2].minor, 2);
        assert_false(sys->gpus[2].mig_capable);

        /* "<gpu>:<mig index>", nvidia-container-toolkit's form. */
        g = NULL;
        m = NULL;
        assert_int_equal(nvh_select_find_mig(sys, "0:0", &g, &m, &err), 0);
        assert_ptr_equal(g, &sys->gpus[0]);
        assert_int_equal(m->gi, 1);
        assert_int_equal(nvh_select_find_mig(sys, "0:4", &g, &m, &err), 0);
        assert_int_equal(m->gi, 13);
        assert_int_equal(m->ci, 0);
        /* "<gpu>:<gi>:<ci>", exact ids. */
        assert_int_equal(nvh_select_find_mig(sys, "0:2:1", &g, &m, &err), 0);
        assert_int_equal(m->index, 2);
        assert_int_equal(m->ci_access.minor, 3 + 135 + 18 + 1 + 1);

        assert_int_equal(nvh_select_find_mig(sys, "0:5", &g, &m, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "'0:5'"));
        assert_int_equal(nvh_select_find_mig(sys, "0:2:3", &g, &m, &err), -ENOENT);
        assert_int_equal(nvh_select_find_mig(sys, "1:0", &g, &m, &err), -ENOENT);
        assert_int_equal(nvh_select_find_mig(sys, "3:0", &g, &m, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "'3:0'"));
        assert_int_equal(
            nvh_select_find_mig(sys, "MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f", &g, &m, &err),
            -EOPNOTSUPP);
        assert_non_null(strstr(err.msg, "MIG-5c89852c"));
        for (const char **t =
                 (const char *[]){"0:x", "0", "0:", ":0", "0:0:0:0", "0::0", "", "0:-1", NULL};
             *t; t++) {
                assert_int_equal(nvh_select_find_mig(sys, *t, &g, &m, &err), -EINVAL);
                assert_non_null(strstr(err.msg, *t));
        }
        /* A GPU token is not a MIG token and the other way round. */
        assert_int_equal(nvh_select_find_gpu(sys, "0:0", &g, &err), -EOPNOTSUPP);
}

static void
find_is(const struct nvh_system *sys, const char *token, unsigned index)
{
        const struct nvh_gpu *g = NULL;
        struct nvh_err err = {};
        int r;

        r = nvh_select_find_gpu(sys, token, &g, &err);
        if (r != 0)
                fail_msg("find '%s': %d %s", token, r, err.msg);
        assert_non_null(g);
        assert_int_equal(g->index, index);
}

static void
find_fails(const struct nvh_system *sys, const char *token, int code)
{
        const struct nvh_gpu *g = NULL;
        struct nvh_err err = {};
        int r;

        r = nvh_select_find_gpu(sys, token, &g, &err);
        if (r != code)
                fail_msg("find '%s': want %d, got %d '%s'", token, code, r, err.msg);
        assert_null(g);
        if (!strstr(err.msg, token))
                fail_msg("message '%s' does not quote '%s'", err.msg, token);
}

static void
test_find(void **state)
{
        _cleanup_free_ char *proc = fx("proc-8gpu");
        _cleanup_gpus_ struct nvh_system *sys = discover_ok(proc);
        char buf[96];

        for (unsigned i = 0; i < sys->n_gpus; i++) {
                const struct nvh_gpu *g = &sys->gpus[i];

                snprintf(buf, sizeof(buf), "%u", i);
                find_is(sys, buf, i);
                find_is(sys, g->uuid, i);
                for (char *p = buf + snprintf(buf, sizeof(buf), "%s", g->uuid); p-- > buf;)
                        *p = (char)toupper((unsigned char)*p);
                find_is(sys, buf, i); /* "GPU-0B93C2D9-..." */
                buf[0] = 'g';
                find_is(sys, buf, i); /* "gPU-..." */
                find_is(sys, g->bus_id, i);
                snprintf(buf, sizeof(buf), "0000%s", g->bus_id); /* nvidia-smi's 8-digit domain */
                for (char *p = buf; *p; p++)
                        *p = (char)toupper((unsigned char)*p);
                find_is(sys, buf, i);
                find_is(sys, g->bus_id + 5, i); /* "3b:00.0" */
        }
        find_is(sys, "0000:3B:00.0", 1);
        find_is(sys, "3B:0.0", 1);
        find_is(sys, "007", 7);

        /* Not found: well-formed tokens that name no GPU. */
        find_fails(sys, "8", -ENOENT);
        find_fails(sys, "999999999", -ENOENT);
        find_fails(sys, "0000:3c:00.0", -ENOENT);
        find_fails(sys, "0001:3b:00.0", -ENOENT);
        find_fails(sys, "GPU-00000000-0000-0000-0000-000000000000", -ENOENT);
        /* Whole UUIDs only (toolkit behaviour): a prefix, even a unique one, is malformed. */
        snprintf(buf, sizeof(buf), "%.12s", sys->gpus[0].uuid);
        find_fails(sys, buf, -EINVAL);
        snprintf(buf, sizeof(buf), "%sa", sys->gpus[0].uuid);
        find_fails(sys, buf, -EINVAL);
        /* Malformed. */
        find_fails(sys, "99999999999999999999999", -EINVAL);
        find_fails(sys, "foo", -EINVAL);
        find_fails(sys, "-1", -EINVAL);
        find_fails(sys, "+1", -EINVAL);
        find_fails(sys, " 1", -EINVAL);
        find_fails(sys, "3b:00.8", -EINVAL);
        find_fails(sys, "3b:20.0", -EINVAL);
        find_fails(sys, "3b:00", -EINVAL);
        find_fails(sys, "1:3b:00.0:0", -EINVAL);
        find_fails(sys, "123456789:3b:00.0", -EINVAL);
        find_fails(sys, "all", -EINVAL);
        find_fails(sys, "0:1", -EOPNOTSUPP);
        find_fails(sys, "MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f", -EOPNOTSUPP);
}

static void
test_bus_id(void **state)
{
        char buf[32];

        assert_int_equal(nvh_pci_normalize("00000000:3B:00.0", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0000:3b:00.0");
        assert_int_equal(nvh_pci_normalize("3b:1f.7", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0000:3b:1f.7");
        assert_int_equal(nvh_pci_normalize("1a2b3:3b:00.1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1a2b3:3b:00.1");
        assert_int_equal(nvh_pci_normalize("3b:00.0 ", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(nvh_pci_normalize("3g:00.0", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(nvh_pci_normalize("100:00.0", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(nvh_pci_normalize(":00.0", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(nvh_pci_normalize("", buf, sizeof(buf)), -EINVAL);
}

static void
test_missing_driver(void **state)
{
        _cleanup_free_ char *dir = NULL;
        char want[4200];

        assert_true(asprintf(&dir, "%s/nodriver", tu_tmpdir()) > 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_str(dir, "devices", "Character devices:\n  1 mem\n\nBlock devices:\n  7 loop\n");
        snprintf(want, sizeof(want), "no NVIDIA driver loaded ('%s/driver/nvidia/version' missing)",
                 dir);
        discover_fails(dir, -ENOENT, want, NULL);
        discover_fails("/nonexistent-proc", -ENOENT, "/nonexistent-proc", NULL);
}

static void
test_version_forms(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-1gpu");
        struct nvh_system *sys;

        write_str(dir, "driver/nvidia/version",
                  "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  Tue Jun  6 22:20:39 "
                  "UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14) \n");
        sys = discover_ok(dir);
        assert_string_equal(sys->driver_version, "535.54.03");
        assert_false(sys->open_module);
        assert_string_equal(sys->gcc_version, "gcc version 12.2.0 (Debian 12.2.0-14)");
        nvh_gpus_free(sys);

        write_str(dir, "driver/nvidia/version",
                  "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64 595.71.05\n");
        sys = discover_ok(dir);
        assert_string_equal(sys->driver_version, "595.71.05");
        assert_true(sys->open_module);
        assert_string_equal(sys->gcc_version, "");
        nvh_gpus_free(sys);

        write_str(dir, "driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module\n");
        discover_fails(dir, -EBADMSG, "driver/nvidia/version", "no driver version");
        write_str(dir, "driver/nvidia/version", "Linux version 6.18\n");
        discover_fails(dir, -EBADMSG, "driver/nvidia/version", "NVRM version");
        write_str(dir, "driver/nvidia/version", "");
        discover_fails(dir, -EBADMSG, "driver/nvidia/version", NULL);
        write_str(dir, "driver/nvidia/version",
                  "NVRM version: NVIDIA UNIX Open Kernel Module  1.2.3.4.5.6.7.8.9.10.11.12.13.14."
                  "15.16.17.18.19.20.21.22.23.24.25.26\n");
        discover_fails(dir, -EBADMSG, "driver/nvidia/version", "too long");
}

static void
test_devices(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-1gpu");
        struct nvh_system *sys;

        /* No NVIDIA majors at all: every one is -1, discovery still succeeds. */
        write_str(dir, "devices",
                  "Character devices:\n  1 mem\n195 nvidiactl\n\nBlock devices:\n"
                  "195 nvidia\n");
        sys = discover_ok(dir);
        assert_int_equal(sys->majors.nvidia, -1);
        assert_int_equal(sys->majors.nvidia_uvm, -1);
        assert_int_equal(sys->majors.nvidia_caps, -1);
        assert_int_equal(sys->majors.nvidia_caps_imex, -1);
        nvh_gpus_free(sys);

        write_str(dir, "devices", "  1 mem\n195 nvidia\n");
        discover_fails(dir, -EBADMSG, "/devices'", "Character devices");
        write_str(dir, "devices", "Character devices:\n99999 nvidia\n");
        discover_fails(dir, -EBADMSG, "/devices'", "99999");
        write_str(dir, "devices", "Character devices:\n195nvidia\n");
        discover_fails(dir, -EBADMSG, "/devices'", "195nvidia");
        write_str(dir, "devices", "Character devices:\n195 nvidia\n196 nvidia-frontend\n");
        discover_fails(dir, -EBADMSG, "/devices'", "two majors");
        write_str(dir, "devices", "Character devices:\n-1 nvidia\n");
        discover_fails(dir, -EBADMSG, "/devices'", NULL);
        assert_int_equal(tu_sh("rm '%s/devices'", dir), 0);
        discover_fails(dir, -ENOENT, "/devices'", NULL);
}

static const char info_fmt[] = "Model: \t\t NVIDIA H200\n"
                               "IRQ:   \t\t 41\n"
                               "GPU UUID: \t %s\n"
                               "Video BIOS: \t 96.00.a5.00.1a\n"
                               "Bus Type: \t PCIe\n"
                               "Bus Location: \t %s\n"
                               "Device Minor: \t %s\n"
                               "GPU Excluded:\t %s\n";

static void
write_info(const char *dir, const char *bus, const char *uuid, const char *minor,
           const char *excluded)
{
        char rel[256], body[1024];

        snprintf(rel, sizeof(rel), "driver/nvidia/gpus/%s/information", bus);
        snprintf(body, sizeof(body), info_fmt, uuid, bus, minor, excluded);
        write_str(dir, rel, body);
}

static void
test_information_corrupt(void **state)
{
        const char *bus = "0000:00:06.0", *uuid = "GPU-f2970313-eeec-6c1a-863d-9fd42867fd68";
        const char *rel = "driver/nvidia/gpus/0000:00:06.0/information";
        _cleanup_free_ char *dir = copy_tree("proc-1gpu");
        char big[8192];
        struct nvh_system *sys;

        write_info(dir, bus, uuid, "0", "No");
        sys = discover_ok(dir);
        assert_string_equal(sys->gpus[0].firmware, ""); /* no "GPU Firmware" line: optional */
        nvh_gpus_free(sys);

        write_str(dir, rel, "Model: \t\t NVIDIA H200\nBus Location: \t 0000:00:06.0\n");
        discover_fails(dir, -EBADMSG, rel, "Device Minor");
        write_str(dir, rel, "Model: \t\t NVIDIA H200\nDevice Minor: \t 0\n");
        discover_fails(dir, -EBADMSG, rel, "Bus Location");
        write_str(dir, rel, "Device Minor: \t 0\nBus Location: \t 0000:00:06.0\n");
        discover_fails(dir, -EBADMSG, rel, "Model");
        write_info(dir, bus, uuid, "255", "No");
        discover_fails(dir, -EBADMSG, rel, "'255'");
        write_info(dir, bus, uuid, "254", "No");
        discover_fails(dir, -EBADMSG, rel, "'254'");
        write_info(dir, bus, uuid, "0x1", "No");
        discover_fails(dir, -EBADMSG, rel, "Device Minor");
        write_info(dir, bus, uuid, "4294967296", "No");
        discover_fails(dir, -EBADMSG, rel, "Device Minor");
        write_info(dir, bus, uuid, "0\nDevice Minor: \t 1", "No");
        discover_fails(dir, -EBADMSG, rel, "two 'Device Minor'");
        write_info(dir, "0000:00:07.0", uuid, "0", "No");
        assert_int_equal(
            tu_sh("mv '%s/driver/nvidia/gpus/0000:00:07.0/information' '%s/%s'", dir, dir, rel), 0);
        assert_int_equal(tu_sh("rm -r '%s/driver/nvidia/gpus/0000:00:07.0'", dir), 0);
        discover_fails(dir, -EBADMSG, rel, "does not match");
        write_info(dir, bus, "GPU-f2970313;rm -rf /", "0", "No");
        discover_fails(dir, -EBADMSG, rel, "GPU UUID");
        write_info(dir, bus, uuid, "0", "Maybe");
        discover_fails(dir, -EBADMSG, rel, "GPU Excluded");
        write_str(dir, rel,
                  "Model: \t\t NVIDIA\x1b[2J H200\nDevice Minor: 0\nBus Location: 0000:00:06.0\n");
        discover_fails(dir, -EBADMSG, rel, "unprintable");
        write_str(dir, rel, "Model: \t\t NVIDIA H200\nno colon here\n");
        discover_fails(dir, -EBADMSG, rel, "without ':'");
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        memcpy(big, "Model: ", 7);
        write_str(dir, rel, big);
        discover_fails(dir, -E2BIG, rel, "larger than");
        big[300] = '\0';
        write_str(dir, rel, big);
        discover_fails(dir, -EBADMSG, rel, "'Model' longer than");
        {
                char path[4096];
                int fd;

                snprintf(path, sizeof(path), "%s/%s", dir, rel);
                fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "Model: a\0b\n", 11), 11);
                close(fd);
                discover_fails(dir, -EBADMSG, rel, "NUL");
        }

        /* An uninitialized GPU's UUID ("GPU-????????-...") is unknown, not malformed. */
        char unknown[] = "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
        for (char *p = unknown + 4; *p; p++)
                *p = *p == 'x' ? '?' : *p;
        write_info(dir, bus, unknown, "0", "No");
        sys = discover_ok(dir);
        assert_string_equal(sys->gpus[0].uuid, "");
        assert_int_equal(sys->gpus[0].minor, 0);
        {
                const struct nvh_gpu *g = NULL;
                struct nvh_err err = {};
                assert_int_equal(nvh_select_find_gpu(sys, unknown, &g, &err), -EINVAL);
        }
        nvh_gpus_free(sys);

        /* A directory that is not a bus id. */
        write_info(dir, bus, uuid, "0", "No");
        write_str(dir, "driver/nvidia/gpus/foo/information", "x");
        discover_fails(dir, -EBADMSG, "driver/nvidia/gpus/foo'", "not a pci bus id");
        assert_int_equal(tu_sh("rm -r '%s/driver/nvidia/gpus/foo'", dir), 0);
        assert_int_equal(tu_sh("rm '%s/%s'", dir, rel), 0);
        discover_fails(dir, -ENOENT, rel, NULL);

        /* A driver with no GPU bound has no gpus directory. */
        assert_int_equal(tu_sh("rm -r '%s/driver/nvidia/gpus'", dir), 0);
        sys = discover_ok(dir);
        assert_int_equal(sys->n_gpus, 0);
        assert_null(sys->gpus);
        nvh_gpus_free(sys);
}

static void
test_duplicates_and_excluded(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-8gpu");
        _cleanup_free_ char *uuids = env_value("NVH_PROC_8GPU_UUIDS");
        char *uuid[8];
        struct nvh_system *sys;

        assert_int_equal(split_words(uuids, uuid, 8), 8);
        /* Index 1 (0000:3b:00.0, minor 1) given index 0's minor 3. */
        write_info(dir, "0000:3b:00.0", uuid[1], "3", "No");
        discover_fails(dir, -EBADMSG, "share minor 3", "0000:19:00.0");
        write_info(dir, "0000:3b:00.0", uuid[0], "1", "No");
        discover_fails(dir, -EBADMSG, "share uuid", uuid[0]);

        /* Excluded GPUs are dropped and the indexes close up, as NVML's do. */
        write_info(dir, "0000:3b:00.0", uuid[1], "1", "Yes");
        sys = discover_ok(dir);
        assert_int_equal(sys->n_gpus, 7);
        assert_int_equal(sys->n_excluded, 1);
        assert_string_equal(sys->gpus[0].bus_id, "0000:19:00.0");
        assert_string_equal(sys->gpus[1].bus_id, "0000:4c:00.0");
        for (size_t i = 0; i < sys->n_gpus; i++) {
                assert_int_equal(sys->gpus[i].index, i);
                assert_string_not_equal(sys->gpus[i].uuid, uuid[1]);
        }
        nvh_gpus_free(sys);
}

static void
test_open_lazy(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-8gpu");
        _cleanup_free_ char *minors = env_value("NVH_PROC_8GPU_MINORS");
        _cleanup_free_ char *uuids = env_value("NVH_PROC_8GPU_UUIDS");
        char *minor[8], *uuid[8];
        const struct nvh_gpu *g = NULL;
        struct nvh_system *sys = NULL;
        struct nvh_err err = {};

        assert_int_equal(split_words(minors, minor, 8), 8);
        assert_int_equal(split_words(uuids, uuid, 8), 8);
        assert_int_equal(nvh_gpus_open(dir, &sys, &err), 0);
        assert_int_equal(sys->n_gpus, 8);
        for (size_t i = 0; i < 8; i++) {
                assert_false(sys->gpus[i].loaded);
                assert_int_equal(sys->gpus[i].index, i);
        }
        /* Index and bus id resolve from directory names; loading fills in the rest. */
        find_is(sys, "3", 3);
        find_is(sys, "9b:00.0", 4);
        assert_false(sys->gpus[4].loaded);
        assert_int_equal(nvh_gpus_load(sys, 4, &err), 0);
        assert_true(sys->gpus[4].loaded);
        assert_int_equal(sys->gpus[4].minor, (unsigned)atoi(minor[4]));
        assert_string_equal(sys->gpus[4].uuid, uuid[4]);
        assert_false(sys->gpus[3].loaded);
        assert_int_equal(nvh_gpus_load(sys, 8, &err), -ENOENT);
        /* A UUID needs every GPU's information. */
        assert_int_equal(nvh_select_find_gpu(sys, uuid[2], &g, &err), -ENODATA);
        assert_non_null(strstr(err.msg, uuid[2]));
        assert_int_equal(nvh_gpus_load_all(sys, &err), 0);
        find_is(sys, uuid[2], 2);
        assert_int_equal(sys->gpus[2].minor, (unsigned)atoi(minor[2]));
        nvh_gpus_free(sys);

        /* The driver excludes a GPU its params did not name: the lazy index would be wrong. */
        write_info(dir, "0000:3b:00.0", uuid[1], minor[1], "Yes");
        sys = NULL;
        assert_int_equal(nvh_gpus_open(dir, &sys, &err), 0);
        assert_int_equal(nvh_gpus_load(sys, 1, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "0000:3b:00.0/information"));
        nvh_gpus_free(sys);

        /* Params that exclude GPUs, or no params at all: everything is loaded up front. */
        assert_int_equal(tu_sh("sed -i 's/^ExcludedGpus: .*/ExcludedGpus: \"%s\"/' "
                               "'%s/driver/nvidia/params'",
                               uuid[1], dir),
                         0);
        sys = NULL;
        assert_int_equal(nvh_gpus_open(dir, &sys, &err), 0);
        assert_int_equal(sys->n_gpus, 7);
        assert_int_equal(sys->n_excluded, 1);
        for (size_t i = 0; i < sys->n_gpus; i++)
                assert_true(sys->gpus[i].loaded);
        nvh_gpus_free(sys);
        write_info(dir, "0000:3b:00.0", uuid[1], minor[1], "No");
        assert_int_equal(tu_sh("rm '%s/driver/nvidia/params'", dir), 0);
        sys = NULL;
        assert_int_equal(nvh_gpus_open(dir, &sys, &err), 0);
        assert_int_equal(sys->n_gpus, 8);
        assert_true(sys->gpus[7].loaded);
        nvh_gpus_free(sys);
}

static void
test_caps_corrupt(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-mig");
        const char *ci = "driver/nvidia/capabilities/gpu1/mig/gi2/ci1/access";
        struct nvh_system *sys;

        write_str(dir, "driver/nvidia/capabilities/mig/config", "DeviceFileMode: 256\n");
        discover_fails(dir, -EBADMSG, "capabilities/mig/config'", "DeviceFileMinor");
        write_str(dir, "driver/nvidia/capabilities/mig/config",
                  "DeviceFileMinor: 1\nDeviceFileMode: 99999\n");
        discover_fails(dir, -EBADMSG, "capabilities/mig/config'", "DeviceFileMode");
        write_str(dir, "driver/nvidia/capabilities/mig/config",
                  "DeviceFileMinor: 1\nDeviceFileMode: 256\nDeviceFileModify: 1\n");

        /* The minor is the capability file's own, whatever the static table says. */
        write_str(dir, ci, "DeviceFileMinor: 4000\nDeviceFileModify: 1\n");
        sys = discover_ok(dir);
        assert_int_equal(sys->gpus[0].migs[2].ci_access.minor, 4000);
        assert_int_equal(sys->gpus[0].migs[2].ci_access.mode, -1);
        nvh_gpus_free(sys);
        write_str(dir, ci, "DeviceFileMinor: x\n");
        discover_fails(dir, -EBADMSG, ci, "DeviceFileMinor");
        assert_int_equal(tu_sh("rm '%s/%s'", dir, ci), 0);
        discover_fails(dir, -EBADMSG, ci, "missing");
        write_str(dir, ci, "DeviceFileMinor: 159\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
        write_str(dir, "driver/nvidia/capabilities/gpu1/mig/gi2/access",
                  "DeviceFileMinor: 1048576\n");
        discover_fails(dir, -EBADMSG, "gpu1/mig/gi2/access'", "1048576");
        write_str(dir, "driver/nvidia/capabilities/gpu1/mig/gi2/access", "DeviceFileMinor: 156\n");

        /* Names the driver never writes are not instances. */
        assert_int_equal(tu_sh("mkdir -p '%s/driver/nvidia/capabilities/gpu1/mig/gi01' "
                               "'%s/driver/nvidia/capabilities/gpu1/mig/gi1/cix' "
                               "'%s/driver/nvidia/capabilities/gpu1/mig/gi999'",
                               dir, dir, dir),
                         0);
        sys = discover_ok(dir);
        assert_int_equal(sys->gpus[0].n_migs, 5);
        nvh_gpus_free(sys);
}

static void
test_gpu_limit(void **state)
{
        _cleanup_free_ char *dir = copy_tree("proc-1gpu");
        char bus[32], uuid[64], minor[16];

        assert_int_equal(tu_sh("rm -r '%s/driver/nvidia/gpus'", dir), 0);
        for (unsigned i = 0; i <= NVH_GPUS_MAX; i++) {
                snprintf(bus, sizeof(bus), "%04x:%02x:00.0", i >> 8, i & 0xff);
                snprintf(uuid, sizeof(uuid), "GPU-%08x-0000-0000-0000-000000000000", i);
                snprintf(minor, sizeof(minor), "%u", i < 254 ? i : i + 2);
                write_info(dir, bus, uuid, minor, "No");
        }
        discover_fails(dir, -E2BIG, "more than 1024 gpus", NULL);
}

/* The host's device nodes, scanned as any user: symlinks to /dev/null (char 1:3) stand in for
 * the driver's nodes. Only nvidia* entries and the two node directories are taken; a dangling
 * link is left out; a regular file is kept with its type, for the plan to refuse. */
static void
test_host_scan(void **state)
{
        _cleanup_free_ char *dev = NULL, *missing = NULL;
        struct nvh_host *host = NULL;
        const struct nvh_host_node *n;
        struct nvh_err err = {};

        (void)state;
        assert_true(asprintf(&dev, "%s/host-dev", tu_tmpdir()) > 0);
        assert_int_equal(tu_sh("mkdir -p '%s/nvidia-caps' '%s/nvidia-caps-imex-channels' '%s/sub' "
                               "&& cd '%s' && ln -s /dev/null nvidiactl && ln -s /dev/null nvidia0 "
                               "&& ln -s /dev/null null && ln -s /nonexistent nvidia9 "
                               "&& ln -s /dev/null nvidia-caps/nvidia-cap1 "
                               "&& ln -s /dev/null nvidia-caps-imex-channels/channel3 "
                               "&& ln -s /dev/null sub/nvidia1 && echo x >nvidia-fake",
                               dev, dev, dev, dev),
                         0);
        assert_int_equal(nvh_host_scan(dev, &host, &err), 0);
        assert_string_equal(host->host_dev, dev);
        for (const char **name = (const char *[]){"nvidiactl", "nvidia0", "nvidia-caps/nvidia-cap1",
                                                  "nvidia-caps-imex-channels/channel3", NULL};
             *name; name++) {
                n = nvh_host_find(host, *name);
                if (!n)
                        fail_msg("'%s' not scanned", *name);
                assert_int_equal(n->error, 0);
                assert_true(S_ISCHR(n->mode));
                assert_int_equal(n->major, 1);
                assert_int_equal(n->minor, 3);
        }
        n = nvh_host_find(host, "nvidia-fake");
        assert_non_null(n);
        assert_true(S_ISREG(n->mode));
        assert_null(nvh_host_find(host, "nvidia9"));
        assert_null(nvh_host_find(host, "null"));
        assert_null(nvh_host_find(host, "sub/nvidia1"));
        assert_int_equal(host->n_nodes, 5);
        /* Added nodes replace scanned ones (tests build hosts this way). */
        assert_int_equal(nvh_host_add_node(host, "nvidia0", S_IFCHR | 0600, 195, 0, &err), 0);
        n = nvh_host_find(host, "nvidia0");
        assert_int_equal(n->major, 195);
        assert_int_equal(n->mode, S_IFCHR | 0600);
        assert_int_equal(host->n_nodes, 5);
        nvh_host_free(host);

        /* No dev root: no nodes, not an error. */
        assert_true(asprintf(&missing, "%s/no-such-dev", tu_tmpdir()) > 0);
        host = NULL;
        assert_int_equal(nvh_host_scan(missing, &host, &err), 0);
        assert_int_equal(host->n_nodes, 0);
        nvh_host_free(host);
}

static struct nvh_request
request_of(enum nvh_devsel sel, const char *const *devices)
{
        static const char *const none[] = {NULL};
        struct nvh_request req = {0};

        req.gpu_container = true;
        req.sel = sel;
        req.devices = (char **)(devices ? devices : none);
        req.imex_channels = (char **)none;
        return req;
}

/* The selector resolves tokens once, loading only the GPUs it selects: index and bus id from
 * the directory listing, UUIDs after loading every GPU. Dedup keeps request order. */
static void
test_select(void **state)
{
        _cleanup_free_ char *proc8 = fx("proc-8gpu"), *procmig = fx("proc-mig");
        _cleanup_free_ char *uuids = env_value("NVH_PROC_8GPU_UUIDS");
        _cleanup_host_ struct nvh_host *host = nvh_host_new("/nowhere");
        struct nvh_system *sys = NULL;
        struct nvh_selection *sel = NULL;
        struct nvh_request req;
        struct nvh_err err = {};
        char *uuid[8];

        (void)state;
        assert_non_null(host);
        assert_int_equal(split_words(uuids, uuid, 8), 8);
        assert_int_equal(nvh_gpus_open(proc8, &sys, &err), 0);
        assert_non_null(strstr(sys->params, "ModifyDeviceFiles"));
        req = request_of(NVH_DEVSEL_LIST, (const char *[]){"3", "0000:9b:00.0", "3", NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 2);
        assert_int_equal(sel->gpus[0]->index, 3);
        assert_int_equal(sel->gpus[1]->index, 4);
        assert_int_equal(sel->n_migs, 0);
        for (size_t i = 0; i < sys->n_gpus; i++)
                assert_int_equal(sys->gpus[i].loaded, i == 3 || i == 4);
        nvh_select_free(sel);

        /* A UUID: every GPU loaded, then matched whole. */
        req = request_of(NVH_DEVSEL_LIST, (const char *[]){"1", uuid[2], NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 2);
        assert_int_equal(sel->gpus[1]->index, 2);
        for (size_t i = 0; i < sys->n_gpus; i++)
                assert_true(sys->gpus[i].loaded);
        nvh_select_free(sel);

        req = request_of(NVH_DEVSEL_ALL, NULL);
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 8);
        nvh_select_free(sel);
        req = request_of(NVH_DEVSEL_NONE, NULL);
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 0);
        nvh_select_free(sel);

        sel = NULL;
        req = request_of(NVH_DEVSEL_LIST, (const char *[]){"0", "8", NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "'8'"));
        assert_null(sel);
        nvh_gpus_free(sys);

        /* MIG devices: by index and by GI/CI ids, their parent once, a whole GPU beside. */
        sys = NULL;
        assert_int_equal(nvh_gpus_open(procmig, &sys, &err), 0);
        req = request_of(NVH_DEVSEL_LIST, (const char *[]){"0:1", "0:2:1", "2", "0:2:0", NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_gpus, 2);
        assert_int_equal(sel->gpus[0]->index, 0);
        assert_int_equal(sel->gpus[1]->index, 2);
        assert_int_equal(sel->n_migs, 2); /* "0:1" is gi2/ci0, as "0:2:0" */
        assert_int_equal(sel->migs[0].mig->gi, 2);
        assert_int_equal(sel->migs[0].mig->ci, 0);
        assert_int_equal(sel->migs[1].mig->ci, 1);
        assert_ptr_equal(sel->migs[1].gpu, &sys->gpus[0]);
        assert_false(sys->gpus[1].loaded);
        nvh_select_free(sel);
        req = request_of(NVH_DEVSEL_LIST,
                         (const char *[]){"MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f", NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.msg, "mig uuid 'MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f'"));
        req = request_of(NVH_DEVSEL_LIST, (const char *[]){"1:0", NULL});
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "'1:0'"));
        nvh_gpus_free(sys);
}

/* IMEX channels: listed ones as asked (existence is the plan's check), "all" every channel
 * node of the host, in ascending order. */
static void
test_select_imex(void **state)
{
        _cleanup_free_ char *proc = fx("proc-1gpu");
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_host_ struct nvh_host *host = nvh_host_new("/nowhere");
        struct nvh_selection *sel = NULL;
        struct nvh_request req = request_of(NVH_DEVSEL_NONE, NULL);
        struct nvh_err err = {};

        (void)state;
        assert_int_equal(nvh_gpus_open(proc, &sys, &err), 0);
        assert_int_equal(
            nvh_host_add_node(host, NVH_HOST_IMEX_DIR "/channel7", S_IFCHR | 0666, 500, 7, &err),
            0);
        assert_int_equal(
            nvh_host_add_node(host, NVH_HOST_IMEX_DIR "/channel2", S_IFCHR | 0666, 500, 2, &err),
            0);
        assert_int_equal(
            nvh_host_add_node(host, NVH_HOST_IMEX_DIR "/channelx", S_IFCHR | 0666, 500, 9, &err),
            0);
        req.imex_all = true;
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_imex, 2);
        assert_int_equal(sel->imex[0], 2);
        assert_int_equal(sel->imex[1], 7);
        nvh_select_free(sel);

        req.imex_all = false;
        req.imex_channels = (char **)(const char *[]){"5", "0", NULL};
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), 0);
        assert_int_equal(sel->n_imex, 2);
        assert_int_equal(sel->imex[0], 5);
        assert_int_equal(sel->imex[1], 0);
        nvh_select_free(sel);
        req.imex_channels = (char **)(const char *[]){"2048", NULL};
        assert_int_equal(nvh_select_resolve(&req, sys, host, &sel, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "imex channel '2048' out of range"));
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_1gpu),
            cmocka_unit_test(test_8gpu_order),
            cmocka_unit_test(test_64gpu),
            cmocka_unit_test(test_mig),
            cmocka_unit_test(test_find),
            cmocka_unit_test(test_bus_id),
            cmocka_unit_test(test_missing_driver),
            cmocka_unit_test(test_version_forms),
            cmocka_unit_test(test_devices),
            cmocka_unit_test(test_information_corrupt),
            cmocka_unit_test(test_duplicates_and_excluded),
            cmocka_unit_test(test_open_lazy),
            cmocka_unit_test(test_caps_corrupt),
            cmocka_unit_test(test_gpu_limit),
            cmocka_unit_test(test_host_scan),
            cmocka_unit_test(test_select),
            cmocka_unit_test(test_select_imex),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
