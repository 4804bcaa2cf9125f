/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook-probe LIBRARY KEY [PCI-BUS-ID]: print one fact that only the driver libraries know
 * ("cuda": the CUDA driver version, "arch": a GPU's compute capability, "brand": a GPU's NVML
 * brand; the GPU named by its bus id, else GPU 0).
 *
 * nvhook itself is linked statically, so that no LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH in its
 * environment can load code into it. A static binary cannot dlopen the host's libcuda, so this
 * small dynamic program does it, in a child nvhook starts with an empty environment, only on a
 * cache miss (once per driver install), never on the hot path. */
#include <dlfcn.h>
#include <seccomp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)

/* nvmlBrandType_t values, named as NVIDIA_REQUIRE_BRAND spells them. */
static const char *const brand_names[] = {
    "unknown",     /* 0 NVML_BRAND_UNKNOWN */
    "quadro",      /* 1 */
    "tesla",       /* 2 */
    "nvs",         /* 3 */
    "grid",        /* 4 */
    "geforce",     /* 5 */
    "titan",       /* 6 */
    "vapps",       /* 7 NVML_BRAND_NVIDIA_VAPPS */
    "vpc",         /* 8 */
    "vcs",         /* 9 */
    "vws",         /* 10 */
    "cloudgaming", /* 11 (also NVML_BRAND_NVIDIA_VGAMING) */
    "quadrortx",   /* 12 */
    "nvidiartx",   /* 13 */
    "nvidia",      /* 14 */
    "geforcertx",  /* 15 */
    "titanrtx",    /* 16 */
};

/* A failure in words on the answer pipe ("error: ..."), then the exit status: nvhook shows the
 * words (lib/facts.c), the status only names the step. */
static void __attribute__((noreturn, format(printf, 3, 4)))
fail(int out_fd, int status, const char *fmt, ...)
{
        char msg[384] = "error: ";
        va_list ap;
        ssize_t n;

        va_start(ap, fmt);
        vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
        va_end(ap);
        n = write(out_fd, msg, strlen(msg));
        (void)n;
        _exit(status);
}

/* A CUDA driver API result as its name (cuGetErrorName), or its number. */
static const char *
cu_error(void *h, int rc, char *buf, size_t size)
{
        int (*name)(int, const char **) = (int (*)(int, const char **))dlsym(h, "cuGetErrorName");
        const char *s = NULL;

        if (name && name(rc, &s) == 0 && s)
                snprintf(buf, size, "%s (%d)", s, rc);
        else
                snprintf(buf, size, "CUDA error %d", rc);
        return buf;
}

/* An NVML result as its words (nvmlErrorString), or its number. */
static const char *
nvml_error(void *h, int rc, char *buf, size_t size)
{
        const char *(*str)(int) = (const char *(*)(int))dlsym(h, "nvmlErrorString");
        const char *s = str ? str(rc) : NULL;

        snprintf(buf, size, "%s (NVML error %d)", s ? s : "unknown", rc);
        return buf;
}

/* The first of names that h lacks, or NULL. */
static const char *
missing_symbol(void *h, const char *const *names)
{
        for (; *names; names++)
                if (!dlsym(h, *names))
                        return *names;
        return NULL;
}

/* Child side. Trusts: the host driver library (it is host code, found under the driver root
 * by discovery). Guarantees: the probe runs with no capabilities (effective, permitted,
 * bounding), with no_new_privs, and for the version query under a seccomp filter that only
 * lets it write its answer and exit. */
