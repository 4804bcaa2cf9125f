/* SPDX-License-Identifier: Apache-2.0 */
#include "devnode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macros.h"
#include "mount.h"

static bool
name_ok(const char *name)
{
        return name && *name && !strchr(name, '/') && strlen(name) <= NAME_MAX &&
               !streq(name, ".") && !streq(name, "..");
}

/* A bind mount of the host node on an empty file. */
int
nvh_devnode_bind(int dir_fd, const char *name, const struct nvh_mount_source *host_src,
                 struct nvh_err *err)
{
        _cleanup_close_ int fd = -1, target_fd = -1;
        struct stat sb;

        fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0)
                return nvh_err_errno(err, "create bind target for device '%s'", name);
        target_fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target_fd < 0 || fstat(target_fd, &sb) < 0)
                return nvh_err_errno(err, "open bind target for device '%s'", name);
        if (!S_ISREG(sb.st_mode))
                return nvh_err_set(err, -EEXIST, "bind target for device '%s' changed", name);
        return nvh_mount_bind(host_src, target_fd, NVH_MOUNT_NOSUID | NVH_MOUNT_NOEXEC, name, err);
}

/* Trusts: dir_fd (resolved in-root by us), major/minor (from the host's procfs), host_src
 * (opened by us on the host). Verifies: the host node is that device; whatever is already at
 * name is that device or we fail. Guarantees: name is the device major:minor or an error. */
int
nvh_devnode_create(int dir_fd, const char *name, mode_t mode, unsigned major, unsigned minor,
                   const struct nvh_mount_source *host_src, struct nvh_err *err)
{
        dev_t want = makedev(major, minor);
        mode_t old_umask;
        struct stat sb;
        int r, e;

        if (!name_ok(name))
                return nvh_err_set(err, -EINVAL, "bad device node name '%s'", name ? name : "");
        if (host_src) {
                sb = host_src->st;
                if (!S_ISCHR(sb.st_mode) || sb.st_rdev != want)
                        return nvh_err_set(err, -ENODEV,
                                           "host node of '%s' is not char device %u:%u", name,
                                           major, minor);
        }
        if (fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
                /* A bind of the host node from an earlier run also shows as the device. */
                if (S_ISCHR(sb.st_mode) && sb.st_rdev == want)
                        return 0;
                return nvh_err_set(err, -EEXIST, "'%s' exists and is not char device %u:%u", name,
                                   major, minor);
        }
        if (errno != ENOENT)
                return nvh_err_errno(err, "stat '%s'", name);

        /* The exact mode without a chmod by name afterwards (the hook is single-threaded). */
        old_umask = umask(0);
        r = mknodat(dir_fd, name, S_IFCHR | (mode & 07777), want);
        e = errno;
        umask(old_umask);
        if (r < 0) {
                if (e != EPERM || !host_src)
                        return nvh_err_sys(err, -e, "mknod '%s' (%u:%u)", name, major, minor);
                return nvh_devnode_bind(dir_fd, name, host_src, err);
        }
        return 0;
}
