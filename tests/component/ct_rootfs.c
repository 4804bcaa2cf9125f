/* SPDX-License-Identifier: Apache-2.0 */
/* Component test (root): in-root resolution where it needs mounts. In a private mount
 * namespace of this process, a tmpfs container root holds a procfs (magic links: refused by
 * openat2's RESOLVE_NO_MAGICLINKS and by the walker alike), a second tmpfs and a bind mount of
 * the root inside itself (".." across mount boundaries). Every case runs through openat2 and
 * through the forced walker; both must agree with the expectation. The host sentinel
 * directory must be unchanged. Nothing is mounted outside the private namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "kfeatures.h"
#include "macros.h"
#include "rootfs.h"

#include "ctutil.h"

static char tmp[256], root[512], sentinel[512];
static int root_fd = -1;

static int
resolve_one(bool fallback, const char *ctr_path, int flags, struct stat *ret_st)
{
        struct nvh_err err = {0};
        int fd = -1, r;

        nvh_kfeatures_force_fallbacks(fallback);
        r = nvh_rootfs_resolve(root_fd, ctr_path, flags, &fd, &err);
        nvh_kfeatures_force_fallbacks(false);
        if (r < 0)
                return r;
        r = fstat(fd, ret_st) < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* expect: a path in this namespace naming the expected object (lstat), or NULL and want_err.
 * With expect == "" both mechanisms only have to agree with each other. */
static void
check(const char *ctr_path, int flags, const char *expect, int want_err)
{
        struct stat a, b, want;
        int ra = resolve_one(false, ctr_path, flags, &a);
        int rb = resolve_one(true, ctr_path, flags, &b);

        CHECK(ra == rb, "'%s': openat2 %d, walker %d", ctr_path, ra, rb);
        if (!expect) {
                CHECK(ra == want_err, "'%s': got %d, want %d", ctr_path, ra, want_err);
                return;
        }
        CHECK(ra == 0, "'%s': got %d (%s)", ctr_path, ra, strerror(-ra));
        if (ra != 0 || rb != 0)
                return;
        CHECK(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "'%s': different objects", ctr_path);
        if (!*expect)
                return;
        CHECK(lstat(expect, &want) == 0, "lstat '%s'", expect);
        CHECK(a.st_dev == want.st_dev && a.st_ino == want.st_ino, "'%s': not '%s'", ctr_path,
              expect);
}

static void
check_mkdir_inside(const char *ctr_dir, const char *expect)
{
        for (int fb = 0; fb <= 1; fb++) {
                struct nvh_err err = {0};
                struct stat a, want;
                int fd = -1;

                nvh_kfeatures_force_fallbacks(fb);
                CHECK(nvh_rootfs_mkdir_p(root_fd, ctr_dir, 0755, &fd, &err) == 0, "mkdir '%s': %s",
                      ctr_dir, err.msg);
                nvh_kfeatures_force_fallbacks(false);
                if (fd < 0)
                        continue;
                CHECK(fstat(fd, &a) == 0 && lstat(expect, &want) == 0 && a.st_ino == want.st_ino &&
                          a.st_dev == want.st_dev,
                      "mkdir '%s' (fallback %d) is not '%s'", ctr_dir, fb, expect);
                close(fd);
                ct_sh("rm -rf '%s'", expect);
        }
}

static void
cleanup(void)
{
        char cmd[512];

        if (tmp[0]) {
                /* Our private namespace: detach the whole tree first, rm must not walk procfs. */
                (void)umount2(root, MNT_DETACH);
                snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", tmp);
                (void)!system(cmd);
        }
}

