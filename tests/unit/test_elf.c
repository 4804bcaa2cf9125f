/* SPDX-License-Identifier: Apache-2.0 */
/* lib/elf.c on real ELF files: the fixture driver libraries (ld-linked, 32 and 64-bit, ABI
 * note 3.10.0), libraries and executables gcc links here, and hostile copies of them. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "macros.h"

static int
read_path(const char *path, struct nvh_elf_info *info, struct nvh_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        return nvh_elf_read_fd(fd, path, info, err);
}

static char *
slurp(const char *path, size_t *ret_len)
{
        struct stat st;
        char *buf;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t)st.st_size);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
        close(fd);
        *ret_len = (size_t)st.st_size;
        return buf;
}

static char *
tmp_path(const char *name)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", tu_tmpdir(), name) > 0);
        return p;
}

static void
test_fixture_64(void **state)
{
        _cleanup_free_ char *path = NULL;
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};

        assert_true(asprintf(&path, "%s/driver/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04",
                             tu_fixtures()) > 0);
        assert_int_equal(read_path(path, &info, &err), 0);
        assert_int_equal(info.elf_class, 64);
        assert_int_equal(info.machine, EM_X86_64);
        assert_int_equal(info.type, ET_DYN);
        assert_string_equal(info.soname, "libcuda.so.1");
        assert_non_null(info.needed);
        assert_string_equal(info.needed[0], "libc.so.6");
        assert_null(info.needed[1]);
        assert_true(info.has_abi_note);
        assert_int_equal(info.abi_os, 0); /* ELF_NOTE_OS_LINUX */
        assert_int_equal(info.abi_major, 3);
        assert_int_equal(info.abi_minor, 10);
        assert_int_equal(info.abi_patch, 0);
        nvh_elf_info_clear(&info);
        assert_null(info.soname);
        assert_null(info.needed);
        nvh_elf_info_clear(&info); /* twice is harmless */
}

static void
test_fixture_32(void **state)
{
        _cleanup_free_ char *path = NULL;
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};

        assert_true(asprintf(&path, "%s/driver/usr/lib/i386-linux-gnu/libGLX_nvidia.so.580.159.04",
                             tu_fixtures()) > 0);
        assert_int_equal(read_path(path, &info, &err), 0);
        assert_int_equal(info.elf_class, 32);
        assert_int_equal(info.machine, EM_386);
        assert_int_equal(info.type, ET_DYN);
        assert_string_equal(info.soname, "libGLX_nvidia.so.0");
        assert_string_equal(info.needed[0], "libc.so.6");
        assert_true(info.has_abi_note);
        assert_int_equal(info.abi_major, 3);
        nvh_elf_info_clear(&info);

        /* The full-version soname of the nvidia-internal libraries. */
        free(path);
        assert_true(asprintf(&path,
                             "%s/driver/usr/lib/i386-linux-gnu/libnvidia-glcore.so.580.159.04",
                             tu_fixtures()) > 0);
        assert_int_equal(read_path(path, &info, &err), 0);
        assert_string_equal(info.soname, "libnvidia-glcore.so.580.159.04");
        nvh_elf_info_clear(&info);
}

/* gcc-linked library: DT_NEEDED in link order, soname chosen here. */
static void
test_gcc_library(void **state)
{
        const char *dir = tu_tmpdir();
        _cleanup_free_ char *so = tmp_path("libgcc-test.so.7.1");
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};

        assert_int_equal(tu_sh("printf '#include <math.h>\\ndouble f(double x){return sin(x);}\\n' "
                               "> %s/lib.c && gcc -shared -fPIC -Wl,-soname,libgcc-test.so.7 "
                               "-Wl,--no-as-needed -o %s %s/lib.c -lm",
                               dir, so, dir),
                         0);
        assert_int_equal(read_path(so, &info, &err), 0);
        assert_int_equal(info.elf_class, 64);
        assert_int_equal(info.type, ET_DYN);
        assert_string_equal(info.soname, "libgcc-test.so.7");
        assert_string_equal(info.needed[0], "libm.so.6");
        assert_string_equal(info.needed[1], "libc.so.6");
        assert_null(info.needed[2]);
        nvh_elf_info_clear(&info);

        /* 32-bit without a 32-bit libc: -nostdlib, as the fixture does; where gcc refuses
         * -m32 (no 32-bit support), as --32 and ld, as the fixture then does */
        _cleanup_free_ char *so32 = tmp_path("lib32.so");
        assert_int_equal(tu_sh("echo 'int g(void){return 3;}' > %s/g.c && { gcc -m32 -shared -fPIC "
                               "-nostdlib -Wl,-soname,lib32.so.2 -o %s %s/g.c || "
                               "{ printf '%%s\\n' .text '.globl g' 'g: movl $3, %%eax' ret | "
                               "as --32 -o %s/g32.o && ld -m elf_i386 -shared -soname lib32.so.2 "
                               "-o %s %s/g32.o; }; }",
                               dir, so32, dir, dir, so32, dir),
                         0);
        assert_int_equal(read_path(so32, &info, &err), 0);
        assert_int_equal(info.elf_class, 32);
        assert_int_equal(info.machine, EM_386);
        assert_string_equal(info.soname, "lib32.so.2");
        assert_null(info.needed[0]);
        nvh_elf_info_clear(&info);
}

