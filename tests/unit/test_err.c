/* SPDX-License-Identifier: Apache-2.0 */
/* Error messages quote image-controlled values: control bytes become visible "\xNN" escapes
 * (no terminal escape sequence reaches the user's terminal, one line always), UTF-8 passes. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static void
test_set_escapes_controls(void **state)
{
        struct nvh_err err = {0};
        const char *evil = "lib\x1b]0;owned\x07\x1b[2J\r\nx\x7f\ty";

        assert_int_equal(nvh_err_set(&err, -EINVAL, "bad soname '%s'", evil), -EINVAL);
        assert_string_equal(err.msg,
                            "bad soname 'lib\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x0ax\\x7f\\x09y'");
        for (const char *p = err.msg; *p; p++)
                assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void
test_utf8_kept(void **state)
{
        struct nvh_err err = {0};

        nvh_err_set(&err, -EINVAL, "bad path '%s'", "/opt/caf\xc3\xa9/\xe2\x9c\x93");
        assert_string_equal(err.msg, "bad path '/opt/caf\xc3\xa9/\xe2\x9c\x93'");
}

static void
test_prefix_escapes(void **state)
{
        struct nvh_err err = {0};

        nvh_err_set(&err, -ENOENT, "open '%s'", "a\x1b");
        assert_int_equal(nvh_err_prefix(&err, "device '%s'", "\x1b[31mred"), -ENOENT);
        assert_string_equal(err.msg, "device '\\x1b[31mred': open 'a\\x1b'");
}

static void
test_sys_escapes(void **state)
{
        struct nvh_err err = {0};

        assert_int_equal(nvh_err_sys(&err, -ENOENT, "open '%s'", "\x1b"), -ENOENT);
        assert_string_equal(err.msg, "open '\\x1b': No such file or directory");
}

/* A message of nothing but control bytes: truncated at a whole escape, always terminated. */
static void
test_truncation(void **state)
{
        struct nvh_err err = {0};
        char big[NVH_ERR_MSG_MAX * 2];

        memset(big, '\x1b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        nvh_err_set(&err, -EINVAL, "%s", big);
        assert_true(strlen(err.msg) < sizeof(err.msg));
        assert_int_equal(strlen(err.msg) % 4, 0);
        assert_int_equal(strncmp(err.msg + strlen(err.msg) - 4, "\\x1b", 4), 0);
}

/* Log lines (stderr, the kept warnings) are escaped the same way. */
static void
test_log_escapes(void **state)
{
        const char *const *w = NULL;
        char buf[256] = "";
        int fds[2], saved = dup(STDERR_FILENO);
        ssize_t n;

        assert_int_equal(pipe(fds), 0);
        dup2(fds[1], STDERR_FILENO);
        nvh_log_warn("image path '%s'", "/x\x1b]0;owned\x07\nsecond line");
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fds[1]);
        n = read(fds[0], buf, sizeof(buf) - 1);
        close(fds[0]);
        assert_true(n > 0);
        assert_string_equal(buf, "nvhook: warning: image path '/x\\x1b]0;owned\\x07\\x0asecond "
                                 "line'\n");
        assert_true(nvh_log_warnings(&w) >= 1);
        assert_string_equal(w[nvh_log_warnings(&w) - 1],
                            "image path '/x\\x1b]0;owned\\x07\\x0asecond line'");
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_set_escapes_controls), cmocka_unit_test(test_utf8_kept),
            cmocka_unit_test(test_prefix_escapes),       cmocka_unit_test(test_sys_escapes),
            cmocka_unit_test(test_truncation),           cmocka_unit_test(test_log_escapes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
