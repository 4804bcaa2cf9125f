/* SPDX-License-Identifier: Apache-2.0 */
/* Component test (root): the executor sequence of the hook against a real second mount
 * namespace. A child process unshares its mount namespace (slave, as runc does), mounts a
 * tmpfs as the "container rootfs" there and sleeps. We open host sources, setns into the
 * child's namespace, resolve hostile in-root targets, bind a file and a directory read-only,
 * mount a tmpfs with files, create device nodes (mknod, and the bind fallback when mknod is
 * refused), check flags from inside (mountinfo, statvfs), come back and check that the host
 * namespace has no new mount and the host files are untouched. Runs once with the new mount
 * API and openat2, once with both fallbacks forced. Everything lives in a temp dir and in the
 * child's namespace; nothing is left on the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devnode.h"
#include "err.h"
#include "kfeatures.h"
#include "macros.h"
#include "mount.h"
#include "nsenter.h"
#include "rootfs.h"

#include "ctutil.h"

#define NV_MAJOR 195

static char tmp[256];

static void
write_file(const char *path, const char *content)
{
        FILE *f = fopen(path, "we");

        if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
                fprintf(stderr, "write %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

/* The mountinfo line (of /proc/<pid or self>/mountinfo) whose mount point is mnt_point;
 * the last one wins (the top of a stack). Returns false when there is none. */
static bool
mountinfo_line(const char *who, const char *mnt_point, char *line, size_t size)
{
        char path[64], buf[4096];
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%s/mountinfo", who);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(buf, sizeof(buf), f)) {
                char mp[PATH_MAX];
                if (sscanf(buf, "%*s %*s %*s %*s %4095s", mp) == 1 && streq(mp, mnt_point)) {
                        snprintf(line, size, "%s", buf);
                        found = true;
                }
        }
        fclose(f);
        return found;
}

/* Any mount point below prefix in /proc/<who>/mountinfo? */
static bool
mounts_below(const char *who, const char *prefix)
{
        char path[64], buf[4096];
        size_t l = strlen(prefix);
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%s/mountinfo", who);
        f = fopen(path, "re");
        if (!f)
                return true;
        while (fgets(buf, sizeof(buf), f)) {
                char mp[PATH_MAX];
                if (sscanf(buf, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, prefix, l) == 0)
                        found = true;
        }
        fclose(f);
        return found;
}

/* Per-mount options are field 6; optional fields (shared:N, master:N) follow until " - ". */
static void
check_mount_line(const char *line, const char *want_opts[], const char *ctx)
{
        char opts[512] = "", rest[2048] = "";
        const char *dash = strstr(line, " - ");

        CHECK(sscanf(line, "%*s %*s %*s %*s %*s %511s", opts) == 1, "%s: bad line", ctx);
        for (size_t i = 0; want_opts[i]; i++) {
                char needle[64];
                snprintf(needle, sizeof(needle), ",%s,", want_opts[i]);
                char padded[520];
                snprintf(padded, sizeof(padded), ",%s,", opts);
                CHECK(strstr(padded, needle), "%s: option '%s' missing in '%s'", ctx, want_opts[i],
                      opts);
        }
        if (dash)
                snprintf(rest, sizeof(rest), "%.*s", (int)(dash - line), line);
        CHECK(!strstr(rest, "shared:"), "%s: mount propagates: %s", ctx, line);
}

/* The "container": a child in its own mount namespace with a tmpfs rootfs. */
static pid_t
start_container(const char *rootfs, int *ret_hold_fd)
{
        int ready[2], hold[2];
        pid_t pid;
        char c;

        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
                exit(1);
        pid = fork();
        if (pid < 0)
                exit(1);
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                if (unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
                    mount("tmpfs", rootfs, "tmpfs", 0, "mode=0755,size=16m") < 0) {
                        perror("container setup");
                        _exit(1);
                }
                if (write(ready[1], "r", 1) != 1)
                        _exit(1);
                (void)!read(hold[0], &c, 1); /* until the test closes it */
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        if (read(ready[0], &c, 1) != 1) {
                fprintf(stderr, "container child failed to start\n");
                exit(1);
        }
        close(ready[0]);
        *ret_hold_fd = hold[1];
        return pid;
}