/* The ABI note glibc's crt files put into every normally linked executable, and libc's own. */
static void
test_abi_note(void **state)
{
        const char *dir = tu_tmpdir();
        _cleanup_free_ char *exe = tmp_path("exe");
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};

        assert_int_equal(
            tu_sh("echo 'int main(void){return 0;}' > %s/m.c && gcc -o %s %s/m.c", dir, exe, dir),
            0);
        assert_int_equal(read_path(exe, &info, &err), 0);
        assert_true(info.has_abi_note);
        assert_int_equal(info.abi_os, 0);
        assert_true(info.abi_major >= 2);
        assert_null(info.soname);
        assert_string_equal(info.needed[0], "libc.so.6");
        nvh_elf_info_clear(&info);

        if (access("/lib/x86_64-linux-gnu/libc.so.6", R_OK) == 0) {
                assert_int_equal(read_path("/lib/x86_64-linux-gnu/libc.so.6", &info, &err), 0);
                assert_string_equal(info.soname, "libc.so.6");
                assert_true(info.has_abi_note);
                assert_true(info.abi_major >= 3);
                nvh_elf_info_clear(&info);
        }
}

static void
expect_enoexec_msg(const char *path, const char *detail)
{
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};
        int r = read_path(path, &info, &err);

        if (r != -ENOEXEC)
                fprintf(stderr, "%s: r=%d msg=%s\n", path, r, err.msg);
        assert_int_equal(r, -ENOEXEC);
        assert_int_equal(err.code, -ENOEXEC);
        assert_non_null(strstr(err.msg, path));
        assert_null(info.soname);
        assert_null(info.needed);
        if (detail)
                assert_non_null(strstr(err.msg, detail));
}

static void
expect_enoexec(const char *path)
{
        expect_enoexec_msg(path, NULL);
}

static void
test_not_elf(void **state)
{
        _cleanup_free_ char *text = tmp_path("text.so");
        _cleanup_free_ char *empty = tmp_path("empty.so");
        _cleanup_free_ char *magic = tmp_path("magic.so");

        tu_write_file(text, "INPUT(-lfoo)\n", 13); /* a linker script named like a library */
        expect_enoexec(text);
        tu_write_file(empty, "", 0);
        expect_enoexec(empty);
        tu_write_file(magic, "\177ELF", 4);
        expect_enoexec(magic);
}

/* Every truncation of a real library is -ENOEXEC naming it, never a crash. */
static void
test_truncated(void **state)
{
        _cleanup_free_ char *src = NULL, *buf = NULL;
        _cleanup_free_ char *path = tmp_path("trunc.so");
        size_t len, cuts[] = {5, 16, 52, 63, 64, 65, 200, 1000, 4096, 0, 0, 0};

        assert_true(asprintf(&src, "%s/driver/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04",
                             tu_fixtures()) > 0);
        buf = slurp(src, &len);
        cuts[9] = len / 2;
        cuts[10] = len - 64; /* the section header table is at the end */
        cuts[11] = len - 1;
        for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
                assert_true(cuts[i] < len);
                tu_write_file(path, buf, cuts[i]);
                expect_enoexec(path);
        }
}

