/* SPDX-License-Identifier: Apache-2.0 */
/* ELF facts via libelf: class, machine, SONAME, DT_NEEDED, GNU ABI note. */

/* With -Ilib, <elf.h> names this file, and <libelf.h> includes <elf.h>: pull the system header
 * in first (outside the guard, so a copy found through the quote directory still reaches it). */
#include_next <elf.h>

#ifndef NVH_ELF_H
#define NVH_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct nvh_elf_info {
        int elf_class; /* 32 or 64 */
        int machine;   /* EM_X86_64, EM_386, EM_AARCH64, ... */
        int type;      /* ET_DYN, ET_EXEC */
        char *soname;  /* NULL when none */
        char **needed; /* NULL-terminated DT_NEEDED list, never NULL after success */
        bool has_abi_note;
        unsigned abi_os, abi_major, abi_minor, abi_patch;
};

/* Read the ELF facts of an open file. `what` names it in errors; a file that is not ELF or
 * is truncated/corrupt is -ENOEXEC naming it. */
int nvh_elf_read_fd(int fd, const char *what, struct nvh_elf_info *ret, struct nvh_err *err);

/* The same for a regular file whose size the caller already has from fstat (no second fstat). */
int nvh_elf_read_fd_size(int fd, uint64_t size, const char *what, struct nvh_elf_info *ret,
                         struct nvh_err *err);

/* The same for an image in memory, every access bounded by len (buf may be NULL when len is
 * 0): for callers that hold the bytes already, and for fuzzing. */
int nvh_elf_read_mem(const void *buf, size_t len, const char *what, struct nvh_elf_info *ret,
                     struct nvh_err *err);

void nvh_elf_info_clear(struct nvh_elf_info *info);
#define _cleanup_elf_info_ __attribute__((cleanup(nvh_elf_info_clear)))

#endif /* NVH_ELF_H */
