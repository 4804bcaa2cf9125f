/* SPDX-License-Identifier: Apache-2.0 */
#include "facts.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "fileio.h"
#include "gpus.h"
#include "macros.h"

#define PROBE_TIMEOUT_MS 20000

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

static const struct nvh_driver_file *
find_lib(const struct nvh_driver *drv, const char *soname)
{
        for (size_t i = 0; i < drv->n_files; i++) {
                const struct nvh_driver_file *f = &drv->files[i];
                if (f->kind == NVH_FILE_LIB && f->elf_class == 64 && f->soname &&
                    streq(f->soname, soname))
                        return f;
        }
        return NULL;
}

/* Child side. Trusts: the host driver library (it is host code, found under the driver root
 * by discovery). Guarantees: the probe runs with no capabilities (effective, permitted,
 * bounding), with no_new_privs, and for the version query under a seccomp filter that only
 * lets it write its answer and exit. */
static void __attribute__((noreturn)) probe_child(int out_fd, const char *host_lib, const char *key)
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
                _exit(10);
        cap_free(none);
        h = dlopen(host_lib, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                _exit(11);
        if (streq(key, "cuda")) {
                int (*get_version)(int *) = (int (*)(int *))dlsym(h, "cuDriverGetVersion");
                scmp_filter_ctx ctx;
                int v = 0;

                if (!get_version)
                        _exit(12);
                /* The library is loaded: from here on it may compute and write, nothing else. */
                ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
                if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 0) < 0 ||
                    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(brk), 0) < 0 ||
                    seccomp_load(ctx) < 0)
                        _exit(13);
                if (get_version(&v) != 0 || v <= 0)
                        _exit(14);
                snprintf(answer, sizeof(answer), "%d.%d", v / 1000, (v % 1000) / 10);
        } else if (streq(key, "arch")) {
                int (*cu_init)(unsigned) = (int (*)(unsigned))dlsym(h, "cuInit");
                int (*dev_get)(int *, int) = (int (*)(int *, int))dlsym(h, "cuDeviceGet");
                int (*attr)(int *, int, int) =
                    (int (*)(int *, int, int))dlsym(h, "cuDeviceGetAttribute");
                int dev = 0, major = 0, minor = 0;

                if (!cu_init || !dev_get || !attr)
                        _exit(12);
                /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76 */
                if (cu_init(0) != 0 || dev_get(&dev, 0) != 0 || attr(&major, 75, dev) != 0 ||
                    attr(&minor, 76, dev) != 0)
                        _exit(14);
                snprintf(answer, sizeof(answer), "%d.%d", major, minor);
        } else if (streq(key, "brand")) {
                int (*init)(void) = (int (*)(void))dlsym(h, "nvmlInit_v2");
                int (*get)(unsigned, void **) =
                    (int (*)(unsigned, void **))dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
                int (*brand)(void *, int *) =
                    (int (*)(void *, int *))dlsym(h, "nvmlDeviceGetBrand");
                void *dev = NULL;
                int b = 0;

                if (!init || !get || !brand)
                        _exit(12);
                if (init() != 0 || get(0, &dev) != 0 || brand(dev, &b) != 0)
                        _exit(14);
                snprintf(answer, sizeof(answer), "%s",
                         b >= 0 && (size_t)b < ARRAY_SIZE(brand_names) ? brand_names[b]
                                                                       : "unknown");
        } else {
                _exit(15);
        }
        if (nvh_fileio_write_all(out_fd, answer, strlen(answer)) < 0)
                _exit(16);
        _exit(0);
}

static int
probe(const char *host_lib, const char *key, char *ret_value, size_t size, struct nvh_err *err)
{
        _cleanup_close_ int rd_fd = -1, wr_fd = -1;
        int fds[2];
        pid_t pid;
        int status = 0;
        char buf[64];
        ssize_t n;
        struct pollfd pfd;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return nvh_err_set(err, -errno, "probe '%s': pipe: %s", key, strerror(errno));
        rd_fd = fds[0];
        wr_fd = fds[1];
        pid = fork();
        if (pid < 0)
                return nvh_err_set(err, -errno, "probe '%s': fork: %s", key, strerror(errno));
        if (pid == 0) {
                /* Only the answer pipe stays open in the child. */
                for (int fd = 3; fd < 1024; fd++)
                        if (fd != wr_fd)
                                close(fd);
                probe_child(wr_fd, host_lib, key);
        }
        close(TAKE_FD(wr_fd));
        pfd.fd = rd_fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, PROBE_TIMEOUT_MS) <= 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return nvh_err_set(err, -ETIMEDOUT, "probe '%s' in '%s': timed out", key, host_lib);
        }
        n = read(rd_fd, buf, sizeof(buf) - 1);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return nvh_err_set(err, -EIO, "probe '%s' in '%s' failed (status %d)", key,
                                   host_lib, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        buf[n] = '\0';
        snprintf(ret_value, size, "%s", buf);
        return 0;
}

/* Cache file name: the driver version and the library's identity, so a new driver install
 * (or a replaced file) never reuses an old answer. */
static char *
cache_path(const char *cache_dir, const char *version, const char *key, const struct stat *st)
{
        char *p = NULL;

        if (asprintf(&p, "%s/facts-%s-%s-%llx-%llx-%lld", cache_dir, key, version,
                     (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
                     (long long)st->st_mtime) < 0)
                return NULL;
        return p;
}

int
nvh_facts_get(const char *host_cache_dir, const struct nvh_driver *drv,
              const struct nvh_system *sys, const char *key, char *ret_value, size_t size,
              struct nvh_err *err)
{
        const char *soname = streq(key, "brand") ? "libnvidia-ml.so.1" : "libcuda.so.1";
        const struct nvh_driver_file *f;
        _cleanup_free_ char *cpath = NULL, *cached = NULL;
        struct stat st;
        int r;

        if (!streq(key, "cuda") && !streq(key, "arch") && !streq(key, "brand"))
                return nvh_err_set(err, -EINVAL, "unknown requirement key '%s'", key);
        f = find_lib(drv, soname);
        if (!f)
                return nvh_err_set(err, -ENOENT,
                                   "requirement on '%s' needs '%s', not found in the driver", key,
                                   soname);
        if (stat(f->host_path, &st) < 0)
                return nvh_err_set(err, -errno, "stat '%s': %s", f->host_path, strerror(errno));
        if (host_cache_dir && *host_cache_dir) {
                cpath = cache_path(host_cache_dir, sys->driver_version, key, &st);
                if (cpath && nvh_fileio_read_at(AT_FDCWD, cpath, 64, 1, &cached, NULL, NULL) >= 0 &&
                    cached[0]) {
                        snprintf(ret_value, size, "%s", cached);
                        return 0;
                }
        }
        r = probe(f->host_path, key, ret_value, size, err);
        if (r < 0)
                return r;
        if (cpath) {
                /* Best effort: a missing cache only costs the next start the probe again. */
                _cleanup_free_ char *tmp = NULL;
                if (mkdir(host_cache_dir, 0700) < 0 && errno != EEXIST)
                        return 0;
                if (asprintf(&tmp, "%s.%d", cpath, (int)getpid()) < 0)
                        return 0;
                int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return 0;
                bool ok = nvh_fileio_write_all(fd, ret_value, strlen(ret_value)) == 0;
                close(fd);
                if (!ok || rename(tmp, cpath) < 0)
                        unlink(tmp);
        }
        return 0;
}
