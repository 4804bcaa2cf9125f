/* SPDX-License-Identifier: Apache-2.0 */
/* Raw syscall(2) wrappers for the kernel interfaces glibc does not wrap (or wraps only in
 * recent versions), and the constants older headers lack. The wrappers follow the libc
 * convention: -1 with errno set on failure. Callers choose their fallback from errno
 * (ENOSYS, EPERM from a seccomp filter, E2BIG/EINVAL), never from the kernel version. */
#pragma once

#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>

/* Syscall numbers: unified across architectures since 5.1 (alpha is not supported). */
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
#define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif

/* openat2(2), Linux 5.6. Same layout as the kernel's struct open_how; our own name so that
 * this header never clashes with <linux/openat2.h>. */
struct nvh_open_how {
        uint64_t flags;
        uint64_t mode;
        uint64_t resolve;
};

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* open_tree(2), Linux 5.2. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

/* move_mount(2), Linux 5.2. */
#ifndef MOVE_MOUNT_F_SYMLINKS
#define MOVE_MOUNT_F_SYMLINKS 0x00000001
#endif
#ifndef MOVE_MOUNT_F_AUTOMOUNTS
#define MOVE_MOUNT_F_AUTOMOUNTS 0x00000002
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_SYMLINKS
#define MOVE_MOUNT_T_SYMLINKS 0x00000010
#endif
#ifndef MOVE_MOUNT_T_AUTOMOUNTS
#define MOVE_MOUNT_T_AUTOMOUNTS 0x00000020
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

/* fsopen/fsconfig/fsmount, Linux 5.2. fsconfig commands are an enum in glibc's
 * <sys/mount.h>, so ours carry a prefix. */
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#define NVH_FSCONFIG_SET_FLAG 0
#define NVH_FSCONFIG_SET_STRING 1
#define NVH_FSCONFIG_CMD_CREATE 6

/* mount_setattr(2), Linux 5.12. Same layout as the kernel's struct mount_attr. */
struct nvh_mount_attr {
        uint64_t attr_set;
        uint64_t attr_clr;
        uint64_t propagation;
        uint64_t userns_fd;
};

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif

int nvh_sys_openat2(int dir_fd, const char *path, struct nvh_open_how *how, size_t size);
int nvh_sys_open_tree(int dir_fd, const char *path, unsigned int flags);
int nvh_sys_move_mount(int from_dir_fd, const char *from_path, int to_dir_fd, const char *to_path,
                       unsigned int flags);
int nvh_sys_mount_setattr(int dir_fd, const char *path, unsigned int flags,
                          struct nvh_mount_attr *attr, size_t size);
int nvh_sys_fsopen(const char *fs_name, unsigned int flags);
int nvh_sys_fsconfig(int fs_fd, unsigned int cmd, const char *key, const void *value, int aux);
int nvh_sys_fsmount(int fs_fd, unsigned int flags, unsigned int attr_flags);
int nvh_sys_pidfd_open(pid_t pid, unsigned int flags);
/* bpf(2); attr is a union bpf_attr of size bytes. */
int nvh_sys_bpf(int cmd, void *attr, unsigned int size);
