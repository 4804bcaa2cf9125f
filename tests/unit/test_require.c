/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA_REQUIRE_* language: precedence, operators, version order, laziness, errors.
 * Facts come from a table here: the real ones need a GPU driver (tested on the device). */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "require.h"

struct facts {
        const char *cuda, *driver, *arch, *brand;
        int calls_cuda, calls_driver, calls_arch, calls_brand;
        int fail; /* return this from the callback when non-zero */
};

static int
fact_cb(void *userdata, const char *key, char *ret_value, size_t size, struct nvh_err *err)
{
        struct facts *f = userdata;
        const char *v = NULL;

        if (f->fail)
                return nvh_err_set(err, f->fail, "cannot get %s", key);
        if (strcmp(key, "cuda") == 0) {
                f->calls_cuda++;
                v = f->cuda;
        } else if (strcmp(key, "driver") == 0) {
                f->calls_driver++;
                v = f->driver;
        } else if (strcmp(key, "arch") == 0) {
                f->calls_arch++;
                v = f->arch;
        } else if (strcmp(key, "brand") == 0) {
                f->calls_brand++;
                v = f->brand;
        } else {
                fail_msg("unexpected key '%s'", key);
        }
        assert_int_equal(size, NVH_REQUIRE_FACT_MAX);
        snprintf(ret_value, size, "%s", v);
        return 0;
}

static void
assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static struct facts
h100(void)
{
        return (struct facts){
            .cuda = "13.0", .driver = "580.159.04", .arch = "9.0", .brand = "nvidia"};
}

static int
eval(struct facts *f, const char *expr, struct nvh_err *err)
{
        nvh_err_clear(err);
        return nvh_require_eval(expr, fact_cb, f, err);
}

static void
yes(const char *expr)
{
        struct facts f = h100();
        struct nvh_err err = {0};
        int r = eval(&f, expr, &err);

        if (r != 1)
                fail_msg("'%s' should hold: %d %s", expr, r, err.msg);
}

static void
no(const char *expr, const char *needle)
{
        struct facts f = h100();
        struct nvh_err err = {0};
        int r = eval(&f, expr, &err);

        if (r != 0)
                fail_msg("'%s' should not hold: %d %s", expr, r, err.msg);
        assert_int_equal(err.code, -EPERM);
        assert_contains(err.msg, "unsatisfied condition: ");
        assert_contains(err.msg, needle);
}

static void
bad(const char *expr, const char *needle)
{
        struct facts f = h100();
        struct nvh_err err = {0};

        assert_int_equal(nvh_require_validate(expr, &err), -EINVAL);
        assert_contains(err.msg, needle);
        assert_int_equal(eval(&f, expr, &err), -EINVAL);
        assert_contains(err.msg, needle);
        /* A malformed expression asks for no fact at all. */
        assert_int_equal(f.calls_cuda + f.calls_driver + f.calls_arch + f.calls_brand, 0);
}

static void
test_operators(void **state)
{
        yes("cuda=13.0");
        yes("cuda=13");
        yes("cuda=13.0.0");
        no("cuda!=13", "cuda!=13 (cuda is 13.0)");
        yes("cuda!=12.9");
        yes("cuda<13.1");
        no("cuda<13.0", "cuda<13.0");
        yes("cuda<=13.0");
        no("cuda<=12.99", "cuda<=12.99");
        yes("cuda>12.8");
        no("cuda>13.0", "cuda>13.0");
        yes("cuda>=13.0");
        yes("cuda>=11.0");
        no("cuda>=13.1", "cuda>=13.1 (cuda is 13.0)");
}