int
main(void)
{
        struct nvh_err err = {0};
        char p[1200], sig_before[512] = "", sig_after[512] = "";
        FILE *f;

        if (geteuid() != 0) {
                fprintf(stderr, "ct_rootfs needs root (mount namespace, procfs), skipping\n");
                return 77;
        }
        snprintf(tmp, sizeof(tmp), "/tmp/nvh-ct-rootfs-XXXXXX");
        if (!mkdtemp(tmp))
                return 1;
        atexit(cleanup);
        snprintf(root, sizeof(root), "%s/root", tmp);
        snprintf(sentinel, sizeof(sentinel), "%s/host-sentinel", tmp);
        ct_sh("mkdir -p '%s' '%s' && echo host > '%s/secret'", root, sentinel, sentinel);

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "private mount namespace: %s, skipping\n", strerror(errno));
                return 77;
        }
        if (mount("tmpfs", root, "tmpfs", 0, "mode=0755,size=8m") < 0)
                return 1;
        ct_sh("cd '%s' && mkdir -p etc proc mnt bindroot && echo root > etc/passwd", root);
        snprintf(p, sizeof(p), "%s/proc", root);
        if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                fprintf(stderr, "mount proc: %s, skipping\n", strerror(errno));
                return 77;
        }
        snprintf(p, sizeof(p), "%s/mnt", root);
        if (mount("tmpfs", p, "tmpfs", 0, "size=1m") < 0)
                return 1;
        snprintf(p, sizeof(p), "%s/bindroot", root);
        if (mount(root, p, NULL, MS_BIND, NULL) < 0)
                return 1;
        ct_sh("cd '%s' && ln -s /proc/self/root/etc lib_magic && ln -s /proc/1/root magic_root && "
              "ln -s ../../etc mnt/up && ln -s / mnt/slash && ln -s '%s' escape && "
              "ln -s /proc/self/fd mnt/fds",
              root, sentinel);
        snprintf(p, sizeof(p), "find '%s' -printf '%%p %%s %%T@\\n' | md5sum", sentinel);
        f = popen(p, "r");
        if (!f || !fgets(sig_before, sizeof(sig_before), f))
                return 1;
        pclose(f);

        if (nvh_rootfs_open(root, &root_fd, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }

        /* Magic links are refused; ordinary procfs symlinks are fine. */
        check("/lib_magic/passwd", O_RDONLY, NULL, -ELOOP);
        {
                /* Refused either way; where pid 1 is out of reach the access check comes
                 * first (the kernel checks it before it looks at RESOLVE_NO_MAGICLINKS). */
                char l[PATH_MAX];
                bool denied = readlink("/proc/1/root", l, sizeof(l)) < 0 && errno == EACCES;
                check("/magic_root", O_PATH, NULL, denied ? -EACCES : -ELOOP);
        }
        check("/proc/self/root", O_PATH, NULL, -ELOOP);
        check("/proc/self/cwd/etc", O_PATH, NULL, -ELOOP);
        check("/proc/self/fd/0", O_RDONLY, NULL, -ELOOP);
        check("/mnt/fds/0", O_RDONLY, NULL, -ELOOP);
        check("/proc/thread-self/root", O_PATH, NULL, -ELOOP);
        check("/proc/self/exe", O_PATH | O_NOFOLLOW, "", 0); /* the link itself */
        check("/proc/self/status", O_RDONLY, "", 0);
        check("/proc/mounts", O_RDONLY, "", 0);
        snprintf(p, sizeof(p), "%s/proc/cpuinfo", root);
        check("/proc/cpuinfo", O_RDONLY, p, 0);
        check("/proc/../proc/../../../proc/cpuinfo", O_RDONLY, p, 0);

        /* Across mounts: ".." from a mount root goes to its mountpoint's parent, never above
         * the container root, also when the root is bind-mounted inside itself. */
        snprintf(p, sizeof(p), "%s/etc/passwd", root);
        check("/mnt/up/passwd", O_RDONLY, p, 0);
        check("/mnt/slash/etc/passwd", O_RDONLY, p, 0);
        check("/mnt/../../../etc/passwd", O_RDONLY, p, 0);
        check("/bindroot/bindroot/../../etc/passwd", O_RDONLY, p, 0);
        /* bindroot is a non-recursive bind: its mnt is the empty dir below the tmpfs. */
        check("/bindroot/mnt/up/passwd", O_RDONLY, NULL, -ENOENT);
        check("/..", O_PATH, root, 0);
        snprintf(p, sizeof(p), "%s/mnt", root);
        check("/bindroot/mnt/..//mnt", O_PATH, "", 0);

        /* Escapes stay inside; creation happens inside. */
        check("/escape/secret", O_RDONLY, NULL, -ENOENT);
        snprintf(p, sizeof(p), "%s%s/x", root, sentinel);
        check_mkdir_inside("/escape/x", p);
        snprintf(p, sizeof(p), "%s/mnt/x", root);
        check_mkdir_inside("/mnt/slash/bindroot/../mnt/x", p);

        close(root_fd);
        snprintf(p, sizeof(p), "find '%s' -printf '%%p %%s %%T@\\n' | md5sum", sentinel);
        f = popen(p, "r");
        if (!f || !fgets(sig_after, sizeof(sig_after), f))
                return 1;
        pclose(f);
        CHECK(streq(sig_before, sig_after), "host sentinel changed");

        if (failures) {
                fprintf(stderr, "ct_rootfs: %d check(s) failed\n", failures);
                return 1;
        }
        fprintf(stderr, "ct_rootfs: all checks passed\n");
        return 0;
}