static void
stop_container(pid_t pid, int hold_fd)
{
        int status;

        close(hold_fd);
        waitpid(pid, &status, 0);
}

static void
read_in_root(int root_fd, const char *ctr_path, char *buf, size_t size)
{
        struct nvh_err err = {0};
        int fd = -1;
        ssize_t n;

        buf[0] = '\0';
        if (nvh_rootfs_resolve(root_fd, ctr_path, O_RDONLY, &fd, &err) < 0) {
                CHECK(false, "read '%s': %s", ctr_path, err.msg);
                return;
        }
        n = read(fd, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
}

/* In a forked child without CAP_MKNOD: mknod fails with EPERM and the bind fallback runs. */
static void
devnode_without_mknod(int dev_fd, const struct nvh_mount_source *host_src, const char *rootfs)
{
        pid_t pid = fork();
        int status;

        if (pid == 0) {
                struct nvh_err err = {0};
                cap_value_t v = CAP_MKNOD;
                cap_t caps = cap_get_proc();
                char mp[PATH_MAX], line[4096];
                struct stat sb;
                int fd;

                if (!caps || cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 ||
                    cap_set_proc(caps) < 0)
                        _exit(3);
                cap_free(caps);
                if (mknodat(dev_fd, "probe", S_IFCHR | 0600, makedev(1, 3)) == 0 || errno != EPERM)
                        _exit(4);
                if (nvh_devnode_create(dev_fd, "nvidia1", 0666, NV_MAJOR, 1, host_src, &err) < 0) {
                        fprintf(stderr, "devnode fallback: %s\n", err.msg);
                        _exit(5);
                }
                if (fstatat(dev_fd, "nvidia1", &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(NV_MAJOR, 1))
                        _exit(6);
                snprintf(mp, sizeof(mp), "%s/dev/nvidia1", rootfs);
                if (!mountinfo_line("self", mp, line, sizeof(line)))
                        _exit(7); /* must be a bind mount */
                fd = openat(dev_fd, "nvidia1", O_RDWR | O_CLOEXEC);
                if (fd >= 0 || errno != ENXIO)
                        _exit(8);
                /* Again: already there, fine. */
                if (nvh_devnode_create(dev_fd, "nvidia1", 0666, NV_MAJOR, 1, host_src, &err) < 0)
                        _exit(9);
                _exit(0);
        }
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "devnode fallback child: status %d",
              status);
}

static void
run(bool fallback, bool no_setattr)
{
        const char *mode = fallback ? "fallback" : no_setattr ? "new-api-no-setattr" : "new-api";
        struct nvh_err err = {0};
        char rootfs[512], p[PATH_MAX], buf[4096], line[4096], mp[PATH_MAX / 2], cmd[PATH_MAX + 64];
        int hold_fd = -1, host_mnt_fd = -1, root_fd = -1, fd = -1, dev_fd = -1;
        _cleanup_mount_source_ struct nvh_mount_source lib_src = NVH_MOUNT_SOURCE_INIT,
                                                       dir_src = NVH_MOUNT_SOURCE_INIT,
                                                       dev_src0 = NVH_MOUNT_SOURCE_INIT,
                                                       dev_src1 = NVH_MOUNT_SOURCE_INIT,
                                                       other = NVH_MOUNT_SOURCE_INIT;
        struct statvfs sv;
        struct statfs sfs;
        struct stat sb;
        pid_t pid;

        fprintf(stderr, "== %s\n", mode);
        nvh_kfeatures_force_fallbacks(fallback);
        if (no_setattr) /* Linux 5.2 - 5.11: flags by a remount after the attach */
                nvh_kfeatures_set_missing(NVH_KFEATURE_MOUNT_SETATTR);
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
        pid = start_container(rootfs, &hold_fd);

        /* Host side: sources first. */
        snprintf(p, sizeof(p), "%s/host-lib/libfoo.so.580", tmp);
        MUST(nvh_mount_open_source(p, 0, &lib_src, &err), &err);
        CHECK(nvh_mount_open_source(p, NVH_SOURCE_DIR, &other, &err) == -ENOTDIR,
              "%s: is_dir mismatch", mode);
        snprintf(p, sizeof(p), "%s/host-dir", tmp);
        MUST(nvh_mount_open_source(p, NVH_SOURCE_DIR, &dir_src, &err), &err);
        /* A symlink as the last component is never followed; with NVH_SOURCE_NO_SYMLINKS, no
         * component may be one. */
        snprintf(p, sizeof(p), "%s/host-dir-link", tmp);
        CHECK(symlink("host-dir", p) == 0 || errno == EEXIST, "symlink: %s", strerror(errno));
        CHECK(nvh_mount_open_source(p, NVH_SOURCE_DIR, &other, &err) == -ELOOP,
              "%s: symlinked source followed: %s", mode, err.msg);
        snprintf(p, sizeof(p), "%s/host-dir-link/sub", tmp);
        CHECK(nvh_mount_open_source(p, NVH_SOURCE_DIR | NVH_SOURCE_NO_SYMLINKS, &other, &err) < 0,
              "%s: symlinked parent followed", mode);
        MUST(nvh_mount_open_source(p, NVH_SOURCE_DIR, &other, &err), &err);
        nvh_mount_source_done(&other);
        snprintf(p, sizeof(p), "%s/host-dev/nvidia0", tmp);
        MUST(nvh_mount_open_source(p, 0, &dev_src0, &err), &err);
        snprintf(p, sizeof(p), "%s/host-dev/nvidia1", tmp);
        MUST(nvh_mount_open_source(p, 0, &dev_src1, &err), &err);

        MUST(nvh_nsenter_mnt(pid, NULL, &host_mnt_fd, &err), &err);
        MUST(nvh_rootfs_open(rootfs, &root_fd, &err), &err);
        CHECK(fstatfs(root_fd, &sfs) == 0 && (unsigned long)sfs.f_type == 0x01021994,
              "%s: not in the container namespace", mode);

        /* A hostile image: its library dir points at the host's library dir. */
        MUST(nvh_rootfs_mkdir_p(root_fd, "/usr/lib", 0755, &fd, &err), &err);
        close(fd);
        snprintf(p, sizeof(p), "/../../..%s/host-lib", tmp);
        MUST(nvh_rootfs_symlink(root_fd, "/usr/lib/x86_64-linux-gnu", p, &err), &err);
        MUST(nvh_rootfs_create_target(root_fd, "/usr/lib/x86_64-linux-gnu/libfoo.so.580", false,
                                      0644, &fd, &err),
             &err);
        MUST(nvh_mount_bind(&lib_src, fd, NVH_MOUNT_RDONLY | NVH_MOUNT_NOSUID | NVH_MOUNT_NODEV,
                            "libfoo.so.580", &err),
             &err);
        close(fd);
        read_in_root(root_fd, "/usr/lib/x86_64-linux-gnu/libfoo.so.580", buf, sizeof(buf));
        CHECK(streq(buf, "host library\n"), "%s: bound content '%s'", mode, buf);
        snprintf(mp, sizeof(mp), "%s%s/host-lib/libfoo.so.580", rootfs, tmp);
        CHECK(mountinfo_line("self", mp, line, sizeof(line)), "%s: no mount at %s", mode, mp);
        check_mount_line(line, (const char *[]){"ro", "nosuid", "nodev", NULL}, "lib");
        CHECK(statvfs(mp, &sv) == 0 && (sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV)) ==
                                           (ST_RDONLY | ST_NOSUID | ST_NODEV),
              "%s: statvfs flags 0x%lx", mode, sv.f_flag);
        CHECK(open(mp, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS, "%s: lib is writable", mode);
        /* The child (the container) sees it too. */
        snprintf(p, sizeof(p), "%d", (int)pid);
        CHECK(mountinfo_line(p, mp, line, sizeof(line)), "%s: container does not see %s", mode, mp);

        /* A directory, recursively, read-only and noexec. */
        MUST(nvh_rootfs_create_target(root_fd, "/usr/share/nvidia", true, 0755, &fd, &err), &err);
        MUST(
            nvh_mount_bind(&dir_src, fd,
                           NVH_MOUNT_RDONLY | NVH_MOUNT_NOSUID | NVH_MOUNT_NODEV | NVH_MOUNT_NOEXEC,
                           "share/nvidia", &err),
            &err);
        close(fd);
        read_in_root(root_fd, "/usr/share/nvidia/sub/data.json", buf, sizeof(buf));
        CHECK(streq(buf, "{}\n"), "%s: dir content '%s'", mode, buf);
        snprintf(mp, sizeof(mp), "%s/usr/share/nvidia", rootfs);
        CHECK(mountinfo_line("self", mp, line, sizeof(line)), "%s: no mount at %s", mode, mp);
        check_mount_line(line, (const char *[]){"ro", "nosuid", "nodev", "noexec", NULL}, "dir");

        /* Binding a file on a directory is refused. */
        MUST(nvh_rootfs_create_target(root_fd, "/usr/share/other", true, 0755, &fd, &err), &err);
        CHECK(nvh_mount_bind(&lib_src, fd, NVH_MOUNT_RDONLY, "x", &err) < 0,
              "%s: file bound on a directory", mode);
        close(fd);

        /* tmpfs with files, masking /proc/driver/nvidia. */
        {
                const struct nvh_mount_file files[] = {
                    {"gpus", NULL, S_IFDIR | 0555},
                    {"gpus/0000:01:00.0", NULL, S_IFDIR | 0555},
                    {"gpus/0000:01:00.0/information", "Model: Test GPU\n", 0444},
                    {"version", "NVRM version: 580.159.04\n", 0444},
                    {"params", NULL, 0444},
                };
                const struct nvh_mount_file bad[] = {{"../escape", "x", 0444}};

                MUST(
                    nvh_rootfs_create_target(root_fd, "/proc/driver/nvidia", true, 0555, &fd, &err),
                    &err);
                CHECK(nvh_mount_tmpfs_files(fd, bad, 1, "bad", &err) == -EINVAL,
                      "%s: '..' accepted", mode);
                MUST(nvh_mount_tmpfs_files(fd, files, ARRAY_SIZE(files), "/proc/driver/nvidia",
                                           &err),
                     &err);
                close(fd);
                read_in_root(root_fd, "/proc/driver/nvidia/gpus/0000:01:00.0/information", buf,
                             sizeof(buf));
                CHECK(streq(buf, "Model: Test GPU\n"), "%s: tmpfs content '%s'", mode, buf);
                read_in_root(root_fd, "/proc/driver/nvidia/version", buf, sizeof(buf));
                CHECK(streq(buf, "NVRM version: 580.159.04\n"), "%s: version '%s'", mode, buf);
                snprintf(mp, sizeof(mp), "%s/proc/driver/nvidia", rootfs);
                CHECK(mountinfo_line("self", mp, line, sizeof(line)), "%s: no tmpfs", mode);
                check_mount_line(line, (const char *[]){"ro", "nosuid", "nodev", "noexec", NULL},
                                 "tmpfs");
                CHECK(strstr(line, " - tmpfs "), "%s: not tmpfs: %s", mode, line);
                snprintf(p, sizeof(p), "%s/params", mp);
                CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0444 && sb.st_size == 0,
                      "%s: params mode", mode);
                snprintf(p, sizeof(p), "%s/gpus", mp);
                CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 0555,
                      "%s: gpus mode", mode);
                snprintf(p, sizeof(p), "%s/new", mp);
                CHECK(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS,
                      "%s: tmpfs writable", mode);
        }

        /* Device nodes. */
        MUST(nvh_rootfs_mkdir_p(root_fd, "/dev", 0755, &dev_fd, &err), &err);
        MUST(nvh_devnode_create(dev_fd, "nvidia0", 0666, NV_MAJOR, 0, &dev_src0, &err), &err);
        CHECK(fstatat(dev_fd, "nvidia0", &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(sb.st_mode) &&
                  sb.st_rdev == makedev(NV_MAJOR, 0) && (sb.st_mode & 07777) == 0666,
              "%s: nvidia0 node", mode);
        fd = openat(dev_fd, "nvidia0", O_RDWR | O_CLOEXEC);
        CHECK(fd < 0 && errno == ENXIO, "%s: open nvidia0: want ENXIO, got %s", mode,
              fd < 0 ? strerror(errno) : "success");
        MUST(nvh_devnode_create(dev_fd, "nvidia0", 0666, NV_MAJOR, 0, &dev_src0, &err), &err);
        CHECK(nvh_devnode_create(dev_fd, "nvidia0", 0666, NV_MAJOR, 7, NULL, &err) == -EEXIST,
              "%s: other rdev accepted", mode);
        CHECK(nvh_devnode_create(dev_fd, "nvidia9", 0666, NV_MAJOR, 9, &dev_src0, &err) == -ENODEV,
              "%s: host node rdev mismatch accepted", mode);
        CHECK(nvh_devnode_create(dev_fd, "../x", 0666, NV_MAJOR, 0, NULL, &err) == -EINVAL,
              "%s: bad name accepted", mode);
        devnode_without_mknod(dev_fd, &dev_src1, rootfs);
        close(dev_fd);

        close(root_fd);
        MUST(nvh_nsenter_restore(host_mnt_fd, &err), &err);
        close(host_mnt_fd);

        /* Host side: nothing mounted, nothing written. */
        CHECK(!mounts_below("self", tmp), "%s: a mount leaked into the host namespace", mode);
        snprintf(p, sizeof(p), "%s/host-lib", tmp);
        snprintf(cmd, sizeof(cmd), "ls -A '%s' | tr '\\n' ' '", p);
        {
                FILE *f = popen(cmd, "r");
                char out[512] = "";
                if (f) {
                        (void)!fgets(out, sizeof(out), f);
                        pclose(f);
                }
                CHECK(streq(out, "libfoo.so.580 "), "%s: host lib dir changed: '%s'", mode, out);
        }
        snprintf(p, sizeof(p), "%s/rootfs", tmp);
        CHECK(stat(p, &sb) == 0 && sb.st_nlink == 2, "%s: host rootfs dir not empty", mode);

        stop_container(pid, hold_fd);
}

