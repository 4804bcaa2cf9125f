/* SPDX-License-Identifier: Apache-2.0 */
#include "facts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver.h"
#include "drvcache.h"
#include "fileio.h"
#include "gpus.h"
#include "log.h"
#include "macros.h"

#define PROBE_TIMEOUT_MS 20000

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

/* The probe program beside our own executable (same directory, as installed), which must be
 * ours and not writable by others: it runs with our privileges until it drops them. */
static int
probe_path(char **ret, struct nvh_err *err)
{
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash, *path = NULL;
        struct stat st;

        if (n <= 0)
                return nvh_err_errno(err, "readlink '/proc/self/exe'");
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash)
                return nvh_err_set(err, -ENOENT, "no directory in '%s'", self);
        *slash = '\0';
        if (asprintf(&path, "%s/nvhook-probe", self) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 022)) {
                nvh_err_set(err, -EPERM, "probe '%s' is missing, not ours or writable by others",
                            path);
                free(path);
                return -EPERM;
        }
        *ret = path;
        return 0;
}

static int
probe(const char *host_lib, const char *key, const char *bus_id, char *ret_value, size_t size,
      struct nvh_err *err)
{
        _cleanup_close_ int rd_fd = -1, wr_fd = -1;
        int fds[2];
        pid_t pid;
        int status = 0;
        char buf[64];
        ssize_t n;
        struct pollfd pfd;
        _cleanup_free_ char *exe = NULL;
        int r = probe_path(&exe, err);

        if (r < 0)
                return r;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return nvh_err_errno(err, "probe '%s': pipe", key);
        rd_fd = fds[0];
        wr_fd = fds[1];
        pid = fork();
        if (pid < 0)
                return nvh_err_errno(err, "probe '%s': fork", key);
        if (pid == 0) {
                char *const argv[] = {(char *)"nvhook-probe", (char *)host_lib, (char *)key,
                                      (char *)bus_id, NULL};
                char *const envp[] = {NULL};

                /* The answer pipe is its standard output; nothing else stays open, and the
                 * environment is empty. */
                if (dup2(wr_fd, STDOUT_FILENO) < 0)
                        _exit(127);
                for (int fd = 3; fd < 1024; fd++)
                        close(fd);
                execve(exe, argv, envp);
                _exit(127);
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
cache_name(const char *version, const char *key, const char *bus_id, const struct stat *st)
{
        char *p = NULL;

        if (asprintf(&p, "facts-%s-%s-%s-%llx-%llx-%lld", key, bus_id ? bus_id : "gpu0", version,
                     (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
                     (long long)st->st_mtime) < 0)
                return NULL;
        return p;
}

int
nvh_facts_get(const char *host_cache_dir, const struct nvh_driver *drv,
              const struct nvh_system *sys, const char *key, const char *bus_id, char *ret_value,
              size_t size, struct nvh_err *err)
{
        const char *soname = streq(key, "brand") ? "libnvidia-ml.so.1" : "libcuda.so.1";
        const struct nvh_driver_file *f;
        _cleanup_free_ char *cname = NULL, *cached = NULL;
        struct stat st;
        int r;

        if (!streq(key, "cuda") && !streq(key, "arch") && !streq(key, "brand"))
                return nvh_err_set(err, -EINVAL, "unknown requirement key '%s'", key);
        if (streq(key, "cuda"))
                bus_id = NULL; /* one driver, one version */
        f = find_lib(drv, soname);
        if (!f)
                return nvh_err_set(err, -ENOENT,
                                   "requirement on '%s' needs '%s', not found in the driver", key,
                                   soname);
        if (stat(f->host_path, &st) < 0)
                return nvh_err_errno(err, "stat '%s'", f->host_path);
        if (host_cache_dir && *host_cache_dir) {
                cname = cache_name(sys->driver_version, key, bus_id, &st);
                if (cname &&
                    nvh_drvcache_read_file(host_cache_dir, cname, 64, &cached, NULL) >= 0 &&
                    cached[0]) {
                        snprintf(ret_value, size, "%s", cached);
                        return 0;
                }
        }
        r = probe(f->host_path, key, bus_id, ret_value, size, err);
        if (r < 0)
                return r;
        /* Best effort: a cache that cannot be written costs the next start the probe again. */
        if (cname && nvh_drvcache_write_file(host_cache_dir, cname, ret_value) < 0)
                nvh_log_debug("facts cache '%s/%s' not written, skipping", host_cache_dir, cname);
        return 0;
}
