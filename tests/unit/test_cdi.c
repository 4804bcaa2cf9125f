/* SPDX-License-Identifier: Apache-2.0 */
/* CDI hand-off: the --cdi-device tokens of nvhook's hook entries in config.json, and the
 * request they make (trusted, ahead of mounts and env; one lead run, the others defer). */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cdi.h"
#include "macros.h"
#include "oci.h"
#include "request.h"

#define HOOK(dev)                                                                                  \
        "{\"path\":\"/usr/bin/"                                                                    \
        "nvhook\",\"args\":[\"nvhook\",\"createRuntime\",\"--cdi-device\",\"" dev "\"]}"

static const char spec_two[] =
    "{\"root\":{\"path\":\"rootfs\"},"
    "\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=3\"]},"
    "\"mounts\":[{\"destination\":\"/var/run/nvidia-container-devices/5\",\"source\":\"/dev/"
    "null\"}],"
    "\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/"
    "other\",\"args\":[\"x\",\"--cdi-device\",\"9\"]}],"
    "\"createRuntime\":[" HOOK("1") "," HOOK("GPU-ABCDEF01-2345-6789-ABCD-EF0123456789") "," HOOK(
        "1") "]}}";

static char **
devices_of(const char *buf)
{
        char **v = NULL;
        struct nvh_err err = {0};

        assert_int_equal(nvh_cdi_hook_devices(buf, strlen(buf), &v, &err), 0);
        assert_non_null(v);
        return v;
}

static void
test_hook_devices(void **state)
{
        char **v;

        (void)state;
        v = devices_of(spec_two);
        /* In order, deduplicated, only nvhook's entries. */
        assert_string_equal(v[0], "1");
        assert_string_equal(v[1], "GPU-ABCDEF01-2345-6789-ABCD-EF0123456789");
        assert_null(v[2]);
        strv_free(v);
        v = devices_of("{\"root\":{\"path\":\"r\"}}");
        assert_null(v[0]);
        strv_free(v);
        v = devices_of("not json");
        assert_null(v[0]);
        strv_free(v);
        v = devices_of("{\"hooks\":{\"createRuntime\":[{\"path\":\"/x/nvhook\",\"args\":"
                       "[\"nvhook\",\"--cdi-device\"]}]}}");
        assert_null(v[0]);
        strv_free(v);
}

static struct nvh_request *
parse(const char *self, int want_rc, struct nvh_err *err)
{
        struct nvh_request_policy policy = {.accept_env_unprivileged = true,
                                            .accept_device_mounts = true,
                                            .allowed_caps = NVH_CAP_ALL};
        struct nvh_oci_spec *spec = NULL;
        struct nvh_request *req = NULL;
        char **devs = devices_of(spec_two);
        int r;

        assert_int_equal(nvh_oci_spec_parse(spec_two, strlen(spec_two), "/b", &spec, err), 0);
        policy.cdi_devices = devs;
        policy.cdi_self = self;
        r = nvh_request_parse(spec, &policy, &req, err);
        assert_int_equal(r, want_rc);
        nvh_oci_spec_free(spec);
        strv_free(devs);
        return req;
}

static void
test_request_lead(void **state)
{
        struct nvh_err err = {0};
        struct nvh_request *req;

        (void)state;
        /* The lead run (and explain, self NULL) injects both devices; env and mounts lose. */
        for (int i = 0; i < 2; i++) {
                req = parse(i ? NULL : "1", 0, &err);
                assert_true(req->gpu_container);
                assert_string_equal(req->source, "cdi");
                assert_int_equal(req->sel, NVH_DEVSEL_LIST);
                assert_string_equal(req->devices[0], "1");
                assert_string_equal(req->devices[1], "GPU-abcdef01-2345-6789-abcd-ef0123456789");
                assert_null(req->devices[2]);
                nvh_request_free(req);
        }
        /* Another device's run, and a run without --cdi-device (hooks.d), defer. */
        req = parse("GPU-ABCDEF01-2345-6789-ABCD-EF0123456789", 0, &err);
        assert_false(req->gpu_container);
        assert_non_null(strstr(req->note, "injects"));
        nvh_request_free(req);
        req = parse("", 0, &err);
        assert_false(req->gpu_container);
        nvh_request_free(req);
}

static void
test_request_tokens(void **state)
{
        struct nvh_request_policy policy = {.allowed_caps = NVH_CAP_ALL};
        char *all[] = {"all", "0", NULL}, *bad[] = {"0", "bogus", NULL};
        const char *spec_text = "{\"root\":{\"path\":\"r\"}}";
        struct nvh_oci_spec *spec = NULL;
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};

        (void)state;
        assert_int_equal(nvh_oci_spec_parse(spec_text, strlen(spec_text), "/b", &spec, &err), 0);
        policy.cdi_devices = all;
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), 0);
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        nvh_request_free(req);
        req = NULL;
        policy.cdi_devices = bad;
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "'bogus'"));
        nvh_oci_spec_free(spec);
}

static void
test_names(void **state)
{
        (void)state;
        assert_true(nvh_cdi_name_ok("0"));
        assert_true(nvh_cdi_name_ok("0:1"));
        assert_true(nvh_cdi_name_ok("GPU-f2970313-eeec"));
        assert_false(nvh_cdi_name_ok(""));
        assert_false(nvh_cdi_name_ok("-x"));
        assert_false(nvh_cdi_name_ok("a/b"));
        assert_true(nvh_cdi_is_nvhook("/usr/bin/nvhook"));
        assert_true(nvh_cdi_is_nvhook("nvhook"));
        assert_false(nvh_cdi_is_nvhook("/usr/bin/nvhook-runtime"));
        assert_false(nvh_cdi_is_nvhook(NULL));
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hook_devices),
            cmocka_unit_test(test_request_lead),
            cmocka_unit_test(test_request_tokens),
            cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