/* A DT_SONAME offset past the end of .dynstr: libelf's bounds check must catch it. */
static void
test_bad_string_offset(void **state)
{
        _cleanup_free_ char *src = NULL, *buf = NULL;
        _cleanup_free_ char *path = tmp_path("badstr.so");
        size_t len;
        bool patched = false;

        assert_true(asprintf(&src, "%s/driver/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04",
                             tu_fixtures()) > 0);
        buf = slurp(src, &len);
        Elf64_Ehdr eh;
        memcpy(&eh, buf, sizeof(eh));
        for (unsigned i = 0; i < eh.e_shnum; i++) {
                Elf64_Shdr sh;
                memcpy(&sh, buf + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
                if (sh.sh_type != SHT_DYNAMIC)
                        continue;
                for (size_t off = sh.sh_offset;
                     off + sizeof(Elf64_Dyn) <= sh.sh_offset + sh.sh_size;
                     off += sizeof(Elf64_Dyn)) {
                        Elf64_Dyn d;
                        memcpy(&d, buf + off, sizeof(d));
                        if (d.d_tag == DT_SONAME) {
                                d.d_un.d_val = 0x7fffff00;
                                memcpy(buf + off, &d, sizeof(d));
                                patched = true;
                        }
                }
        }
        assert_true(patched);
        tu_write_file(path, buf, len);
        expect_enoexec_msg(path, "dynamic string out of bounds");

        /* And a section header offset pointing outside the file. */
        buf = (free(buf), slurp(src, &len));
        eh.e_shoff = (Elf64_Off)len * 4;
        memcpy(buf, &eh, sizeof(eh));
        tu_write_file(path, buf, len);
        expect_enoexec_msg(path, "section header");
}

/* The in-memory parser agrees with the file one, and every cut of the image is -ENOEXEC
 * naming it: libelf must never read past len (the sanitizer build catches an overread of
 * the malloc'ed copy). */
static void
test_mem(void **state)
{
        _cleanup_free_ char *src = NULL, *buf = NULL;
        size_t len;
        struct nvh_elf_info a = {0}, b = {0};
        struct nvh_err err = {0};

        assert_true(asprintf(&src, "%s/driver/usr/lib/i386-linux-gnu/libcuda.so.580.159.04",
                             tu_fixtures()) > 0);
        buf = slurp(src, &len);
        assert_int_equal(read_path(src, &a, &err), 0);
        assert_int_equal(nvh_elf_read_mem(buf, len, "image", &b, &err), 0);
        assert_string_equal(a.soname, "libcuda.so.1");
        assert_string_equal(a.soname, b.soname);
        assert_int_equal(a.elf_class, 32);
        assert_int_equal(a.elf_class, b.elf_class);
        assert_int_equal(a.machine, b.machine);
        assert_int_equal(a.type, b.type);
        assert_int_equal(a.has_abi_note, b.has_abi_note);
        assert_int_equal(a.abi_major, b.abi_major);
        size_t n = 0;
        for (; a.needed[n]; n++)
                assert_string_equal(a.needed[n], b.needed[n]);
        assert_null(b.needed[n]);
        nvh_elf_info_clear(&a);
        nvh_elf_info_clear(&b);

        for (size_t cut = 0; cut < len; cut += cut < 128 ? 1 : 97) {
                char *copy = malloc(cut ? cut : 1);
                assert_non_null(copy);
                memcpy(copy, buf, cut);
                int r = nvh_elf_read_mem(copy, cut, "cut-image", &b, &err);
                free(copy);
                if (r != -ENOEXEC)
                        fprintf(stderr, "cut %zu: r=%d %s\n", cut, r, err.msg);
                assert_int_equal(r, -ENOEXEC);
                assert_non_null(strstr(err.msg, "cut-image"));
                assert_null(b.soname);
        }
        assert_int_equal(nvh_elf_read_mem(NULL, 0, "nothing", &b, &err), -ENOEXEC);
        assert_non_null(strstr(err.msg, "nothing"));
}

/* Not a regular file: no size to check the layout against, so no ELF facts. And a caller's
 * size that the file does not have (/dev/null reads nothing) is no ELF file either. */
static void
test_not_regular(void **state)
{
        struct nvh_elf_info info = {0};
        struct nvh_err err = {0};
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(nvh_elf_read_fd(p[0], "a-pipe", &info, &err), -ENOEXEC);
        assert_non_null(strstr(err.msg, "a-pipe"));
        close(p[0]);
        close(p[1]);

        _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(nvh_elf_read_fd_size(fd, 4096, "/dev/null", &info, &err), -ENOEXEC);
        assert_non_null(strstr(err.msg, "/dev/null"));
        assert_null(info.needed);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fixture_64),        cmocka_unit_test(test_fixture_32),
            cmocka_unit_test(test_gcc_library),       cmocka_unit_test(test_abi_note),
            cmocka_unit_test(test_not_elf),           cmocka_unit_test(test_truncated),
            cmocka_unit_test(test_bad_string_offset), cmocka_unit_test(test_mem),
            cmocka_unit_test(test_not_regular),
        };
        tu_fixtures();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