static void
test_versions_numeric(void **state)
{
        /* Numeric, component by component: 159 > 81, 04 = 4, 9 < 10. */
        yes("driver>=418.81");
        yes("driver>580.81.99");
        yes("driver=580.159.4");
        yes("driver<580.159.10");
        no("driver>=580.160", "driver>=580.160 (driver is 580.159.04)");
        yes("driver<581");
        yes("arch=9.0");
        yes("arch>=8.0,arch<10");
        no("arch<9", "arch<9 (arch is 9.0)");

        int cmp = 42;
        assert_int_equal(nvh_require_version_cmp("580.159.04", "418.81", &cmp), 0);
        assert_int_equal(cmp, 1);
        assert_int_equal(nvh_require_version_cmp("10.2", "10.10", &cmp), 0);
        assert_int_equal(cmp, -1);
        assert_int_equal(nvh_require_version_cmp("11", "11.0.0", &cmp), 0);
        assert_int_equal(cmp, 0);
        assert_int_equal(nvh_require_version_cmp("1.2.3.4.5.6.7.8", "1.2.3.4.5.6.7.9", &cmp), 0);
        assert_int_equal(cmp, -1);
        assert_int_equal(nvh_require_version_cmp("1.2.3.4.5.6.7.8.9", "1", &cmp), -EINVAL);
        assert_int_equal(nvh_require_version_cmp("1..2", "1", &cmp), -EINVAL);
        assert_int_equal(nvh_require_version_cmp("1.", "1", &cmp), -EINVAL);
        assert_int_equal(nvh_require_version_cmp("", "1", &cmp), -EINVAL);
        assert_int_equal(nvh_require_version_cmp("1", "1234567890123456789", &cmp), -EINVAL);
        assert_int_equal(nvh_require_version_cmp("1", "123456789012345678", &cmp), 0);
        assert_int_equal(cmp, -1);
}

static void
test_brand(void **state)
{
        yes("brand=nvidia");
        yes("brand=NVIDIA");
        yes("brand!=tesla");
        no("brand=tesla", "brand=tesla (brand is nvidia)");
        no("brand!=Nvidia", "brand!=Nvidia");
        yes("BRAND=nvidia");
        yes("Cuda>=12");
}

/* Space is OR, comma is AND, and AND binds tighter. */
static void
test_precedence(void **state)
{
        /* The form CUDA images use: cuda>=12.2 OR (brand=tesla AND 470.x driver) OR ... */
        yes("cuda>=11.0 brand=tesla,driver>=418,driver<419");
        yes("cuda>=99 brand=nvidia,driver>=580,driver<581");
        no("cuda>=99 brand=tesla,driver>=580",
           "cuda>=99 (cuda is 13.0); brand=tesla (brand is nvidia)");
        no("cuda>=99 brand=nvidia,driver>=580,driver<419",
           "cuda>=99 (cuda is 13.0); driver<419 (driver is 580.159.04)");
        /* If comma were OR, this would hold; if space were AND, the first would. */
        no("cuda>=13,driver<500", "driver<500");
        yes("driver<500 cuda>=13");
        /* Repeated separators and tabs are just separators; empty terms are skipped. */
        yes("  cuda>=1,,driver>=1 \t ,, ");
        yes("");
        yes("   ");
        yes(",,,");
        /* A trailing empty group does not make a failing expression hold. */
        no("cuda>=99 ,,,", "cuda>=99");
}

static void
test_lazy_facts(void **state)
{
        struct nvh_err err = {0};
        struct facts f = h100();

        /* Only the driver is asked: the first group holds, so cuda is never fetched. */
        assert_int_equal(eval(&f, "driver>=500 cuda>=13", &err), 1);
        assert_int_equal(f.calls_driver, 1);
        assert_int_equal(f.calls_cuda, 0);
        assert_int_equal(f.calls_brand + f.calls_arch, 0);

        /* A failing term skips the rest of its group; each fact is fetched once. */
        f = h100();
        assert_int_equal(eval(&f, "driver<500,cuda>=1 driver<400,cuda>=1 driver>=1,brand=x", &err),
                         0);
        assert_int_equal(f.calls_driver, 1);
        assert_int_equal(f.calls_cuda, 0);
        assert_int_equal(f.calls_brand, 1);
        assert_contains(err.msg, "driver<500");
        assert_contains(err.msg, "driver<400");
        assert_contains(err.msg, "brand=x (brand is nvidia)");

        f = h100();
        assert_int_equal(eval(&f, "cuda>=1,cuda>=2,cuda<99", &err), 1);
        assert_int_equal(f.calls_cuda, 1);
}