static void
dead_pid(bool fallback)
{
        struct nvh_err err = {0};
        int host_fd = -1, status;
        pid_t pid = fork();

        if (pid == 0)
                _exit(0);
        waitpid(pid, &status, 0);
        nvh_kfeatures_force_fallbacks(fallback);
        CHECK(nvh_nsenter_mnt(pid, NULL, &host_fd, &err) == -ESRCH, "dead pid: %s", err.msg);
        CHECK(strstr(err.msg, "is not running") != NULL, "dead pid message '%s'", err.msg);
        CHECK(host_fd == -1, "dead pid: fd returned");
        nvh_kfeatures_force_fallbacks(false);
}

static void
cleanup(void)
{
        char cmd[PATH_MAX + 16];

        if (tmp[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
                (void)!system(cmd);
        }
}

int
main(void)
{
        char p[PATH_MAX];

        if (geteuid() != 0) {
                fprintf(stderr, "ct_mount needs root (mount namespaces, mknod), skipping\n");
                return 77;
        }
        snprintf(tmp, sizeof(tmp), "/tmp/nvh-ct-mount-XXXXXX");
        if (!mkdtemp(tmp)) {
                perror("mkdtemp");
                return 1;
        }
        atexit(cleanup);
        ct_sh("mkdir -p '%s/host-lib' '%s/host-dir/sub' '%s/host-dev' '%s/rootfs'", tmp, tmp, tmp,
              tmp);
        snprintf(p, sizeof(p), "%s/host-lib/libfoo.so.580", tmp);
        write_file(p, "host library\n");
        snprintf(p, sizeof(p), "%s/host-dir/sub/data.json", tmp);
        write_file(p, "{}\n");
        for (int minor = 0; minor <= 1; minor++) {
                snprintf(p, sizeof(p), "%s/host-dev/nvidia%d", tmp, minor);
                if (mknod(p, S_IFCHR | 0666, makedev(NV_MAJOR, minor)) < 0) {
                        fprintf(stderr, "mknod %s: %s, skipping\n", p, strerror(errno));
                        return 77;
                }
        }

        dead_pid(false);
        dead_pid(true);
        run(false, false);
        run(false, true);
        run(true, false);
        if (failures) {
                fprintf(stderr, "ct_mount: %d check(s) failed\n", failures);
                return 1;
        }
        fprintf(stderr, "ct_mount: all checks passed\n");
        return 0;
}
