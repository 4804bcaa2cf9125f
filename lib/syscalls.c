/* SPDX-License-Identifier: Apache-2.0 */
#include "syscalls.h"

#include <unistd.h>

#ifndef __NR_bpf
#error "__NR_bpf is not defined for this architecture"
#endif

int
nvh_sys_openat2(int dir_fd, const char *path, struct nvh_open_how *how, size_t size)
{
        return (int)syscall(__NR_openat2, dir_fd, path, how, size);
}

int
nvh_sys_open_tree(int dir_fd, const char *path, unsigned int flags)
{
        return (int)syscall(__NR_open_tree, dir_fd, path, flags);
}

int
nvh_sys_move_mount(int from_dir_fd, const char *from_path, int to_dir_fd, const char *to_path,
                   unsigned int flags)
{
        return (int)syscall(__NR_move_mount, from_dir_fd, from_path, to_dir_fd, to_path, flags);
}

int
nvh_sys_mount_setattr(int dir_fd, const char *path, unsigned int flags, struct nvh_mount_attr *attr,
                      size_t size)
{
        return (int)syscall(__NR_mount_setattr, dir_fd, path, flags, attr, size);
}

int
nvh_sys_fsopen(const char *fs_name, unsigned int flags)
{
        return (int)syscall(__NR_fsopen, fs_name, flags);
}

int
nvh_sys_fsconfig(int fs_fd, unsigned int cmd, const char *key, const void *value, int aux)
{
        return (int)syscall(__NR_fsconfig, fs_fd, cmd, key, value, aux);
}

int
nvh_sys_fsmount(int fs_fd, unsigned int flags, unsigned int attr_flags)
{
        return (int)syscall(__NR_fsmount, fs_fd, flags, attr_flags);
}

int
nvh_sys_pidfd_open(pid_t pid, unsigned int flags)
{
        return (int)syscall(__NR_pidfd_open, pid, flags);
}

int
nvh_sys_bpf(int cmd, void *attr, unsigned int size)
{
        return (int)syscall(__NR_bpf, cmd, attr, size);
}