static void
test_fact_errors(void **state)
{
        struct nvh_err err = {0};
        struct facts f = h100();

        f.fail = -ENOENT;
        assert_int_equal(eval(&f, "cuda>=1", &err), -ENOENT);
        assert_contains(err.msg, "cannot get cuda");
        /* No fact needed: the callback is never called. */
        assert_int_equal(eval(&f, "", &err), 1);

        f = h100();
        f.cuda = "unknown";
        assert_int_equal(eval(&f, "cuda>=1", &err), -EINVAL);
        assert_contains(err.msg, "cuda is not a version: 'unknown'");

        assert_int_equal(nvh_require_eval("cuda>=1", NULL, NULL, &err), -EINVAL);
        assert_contains(err.msg, "missing fact callback");
}

static void
test_malformed(void **state)
{
        struct nvh_err err = {0};

        bad("cuda", "missing operator in requirement 'cuda'");
        bad(">=11", "missing key in requirement '>=11'");
        bad("cuda>=", "missing value in requirement 'cuda>='");
        bad("gpu>=1", "unknown key 'gpu' in requirement 'gpu>=1'");
        bad("cuda=>11", "invalid operator '=>' in requirement 'cuda=>11'");
        bad("cuda==11", "invalid operator '=='");
        bad("cuda<>11", "invalid operator '<>'");
        bad("cuda!11", "invalid operator '!'");
        bad("cuda>=11.", "invalid version in requirement 'cuda>=11.'");
        bad("cuda>=1..1", "invalid version in requirement 'cuda>=1..1'");
        bad("driver>=abc", "invalid version in requirement 'driver>=abc'");
        bad("driver>=-1", "invalid version in requirement 'driver>=-1'");
        bad("arch=9.0a", "invalid version in requirement 'arch=9.0a'");
        bad("brand>=tesla", "operator '>=' does not apply to brand in requirement 'brand>=tesla'");
        bad("brand=tes;la", "invalid brand in requirement 'brand=tes;la'");
        bad("cuda>=1=2", "invalid version in requirement 'cuda>=1=2'");
        /* Malformed terms anywhere fail, even after a group that would hold. */
        bad("cuda>=1 driver>>1", "invalid operator '>>' in requirement 'driver>>1'");
        bad("cuda>=1,bogus", "missing operator in requirement 'bogus'");

        assert_int_equal(nvh_require_validate("cuda>=12.2 brand=tesla,driver>=470,driver<471 "
                                              "brand=unknown,driver>=470,driver<471",
                                              &err),
                         0);
        assert_int_equal(nvh_require_validate(NULL, &err), -EINVAL);
}

static void
test_size_limit(void **state)
{
        static char big[NVH_REQUIRE_EXPR_MAX + 2];
        struct nvh_err err = {0};

        memset(big, ' ', sizeof(big) - 1);
        assert_int_equal(nvh_require_validate(big, &err), -E2BIG);
        assert_contains(err.msg, "longer than");
        big[NVH_REQUIRE_EXPR_MAX] = '\0';
        assert_int_equal(nvh_require_validate(big, &err), 0);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_operators),  cmocka_unit_test(test_versions_numeric),
            cmocka_unit_test(test_brand),      cmocka_unit_test(test_precedence),
            cmocka_unit_test(test_lazy_facts), cmocka_unit_test(test_fact_errors),
            cmocka_unit_test(test_malformed),  cmocka_unit_test(test_size_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
