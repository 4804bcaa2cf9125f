/* SPDX-License-Identifier: Apache-2.0 */
/* Character device nodes inside the container. */
#pragma once

#include <sys/types.h>

#include "err.h"
#include "mount.h"

/* Create the char device `name` (one file name, no '/') in dir_fd (the container's /dev or a
 * subdirectory, resolved in-root) as S_IFCHR|mode with makedev(major, minor); mode is applied
 * exactly (not subject to umask). An existing char device with the same rdev is fine (left as
 * it is); anything else there: -EEXIST. Where mknod is refused with EPERM (user namespaces,
 * no CAP_MKNOD) an empty regular file is created instead and host_src is bind-mounted on
 * it (nosuid, noexec). host_src comes from nvh_mount_open_source(host node, 0) before
 * entering the container namespace; its st_rdev must be major:minor (checked first, -ENODEV
 * otherwise). host_src may be NULL: no check, and EPERM is then an error. */
int nvh_devnode_create(int dir_fd, const char *name, mode_t mode, unsigned major, unsigned minor,
                       const struct nvh_mount_source *host_src, struct nvh_err *err);

/* Bind host_src (a host node from nvh_mount_open_source) on an empty file `name` in dir_fd.
 * Used directly in a user namespace: there a node made by mknod sits on a filesystem mounted
 * in that namespace, which the kernel marks nodev, so only the host's own node can be opened. */
int nvh_devnode_bind(int dir_fd, const char *name, const struct nvh_mount_source *host_src,
                     struct nvh_err *err);