static void __attribute__((noreturn))
probe_child(int out_fd, const char *host_lib, const char *key, const char *bus_id)
{
        char answer[64] = "";
        void *h;

        cap_t none = cap_init(); /* an empty set */

        /* No capabilities: the driver code may still open root-owned device nodes by
         * ownership, but cannot mount, trace, load BPF or bypass permissions. */
        /* The bounding set first: dropping from it needs CAP_SETPCAP, gone after cap_set_proc. */
        for (int c = 0; c <= CAP_LAST_CAP; c++)
                (void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        if (!none || cap_set_proc(none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                fail(out_fd, 10, "dropping privileges: %s", strerror(errno));
        cap_free(none);
        h = dlopen(host_lib, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                fail(out_fd, 11, "dlopen: %s", dlerror());
        if (streq(key, "cuda")) {
                int (*get_version)(int *) = (int (*)(int *))dlsym(h, "cuDriverGetVersion");
                scmp_filter_ctx ctx;
                int v = 0, rc;

                if (!get_version)
                        fail(out_fd, 12, "missing symbol 'cuDriverGetVersion'");
                /* The library is loaded: from here on it may compute and write, nothing else. */
                ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
                if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(brk), 0) < 0 ||
                    seccomp_load(ctx) < 0)
                        fail(out_fd, 13, "seccomp filter could not be loaded");
                rc = get_version(&v);
                if (rc != 0)
                        fail(out_fd, 14, "cuDriverGetVersion: CUDA error %d", rc);
                if (v <= 0)
                        fail(out_fd, 14, "cuDriverGetVersion: version %d", v);
                snprintf(answer, sizeof(answer), "%d.%d", v / 1000, (v % 1000) / 10);
        } else if (streq(key, "arch")) {
                int (*cu_init)(unsigned) = (int (*)(unsigned))dlsym(h, "cuInit");
                int (*dev_get)(int *, int) = (int (*)(int *, int))dlsym(h, "cuDeviceGet");
                int (*attr)(int *, int, int) =
                    (int (*)(int *, int, int))dlsym(h, "cuDeviceGetAttribute");
                int (*by_bus)(int *, const char *) =
                    (int (*)(int *, const char *))dlsym(h, "cuDeviceGetByPCIBusId");
                static const char *const syms[] = {"cuInit", "cuDeviceGet", "cuDeviceGetAttribute",
                                                   "cuDeviceGetByPCIBusId", NULL};
                int dev = 0, major = 0, minor = 0, rc;
                char ebuf[96];

                if (!cu_init || !dev_get || !attr || (bus_id && !by_bus))
                        fail(out_fd, 12, "missing symbol '%s'", missing_symbol(h, syms));
                /* CUDA's own device order is not the PCI order: name the GPU by its bus id.
                 * CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76 */
                rc = cu_init(0);
                if (rc != 0)
                        fail(out_fd, 14, "cuInit: %s", cu_error(h, rc, ebuf, sizeof(ebuf)));
                rc = bus_id ? by_bus(&dev, bus_id) : dev_get(&dev, 0);
                if (rc != 0)
                        fail(out_fd, 14, "%s(%s): %s",
                             bus_id ? "cuDeviceGetByPCIBusId" : "cuDeviceGet",
                             bus_id ? bus_id : "0", cu_error(h, rc, ebuf, sizeof(ebuf)));
                rc = attr(&major, 75, dev);
                if (rc == 0)
                        rc = attr(&minor, 76, dev);
                if (rc != 0)
                        fail(out_fd, 14, "cuDeviceGetAttribute: %s",
                             cu_error(h, rc, ebuf, sizeof(ebuf)));
                snprintf(answer, sizeof(answer), "%d.%d", major, minor);
        } else if (streq(key, "brand")) {
                int (*init)(void) = (int (*)(void))dlsym(h, "nvmlInit_v2");
                int (*get)(unsigned, void **) =
                    (int (*)(unsigned, void **))dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
                int (*brand)(void *, int *) =
                    (int (*)(void *, int *))dlsym(h, "nvmlDeviceGetBrand");
                int (*by_bus)(const char *, void **) =
                    (int (*)(const char *, void **))dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2");
                static const char *const syms[] = {"nvmlInit_v2", "nvmlDeviceGetHandleByIndex_v2",
                                                   "nvmlDeviceGetBrand",
                                                   "nvmlDeviceGetHandleByPciBusId_v2", NULL};
                void *dev = NULL;
                int b = 0, rc;
                char ebuf[96];

                if (!init || !get || !brand || (bus_id && !by_bus))
                        fail(out_fd, 12, "missing symbol '%s'", missing_symbol(h, syms));
                rc = init();
                if (rc != 0)
                        fail(out_fd, 14, "nvmlInit: %s", nvml_error(h, rc, ebuf, sizeof(ebuf)));
                rc = bus_id ? by_bus(bus_id, &dev) : get(0, &dev);
                if (rc != 0)
                        fail(out_fd, 14, "%s(%s): %s",
                             bus_id ? "nvmlDeviceGetHandleByPciBusId"
                                    : "nvmlDeviceGetHandleByIndex",
                             bus_id ? bus_id : "0", nvml_error(h, rc, ebuf, sizeof(ebuf)));
                rc = brand(dev, &b);
                if (rc != 0)
                        fail(out_fd, 14, "nvmlDeviceGetBrand: %s",
                             nvml_error(h, rc, ebuf, sizeof(ebuf)));
                snprintf(answer, sizeof(answer), "%s",
                         b >= 0 && (size_t)b < ARRAY_SIZE(brand_names) ? brand_names[b]
                                                                       : "unknown");
        } else {
                fail(out_fd, 15, "unknown fact '%s'", key);
        }
        if (write(out_fd, answer, strlen(answer)) != (ssize_t)strlen(answer))
                _exit(16);
        _exit(0);
}

int
main(int argc, char **argv)
{
        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: nvhook-probe LIBRARY cuda|arch|brand [PCI-BUS-ID]\n");
                return 2;
        }
        probe_child(STDOUT_FILENO, argv[1], argv[2], argc == 4 ? argv[3] : NULL);
}
