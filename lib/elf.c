/* SPDX-License-Identifier: Apache-2.0 */
#include "elf.h"

#include <errno.h>
#include <gelf.h>
#include <limits.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macros.h"

/* Sanity limits: a real driver library has a few dozen sections and DT_NEEDED entries. */
#define MAX_SECTIONS 65536
#define MAX_NEEDED 4096
#define MAX_NOTES_SIZE (1u << 20)

static inline void
elf_endp(Elf **e)
{
        if (*e)
                elf_end(*e);
}
#define _cleanup_elf_ _cleanup_(elf_endp) /* libelf stays inside this file */

static int
elf_init(struct nvh_err *err)
{
        static int ready;

        if (ready)
                return 0;
        if (elf_version(EV_CURRENT) == EV_NONE)
                return nvh_err_set(err, -ENOSYS, "libelf: %s", elf_errmsg(-1));
        ready = 1;
        return 0;
}

static int
corrupt(const char *what, const char *detail, struct nvh_err *err)
{
        int en = elf_errno();
        const char *msg = en ? elf_errmsg(en) : NULL;

        if (msg)
                return nvh_err_set(err, -ENOEXEC, "'%s': %s: %s", what, detail, msg);
        return nvh_err_set(err, -ENOEXEC, "'%s': %s", what, detail);
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
        char **nv;
        char *copy;

        if (*n >= MAX_NEEDED)
                return -E2BIG;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        nv[(*n)++] = copy;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

/* SHT_DYNAMIC: DT_SONAME and DT_NEEDED, strings from the section named by sh_link. */
static int
read_dynamic(Elf *e, Elf_Scn *scn, const GElf_Shdr *shdr, const char *what,
             struct nvh_elf_info *info, size_t *n_needed, struct nvh_err *err)
{
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t n;

        if (!data)
                return corrupt(what, "cannot read the dynamic section", err);
        if (shdr->sh_entsize == 0)
                return corrupt(what, "dynamic section has entry size 0", err);
        n = data->d_size / gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
        if (n > INT_MAX)
                return nvh_err_set(err, -ENOEXEC, "'%s': dynamic section too large", what);
        for (size_t i = 0; i < n; i++) {
                GElf_Dyn dyn;
                const char *s;

                if (!gelf_getdyn(data, (int)i, &dyn))
                        return corrupt(what, "bad dynamic entry", err);
                if (dyn.d_tag == DT_NULL)
                        break;
                if (dyn.d_tag != DT_SONAME && dyn.d_tag != DT_NEEDED)
                        continue;
                /* elf_strptr bounds-checks the offset and the terminator. */
                s = elf_strptr(e, shdr->sh_link, dyn.d_un.d_val);
                if (!s)
                        return corrupt(what, "dynamic string out of bounds", err);
                if (dyn.d_tag == DT_SONAME) {
                        if (info->soname)
                                continue; /* ld.so uses the first one */
                        info->soname = strdup(s);
                        if (!info->soname)
                                return nvh_err_set(err, -ENOMEM, "'%s': out of memory", what);
                } else {
                        int r = strv_push(&info->needed, n_needed, s);
                        if (r == -E2BIG)
                                return nvh_err_set(err, -ENOEXEC, "'%s': more than %d DT_NEEDED",
                                                   what, MAX_NEEDED);
                        if (r < 0)
                                return nvh_err_set(err, r, "'%s': out of memory", what);
                }
        }
        return 0;
}

/* SHT_NOTE: the first NT_GNU_ABI_TAG note owned by "GNU" (4 words: os, major, minor, patch). */
static int
read_notes(Elf_Scn *scn, const char *what, struct nvh_elf_info *info, struct nvh_err *err)
{
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nhdr;

        if (!data)
                return corrupt(what, "cannot read a note section", err);
        if (data->d_size > MAX_NOTES_SIZE)
                return 0;
        while (off < data->d_size) {
                size_t next = gelf_getnote(data, off, &nhdr, &name_off, &desc_off);
                if (next == 0 || next <= off)
                        break; /* malformed or last: what we have is all we trust */
                off = next;
                if (nhdr.n_type != NT_GNU_ABI_TAG || nhdr.n_namesz != 4 || nhdr.n_descsz < 16)
                        continue;
                if (memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0)
                        continue;
                uint32_t w[4];
                memcpy(w, (const char *)data->d_buf + desc_off, sizeof(w));
                info->has_abi_note = true;
                info->abi_os = w[0];
                info->abi_major = w[1];
                info->abi_minor = w[2];
                info->abi_patch = w[3];
                return 1;
        }
        return 0;
}

/* Trusts nothing in the file: libelf checks header and section bounds, we check every string
 * offset through elf_strptr and every note through gelf_getnote, and the layout against size
 * (the file's, or the buffer's). Guarantees on success: class is 32 or 64, needed is a
 * NULL-terminated vector (maybe empty). */
static int
parse(Elf *e, uint64_t size, const char *what, struct nvh_elf_info *ret, struct nvh_err *err)
{
        _cleanup_elf_info_ struct nvh_elf_info info = {0};
        size_t n_needed = 0, shnum = 0;
        GElf_Ehdr ehdr;
        Elf_Scn *scn = NULL;
        int r, cls;

        if (!e)
                return corrupt(what, "not an ELF file", err);
        if (elf_kind(e) != ELF_K_ELF)
                return nvh_err_set(err, -ENOEXEC, "'%s': not an ELF file", what);
        if (!gelf_getehdr(e, &ehdr))
                return corrupt(what, "bad ELF header", err);
        cls = gelf_getclass(e);
        if (cls != ELFCLASS32 && cls != ELFCLASS64)
                return nvh_err_set(err, -ENOEXEC, "'%s': bad ELF class %d", what, cls);
        if (elf_getshdrnum(e, &shnum) != 0)
                return corrupt(what, "bad section count", err);
        if (shnum > MAX_SECTIONS)
                return nvh_err_set(err, -ENOEXEC, "'%s': %zu sections is too many", what, shnum);

        info.elf_class = cls == ELFCLASS64 ? 64 : 32;
        info.machine = ehdr.e_machine;
        info.type = ehdr.e_type;

        /* libelf stops iterating quietly at a short section header table: check the layout
         * against the size before trusting an absent DT_SONAME. libelf reports 0 sections when
         * their table lies past the end. */
        if (ehdr.e_shoff != 0 && (shnum == 0 || (ehdr.e_shnum != 0 && shnum != ehdr.e_shnum)))
                return nvh_err_set(err, -ENOEXEC, "'%s': truncated section header table", what);
        if (shnum > 0 && (ehdr.e_shoff > size || ehdr.e_shentsize == 0 ||
                          (size - ehdr.e_shoff) / ehdr.e_shentsize < shnum))
                return nvh_err_set(err, -ENOEXEC, "'%s': truncated section header table", what);

        bool seen_dynamic = false;
        size_t seen = 0;
        while ((scn = elf_nextscn(e, scn))) {
                GElf_Shdr shdr;

                seen++;
                if (!gelf_getshdr(scn, &shdr))
                        return corrupt(what, "bad section header", err);
                if (shdr.sh_type != SHT_NOBITS &&
                    (shdr.sh_offset > size || shdr.sh_size > size - shdr.sh_offset))
                        return nvh_err_set(err, -ENOEXEC, "'%s': section %zu outside the file",
                                           what, seen);
                if (shdr.sh_type == SHT_DYNAMIC && !seen_dynamic) {
                        seen_dynamic = true;
                        r = read_dynamic(e, scn, &shdr, what, &info, &n_needed, err);
                } else if (shdr.sh_type == SHT_NOTE && !info.has_abi_note) {
                        r = read_notes(scn, what, &info, err);
                } else {
                        continue;
                }
                if (r < 0)
                        return r;
        }
        if (shnum > 0 && seen != shnum - 1)
                return corrupt(what, "cannot read every section header", err);
        if (!info.needed) {
                info.needed = calloc(1, sizeof(char *));
                if (!info.needed)
                        return nvh_err_set(err, -ENOMEM, "'%s': out of memory", what);
        }
        *ret = info;
        memset(&info, 0, sizeof(info));
        return 0;
}

int
nvh_elf_read_mem(const void *buf, size_t len, const char *what, struct nvh_elf_info *ret,
                 struct nvh_err *err)
{
        _cleanup_elf_ Elf *e = NULL;
        int r;

        r = elf_init(err);
        if (r < 0)
                return r;
        if (!buf || len == 0)
                return nvh_err_set(err, -ENOEXEC, "'%s': not an ELF file", what);
        /* elf_memory only reads the image (libelf's ELF_C_READ_MMAP contract), and every
         * access is bounded by len. */
        e = elf_memory((char *)buf, len);
        return parse(e, len, what, ret, err);
}

/* The caller's fd and size come from one fstat of a regular file, so the layout checks need no
 * second one. libelf reads lazily with pread: a file truncated meanwhile yields errors, never
 * SIGBUS. Why not mmap + nvh_elf_read_mem (2 syscalls instead of ~8): measured on the 6.18
 * Firecracker VMs (this machine and the H100/H200 hosts), the page faults and munmap cost more
 * than the preads save; discovery of the fixture driver took 10-30% longer. */
int
nvh_elf_read_fd_size(int fd, uint64_t size, const char *what, struct nvh_elf_info *ret,
                     struct nvh_err *err)
{
        _cleanup_elf_ Elf *e = NULL;
        int r;

        r = elf_init(err);
        if (r < 0)
                return r;
        if (size == 0)
                return nvh_err_set(err, -ENOEXEC, "'%s': not an ELF file", what);
        e = elf_begin(fd, ELF_C_READ, NULL);
        return parse(e, size, what, ret, err);
}

int
nvh_elf_read_fd(int fd, const char *what, struct nvh_elf_info *ret, struct nvh_err *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return nvh_err_errno(err, "stat '%s'", what);
        if (!S_ISREG(st.st_mode)) {
                /* a pipe or device has no size to check the layout against */
                return nvh_err_set(err, -ENOEXEC, "'%s': not a regular file", what);
        }
        return nvh_elf_read_fd_size(fd, (uint64_t)st.st_size, what, ret, err);
}

void
nvh_elf_info_clear(struct nvh_elf_info *info)
{
        if (!info)
                return;
        free(info->soname);
        strv_free(info->needed);
        memset(info, 0, sizeof(*info));
}
