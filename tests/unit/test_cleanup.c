/* SPDX-License-Identifier: Apache-2.0 */
/* The cleanup family each header exports (dir, pid, json, driver, spec, state, conf, ELF facts)
 * and the errno-capturing error sites: what leaves scope is released, a NULL is fine, and a
 * failed call's message is "<what>: <strerror>" with its negative errno. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "driver.h"
#include "elf.h"
#include "fileio.h"
#include "json.h"
#include "macros.h"
#include "oci.h"

static int
dir_scope(void)
{
        _cleanup_closedir_ DIR *d = opendir("/");

        assert_non_null(d);
        return dirfd(d);
}

static void
test_closedir(void **state)
{
        int fd = dir_scope();

        errno = 0;
        assert_int_equal(fcntl(fd, F_GETFD), -1);
        assert_int_equal(errno, EBADF);
        {
                _cleanup_closedir_ DIR *none = NULL;
                (void)none;
        }
}

static pid_t
child_scope(bool keep)
{
        _cleanup_pid_ pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        return keep ? TAKE_PID(pid) : pid;
}

static void
test_pid(void **state)
{
        pid_t pid = child_scope(false);

        /* killed and reaped: not even a zombie is left */
        errno = 0;
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);

        pid = child_scope(true);
        assert_int_equal(kill(pid, 0), 0);
        {
                _cleanup_pid_ pid_t owner = pid;
                (void)owner;
        }
        errno = 0;
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
}

static void
test_null_handles(void **state)
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        _cleanup_spec_ struct nvh_oci_spec *spec = NULL;
        _cleanup_state_ struct nvh_oci_state *st = NULL;
        _cleanup_conf_ struct nvh_conf *conf = NULL;
        _cleanup_elf_info_ struct nvh_elf_info info = {0};
        _cleanup_pid_ pid_t pid = 0;
        struct nvh_err err = {0};
        static const char json[] = "{\"ociVersion\": \"1.0.2\", \"id\": \"c\", \"status\": "
                                   "\"creating\", \"pid\": 1, \"bundle\": \"/b\"}";

        /* a real object is released by the same macro (leaks show under the sanitizers) */
        assert_int_equal(nvh_oci_state_parse(json, strlen(json), &st, &err), 0);
        assert_string_equal(st->id, "c");
        (void)j, (void)drv, (void)spec, (void)conf, (void)info, (void)pid;
}

static void
test_errno_message(void **state)
{
        struct nvh_err err = {0};
        char *buf = NULL;
        const char *dir = tu_tmpdir();
        _cleanup_close_ int dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char want[256];

        assert_true(dir_fd >= 0);
        assert_int_equal(nvh_fileio_read_at(dir_fd, "missing", 16, 1, &buf, NULL, &err), -ENOENT);
        assert_int_equal(err.code, -ENOENT);
        snprintf(want, sizeof(want), "open 'missing': %s", strerror(ENOENT));
        assert_string_equal(err.msg, want);
        assert_null(buf);

        /* a directory opens but cannot be read: the read's errno, not the open's */
        assert_int_equal(mkdirat(dir_fd, "d", 0700), 0);
        assert_int_equal(nvh_fileio_read_at(dir_fd, "d", 16, 1, &buf, NULL, &err), -EISDIR);
        snprintf(want, sizeof(want), "read 'd': %s", strerror(EISDIR));
        assert_string_equal(err.msg, want);
}

/* Reads sized from the file: a large file in one buffer (prefaulted), exact bytes, the limit
 * still enforced, and a procfs file (it reports size 0) still read whole. */
static void
test_read_sizes(void **state)
{
        struct nvh_err err = {0};
        const char *dir = tu_tmpdir();
        _cleanup_close_ int dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        size_t big = (NVH_FILEIO_PREFAULT_MIN * 3) + 17, len = 0;
        _cleanup_free_ char *want = malloc(big), *buf = NULL;
        (void)state;

        assert_true(dir_fd >= 0 && want);
        for (size_t i = 0; i < big; i++)
                want[i] = (char)('a' + i % 26);
        _cleanup_close_ int fd = openat(dir_fd, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, want, big), (ssize_t)big);
        assert_int_equal(nvh_fileio_read_at(dir_fd, "big", big, 1, &buf, &len, &err), 0);
        assert_int_equal(len, big);
        assert_memory_equal(buf, want, big);
        assert_int_equal(buf[len], '\0');
        free(TAKE_PTR(buf));
        assert_int_equal(nvh_fileio_read_at(dir_fd, "big", big - 1, 1, &buf, &len, &err), -E2BIG);
        assert_null(buf);
        /* procfs reports size 0 and still has content */
        assert_int_equal(
            nvh_fileio_read_at(AT_FDCWD, "/proc/self/status", 1 << 20, 1, &buf, &len, &err), 0);
        assert_true(len > 0 && strstr(buf, "Pid:"));
        /* a buffer too small for the prefault is left alone; a NULL one too */
        nvh_fileio_prefault(want, 10);
        nvh_fileio_prefault(NULL, 0);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_closedir),     cmocka_unit_test(test_pid),
            cmocka_unit_test(test_null_handles), cmocka_unit_test(test_errno_message),
            cmocka_unit_test(test_read_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
